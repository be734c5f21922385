from django.urls import path

from . import notifications_api, views_notifications

app_name = "community_notifications"

urlpatterns = [
    path("notifications", views_notifications.notification_list, name="list"),
    path("notifications/read", views_notifications.mark_read, name="mark_read"),
    path("notifications/<int:notification_id>/open", views_notifications.open_notification, name="open"),
    path("settings/notifications", views_notifications.notification_settings, name="settings"),
    path("api/hub/notifications", notifications_api.Notifications.as_view(), name="api_list"),
    path("api/hub/notifications/read", notifications_api.MarkRead.as_view(), name="api_read"),
]

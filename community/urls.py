from django.urls import path

from . import views

app_name = "community"

urlpatterns = [
    path("user/<str:username>", views.user_profile, name="user_profile"),
    path("settings/api-keys", views.api_keys, name="api_keys"),
    path("settings/api-keys/<int:key_id>/revoke", views.revoke_api_key, name="revoke_api_key"),
]

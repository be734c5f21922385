from django.urls import path

from . import follow_views, follows_api, views

app_name = "community"

urlpatterns = [
    path("user/<str:username>", views.user_profile, name="user_profile"),
    path("settings/api-keys", views.api_keys, name="api_keys"),
    path("settings/api-keys/<int:key_id>/revoke", views.revoke_api_key, name="revoke_api_key"),
    path("feed/", follow_views.feed, name="feed"),
    path("follow/<str:target_type>/<int:target_id>", follow_views.follow_toggle, name="follow"),
    path("api/hub/follows", follows_api.Follows.as_view(), name="api_follows"),
    path("api/hub/follows/<int:follow_id>", follows_api.OneFollow.as_view(), name="api_follow"),
    path("api/hub/feed", follows_api.Feed.as_view(), name="api_feed"),
]

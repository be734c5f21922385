from django.urls import path

from . import comments_api, views_comments

app_name = "community_comments"

urlpatterns = [
    path("api/hub/comments", comments_api.Comments.as_view(), name="api_comments"),
    path("api/hub/comments/<int:comment_id>", comments_api.OneComment.as_view(), name="api_comment"),
    path("api/hub/comments/<int:comment_id>/pin", comments_api.CommentPin.as_view(), name="api_pin"),
    path("api/hub/reactions", comments_api.Reactions.as_view(), name="api_reactions"),
    path("comments/<str:target_type>/<int:target_id>", views_comments.section, name="section"),
    path("comments/<str:target_type>/<int:target_id>/post", views_comments.post, name="post"),
    path("comments/<int:comment_id>/edit", views_comments.edit, name="edit"),
    path("comments/<int:comment_id>/delete", views_comments.delete, name="delete"),
    path("comments/<int:comment_id>/pin", views_comments.pin, name="pin"),
    path("comments/<int:comment_id>/react", views_comments.react, name="react"),
]

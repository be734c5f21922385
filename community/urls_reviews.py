from django.urls import path

from . import reviews_api, views_reviews

app_name = "community_reviews"

urlpatterns = [
    path("api/hub/versions/<int:version_id>/review", reviews_api.VersionReview.as_view(), name="api_review"),
    path(
        "api/hub/versions/<int:version_id>/reviews", reviews_api.VersionReviews.as_view(), name="api_reviews"
    ),
    path("reviews/versions/<int:version_id>", views_reviews.review_version, name="review_version"),
    path("reviews/versions/<int:version_id>/all", views_reviews.version_reviews, name="version_reviews"),
    path("reviews/versions/<int:version_id>/delete", views_reviews.delete_review, name="delete_review"),
]

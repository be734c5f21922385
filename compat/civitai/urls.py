"""CivitAI's API v1 paths (docs/civitai-api.md#endpoints), included at the site root by hub/urls.py.

Ids are captured as strings so that junk reaches the view and gets a JSON 400, not an HTML 404.
"""

from django.urls import path

from . import views

urlpatterns = [
    path("api/v1/models", views.models_list, name="civitai_models"),
    path("api/v1/models/<str:model_id>", views.model_detail, name="civitai_model"),
    path("api/v1/model-versions/by-hash", views.versions_by_hashes, name="civitai_versions_by_hashes"),
    path("api/v1/model-versions/by-hash/ids", views.version_ids_by_hashes, name="civitai_version_ids"),
    # <path:...> so that any junk (an encoded "/") still reaches the view and gets JSON.
    path("api/v1/model-versions/by-hash/<path:hash>", views.version_by_hash, name="version_by_hash"),
    path("api/v1/model-versions/<str:version_id>", views.version_detail, name="civitai_version"),
    path("api/v1/images", views.images_list, name="civitai_images"),
    path("api/v1/tags", views.tags_list, name="civitai_tags"),
    path("api/v1/creators", views.creators_list, name="civitai_creators"),
    path("api/v1/me", views.me, name="civitai_me"),
    path("api/v1/enums", views.enums, name="civitai_enums"),
]

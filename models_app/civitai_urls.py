"""CivitAI's API v1 paths (DESIGN.md 8.2), included at the site root by hub/urls.py.

Ids are captured as strings so that junk reaches the view and gets a JSON 400, not an HTML 404.
"""

from django.urls import path

from . import civitai_api

urlpatterns = [
    path("api/v1/models", civitai_api.models_list, name="civitai_models"),
    path("api/v1/models/<str:model_id>", civitai_api.model_detail, name="civitai_model"),
    path("api/v1/model-versions/by-hash", civitai_api.versions_by_hashes, name="civitai_versions_by_hashes"),
    path("api/v1/model-versions/by-hash/ids", civitai_api.version_ids_by_hashes, name="civitai_version_ids"),
    # <path:...> so that any junk (an encoded "/") still reaches the view and gets JSON.
    path("api/v1/model-versions/by-hash/<path:hash>", civitai_api.version_by_hash, name="version_by_hash"),
    path("api/v1/model-versions/<str:version_id>", civitai_api.version_detail, name="civitai_version"),
    path("api/v1/images", civitai_api.images_list, name="civitai_images"),
    path("api/v1/tags", civitai_api.tags_list, name="civitai_tags"),
    path("api/v1/creators", civitai_api.creators_list, name="civitai_creators"),
    path("api/v1/me", civitai_api.me, name="civitai_me"),
    path("api/v1/enums", civitai_api.enums, name="civitai_enums"),
]

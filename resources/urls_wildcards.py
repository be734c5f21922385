from django.urls import path

from . import wildcards_api

urlpatterns = [
    path(
        "api/hub/versions/<int:version_id>/wildcards",
        wildcards_api.VersionWildcards.as_view(),
        name="api_version_wildcards",
    ),
    path("api/hub/wildcards/expand", wildcards_api.ExpandWildcards.as_view(), name="api_wildcards_expand"),
    path("api/hub/wildcards/packs", wildcards_api.WildcardPacks.as_view(), name="api_wildcard_packs"),
]

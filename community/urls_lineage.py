from django.urls import path

from . import lineage_api, views_lineage

app_name = "community_lineage"

urlpatterns = [
    path(
        "api/hub/versions/<int:version_id>/lineage", lineage_api.VersionLineage.as_view(), name="api_lineage"
    ),
    path(
        "api/hub/versions/<int:version_id>/parents", lineage_api.VersionParents.as_view(), name="api_parents"
    ),
    path(
        "api/hub/versions/<int:version_id>/parents/<int:parent_id>",
        lineage_api.OneParent.as_view(),
        name="api_parent",
    ),
    path(
        "api/hub/versions/<int:version_id>/parents/<int:parent_id>/confirm",
        lineage_api.ConfirmParent.as_view(),
        name="api_confirm_parent",
    ),
    path("lineage/versions/<int:version_id>/parents", views_lineage.declare_parent, name="declare_parent"),
    path(
        "lineage/versions/<int:version_id>/parents/<int:parent_id>/confirm",
        views_lineage.confirm_parent,
        name="confirm_parent",
    ),
    path(
        "lineage/versions/<int:version_id>/parents/<int:parent_id>/remove",
        views_lineage.remove_parent,
        name="remove_parent",
    ),
]

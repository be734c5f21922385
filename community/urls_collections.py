"""Collections and profiles: pages and /api/hub/ (docs/collections.md, docs/profiles.md)."""

from django.urls import path, register_converter

from . import collection_views, collections_api, profile_views, profiles_api


class CollectionRef:
    """A collection's id, or `favorites` (the caller's own Favourites) in the API."""

    regex = "[0-9]+|favorites"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value) -> str:
        return str(value)


register_converter(CollectionRef, "collection_ref")

app_name = "community_collections"

urlpatterns = [
    path("collections/", collection_views.my_collections, name="my_collections"),
    path("collections/favorites", collection_views.my_favourites, name="my_favourites"),
    path("collections/<int:collection_id>", collection_views.collection_detail, name="collection"),
    path("collections/<int:collection_id>/edit", collection_views.edit_collection, name="edit_collection"),
    path(
        "collections/<int:collection_id>/delete", collection_views.delete_collection, name="delete_collection"
    ),
    path(
        "collections/<int:collection_id>/items/<int:item_id>/remove",
        collection_views.remove_item,
        name="remove_collection_item",
    ),
    path("favourite/<str:item_type>/<int:item_id>", collection_views.favourite_toggle, name="favourite"),
    path(
        "collect/<str:item_type>/<int:item_id>",
        collection_views.save_to_collection,
        name="save_to_collection",
    ),
    path("settings/profile", profile_views.edit_profile, name="edit_profile"),
    path("api/hub/collections", collections_api.Collections.as_view(), name="api_collections"),
    path(
        "api/hub/collections/<collection_ref:collection_id>",
        collections_api.OneCollection.as_view(),
        name="api_collection",
    ),
    path(
        "api/hub/collections/<collection_ref:collection_id>/items",
        collections_api.CollectionItems.as_view(),
        name="api_collection_items",
    ),
    path(
        "api/hub/collections/<collection_ref:collection_id>/items/<int:item_id>",
        collections_api.OneCollectionItem.as_view(),
        name="api_collection_item",
    ),
    path("api/hub/users/<str:username>", profiles_api.PublicProfile.as_view(), name="api_user"),
    path("api/hub/profile", profiles_api.OwnProfile.as_view(), name="api_profile"),
    path("api/hub/profile/avatar", profiles_api.OwnAvatar.as_view(), name="api_avatar"),
]

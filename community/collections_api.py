"""/api/hub/collections (docs/collections.md#api): the same services as the pages
(community/collections.py), with an API key (or the session). `favorites` stands for the caller's
Favourites wherever a collection id goes."""

from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from models_app.api import DetailOutput, error_responses
from models_app.dates import iso_z

from . import collections
from .models import (
    MAX_COLLECTION_DESCRIPTION_LENGTH,
    MAX_COLLECTION_NAME_LENGTH,
    CollectionItem,
    CollectionVisibility,
)

FAVORITES = "favorites"

COLLECTION_ID = OpenApiParameter(
    "collection_id",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="A collection's id, or `favorites` for your own Favourites (made on first use).",
)


TOO_MANY = OpenApiResponse(DetailOutput, description="More than COLLECTION_RATE_LIMIT writes a minute.")


class CollectionInput(serializers.Serializer):
    name = serializers.CharField(max_length=MAX_COLLECTION_NAME_LENGTH)
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=MAX_COLLECTION_DESCRIPTION_LENGTH
    )
    visibility = serializers.ChoiceField(
        choices=CollectionVisibility.values, default=CollectionVisibility.PUBLIC
    )


class CollectionPatchInput(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=MAX_COLLECTION_NAME_LENGTH)
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=MAX_COLLECTION_DESCRIPTION_LENGTH
    )
    visibility = serializers.ChoiceField(choices=CollectionVisibility.values, required=False)


class CollectionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    owner = serializers.CharField(help_text="The owner's username.")
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True, help_text="Plain text, as written.")
    visibility = serializers.ChoiceField(choices=CollectionVisibility.values)
    is_favorites = serializers.BooleanField(help_text="The built-in Favourites: can't be renamed or deleted.")
    item_count = serializers.IntegerField(help_text="Items in it, including those you may not see.")
    url = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class CollectionsOutput(serializers.Serializer):
    items = CollectionOutput(many=True)


class ItemInput(serializers.Serializer):
    item_type = serializers.ChoiceField(choices=list(collections.ITEM_TYPES))
    item_id = serializers.IntegerField(min_value=1)


class ItemOutput(serializers.Serializer):
    id = serializers.IntegerField(help_text="The item's id in the collection (for DELETE .../items/<id>).")
    item_type = serializers.ChoiceField(choices=list(collections.ITEM_TYPES))
    item_id = serializers.IntegerField(help_text="The model's, version's or image's id.")
    name = serializers.CharField()
    url = serializers.CharField()
    added_at = serializers.DateTimeField()


class ItemPageOutput(serializers.Serializer):
    items = ItemOutput(many=True)
    count = serializers.IntegerField(help_text="Items you may see.")
    next_page = serializers.IntegerField(allow_null=True, help_text="Pass as `page` for the next page.")


def _refused(refused: collections.CollectionRefused) -> Response:
    return Response(refused.body(), status=refused.status)


def _collection(request, collection_id: str, *, write: bool = False):
    if collection_id == FAVORITES:
        if not request.user.is_authenticated:
            raise NotAuthenticated
        return collections.favourites_of(request.user, create=True)
    if not collection_id.isdigit():
        raise Http404
    if write:
        return collections.writable_collection(request.user, collection_id)
    return collections.viewable_collection(request.user, collection_id)


def _with_count(collection) -> dict:
    return collections.collection_json(collection, item_count=collection.items.count())


def item_json(item: CollectionItem) -> dict:
    if item.model_id:
        name, url = item.model.name, item.model.get_absolute_url()
    elif item.version_id:
        name = f"{item.version.model.name} {item.version.name}"
        url = f"{item.version.model.get_absolute_url()}#version-{item.version_id}"
    else:
        name, url = item.image.name, item.image.get_absolute_url()
    return {
        "id": item.id,
        "item_type": item.item_type,
        "item_id": item.target_id,
        "name": name,
        "url": url,
        "added_at": iso_z(item.created_at),
    }


class Collections(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="list_collections",
        summary="A user's collections",
        description="`owner=<username>`: that user's public collections (all of them when it is you). "
        "Without `owner`: your own, Favourites first (401 when anonymous).",
        tags=["collections"],
        parameters=[OpenApiParameter("owner", str, description="A username.")],
        responses={200: CollectionsOutput, **error_responses(401, 404)},
    )
    def get(self, request):
        username = request.query_params.get("owner", "").strip()
        if username:
            owner = get_user_model().objects.filter(username=username, is_active=True).first()
            if owner is None:
                raise Http404
        elif request.user.is_authenticated:
            owner = request.user
        else:
            raise NotAuthenticated
        rows = collections.collections_of(owner, request.user).select_related("owner")[:1000]
        return Response({"items": [collections.collection_json(c) for c in rows]})

    @extend_schema(
        operation_id="create_collection",
        summary="Create a collection",
        tags=["collections"],
        request=CollectionInput,
        responses={201: CollectionOutput, **error_responses(400, 401, 403), 429: TOO_MANY},
    )
    def post(self, request):
        if not request.user.is_authenticated:
            raise NotAuthenticated
        data = CollectionInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            collection = collections.create_collection(owner=request.user, **data.validated_data)
        except collections.CollectionRefused as refused:
            return _refused(refused)
        return Response(collections.collection_json(collection, item_count=0), status=status.HTTP_201_CREATED)


class OneCollection(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="get_collection",
        summary="One collection",
        description="Public collections for anyone; a private one answers 404 to everyone but its owner.",
        tags=["collections"],
        parameters=[COLLECTION_ID],
        responses={200: CollectionOutput, **error_responses(401, 404)},
    )
    def get(self, request, collection_id: str):
        return Response(_with_count(_collection(request, collection_id)))

    @extend_schema(
        operation_id="update_collection",
        summary="Rename, describe or change the visibility of your collection",
        description="Only the fields given change. Favourites can't be renamed (400). Someone else's "
        "collection: 403 (404 when it is private).",
        tags=["collections"],
        parameters=[COLLECTION_ID],
        request=CollectionPatchInput,
        responses={200: CollectionOutput, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request, collection_id: str):
        if not request.user.is_authenticated:
            raise NotAuthenticated
        data = CollectionPatchInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            collection = _collection(request, collection_id, write=True)
            collections.update_collection(collection=collection, by=request.user, changes=data.validated_data)
        except collections.CollectionRefused as refused:
            return _refused(refused)
        return Response(_with_count(collection))

    @extend_schema(
        operation_id="delete_collection",
        summary="Delete your collection",
        description="Its items go with it; the models, versions and images stay. Favourites can't be "
        "deleted (400).",
        tags=["collections"],
        parameters=[COLLECTION_ID],
        responses={204: None, **error_responses(400, 401, 403, 404)},
    )
    def delete(self, request, collection_id: str):
        if not request.user.is_authenticated:
            raise NotAuthenticated
        try:
            collection = _collection(request, collection_id, write=True)
            collections.delete_collection(collection=collection, by=request.user)
        except collections.CollectionRefused as refused:
            return _refused(refused)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _target(request) -> dict:
    data = ItemInput(data=request.data)
    data.is_valid(raise_exception=True)
    target = collections.find_target(
        request.user, data.validated_data["item_type"], data.validated_data["item_id"]
    )
    if target is None:
        raise Http404
    return target


class CollectionItems(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="list_collection_items",
        summary="A collection's items, newest first",
        description=f"{collections.PAGE_SIZE} a page. Items you may not see (drafts, unpublished or "
        "hidden things) are not listed.",
        tags=["collections"],
        parameters=[COLLECTION_ID, OpenApiParameter("page", int, description="1 or more.", default=1)],
        responses={200: ItemPageOutput, **error_responses(400, 401, 404)},
    )
    def get(self, request, collection_id: str):
        collection = _collection(request, collection_id)
        try:
            number = int(request.query_params.get("page", "1"))
        except ValueError:
            number = 0
        if number < 1:
            return Response({"detail": "page must be a whole number, 1 or more."}, status=400)
        visible = collections.visible_items(collection, request.user).select_related(
            "model", "version__model", "image"
        )
        paginator = Paginator(visible, collections.PAGE_SIZE)
        page = paginator.get_page(number) if number <= max(paginator.num_pages, 1) else None
        return Response(
            {
                "items": [item_json(i) for i in (page.object_list if page else [])],
                "count": paginator.count,
                "next_page": number + 1 if page and page.has_next() else None,
            }
        )

    @extend_schema(
        operation_id="add_collection_item",
        summary="Add a model, version or image to your collection",
        description="201 with the item; 200 when it is already there. A model added to Favourites "
        "counts in its like count. Someone else's collection: 403; a thing you may not see: 404.",
        tags=["collections"],
        parameters=[COLLECTION_ID],
        request=ItemInput,
        responses={201: ItemOutput, 200: ItemOutput, **error_responses(400, 401, 403, 404), 429: TOO_MANY},
    )
    def post(self, request, collection_id: str):
        if not request.user.is_authenticated:
            raise NotAuthenticated
        try:
            collection = _collection(request, collection_id, write=True)
            target = _target(request)
            item, created = collections.add_item(collection=collection, by=request.user, target=target)
        except collections.CollectionRefused as refused:
            return _refused(refused)
        item = CollectionItem.objects.select_related("model", "version__model", "image").get(id=item.id)
        return Response(item_json(item), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        operation_id="remove_collection_item_by_target",
        summary="Remove a model, version or image from your collection",
        description="204 whether or not it was there.",
        tags=["collections"],
        parameters=[COLLECTION_ID],
        request=ItemInput,
        responses={204: None, **error_responses(400, 401, 403, 404)},
    )
    def delete(self, request, collection_id: str):
        if not request.user.is_authenticated:
            raise NotAuthenticated
        try:
            collection = _collection(request, collection_id, write=True)
            data = ItemInput(data=request.data)
            data.is_valid(raise_exception=True)
            kind = data.validated_data["item_type"]
            target = {f"{kind}_id": data.validated_data["item_id"]}  # no visibility check: removing is fine
            collections.remove_item(collection=collection, by=request.user, target=target)
        except collections.CollectionRefused as refused:
            return _refused(refused)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OneCollectionItem(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="remove_collection_item",
        summary="Remove an item from your collection, by the item's id",
        tags=["collections"],
        parameters=[COLLECTION_ID],
        responses={204: None, **error_responses(401, 403, 404)},
    )
    def delete(self, request, collection_id: str, item_id: int):
        try:
            collection = _collection(request, collection_id, write=True)
            item = CollectionItem.objects.filter(collection=collection, id=item_id).first()
            if item is None:
                raise Http404
            collections.remove_item(collection=collection, by=request.user, item=item)
        except collections.CollectionRefused as refused:
            return _refused(refused)
        return Response(status=status.HTTP_204_NO_CONTENT)

"""Collections (docs/collections.md): public or private lists of models, versions and images, and the
built-in "Favourites" of every user, whose models make each model's like_count.

Pages (community/collection_views.py), the API (community/collections_api.py) and CivitAI's
`favorites=true` (compat/civitai) all go through these functions.

like_count is kept by deltas: adding a model to favourites adds 1 with an F() update in the same
transaction that inserts the item, removing it subtracts 1 in the transaction that deletes it. The
partial unique constraint (one item per model per collection) and the one-favourites-per-user
constraint make "the item was inserted / deleted" happen exactly once per user, so the count is the
number of users whose favourites hold the model, also under concurrent clicks
(docs/collections.md#like-count)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

import billing
from models_app import rate_limits, selectors
from models_app.compiled import Built
from models_app.models import AIModel, ModelVersion, PublishStatus
from resources.images import in_levels, visible_images

from .models import (
    MAX_COLLECTION_DESCRIPTION_LENGTH,
    MAX_COLLECTION_NAME_LENGTH,
    Collection,
    CollectionItem,
    CollectionStatus,
    CollectionVisibility,
)
from .refusals import Refused, check_text

ITEM_TYPES = ("model", "version", "image")
MAX_COLLECTIONS_PER_USER = 200
MAX_ITEMS_PER_COLLECTION = 5000
PAGE_SIZE = 24


class CollectionRefused(Refused):
    """A collections write refused: status and sentence (community/refusals.py)."""


# --- Reads


def viewable_collection(user, collection_id) -> Collection:
    """The collection if `user` may see it (public and not hidden, or theirs), else Http404: a private
    or hidden collection is not confirmed to exist."""
    try:
        collection_id = int(collection_id)
    except (TypeError, ValueError):
        raise Http404 from None
    collection = Collection.objects.select_related("owner").filter(id=collection_id).first()
    if collection is None or not collection.owner.is_active:
        raise Http404
    if not collection.is_public and collection.owner_id != getattr(user, "id", None):
        raise Http404
    return collection


def writable_collection(user, collection_id) -> Collection:
    """The collection if `user` owns it; 404 when they may not see it, 403 when they only may see it."""
    collection = viewable_collection(user, collection_id)
    if collection.owner_id != user.id:
        raise CollectionRefused(403, _("Only the owner of this collection can change it."))
    return collection


def collections_of(owner, viewer) -> QuerySet[Collection]:
    """`owner`'s collections that `viewer` may see, favourites first, then the most recently changed,
    with `item_count` (all items; the page shows those the viewer may see)."""
    rows = Collection.objects.filter(owner=owner)
    if getattr(viewer, "id", None) != owner.id:
        rows = rows.filter(visibility=CollectionVisibility.PUBLIC, status=CollectionStatus.VISIBLE)
    return rows.annotate(item_count=Count("items")).order_by("-is_favorites", "-updated_at", "-id")


def visible_items(collection: Collection, viewer, *, levels: int | None = None) -> QuerySet[CollectionItem]:
    """The items `viewer` may see, newest first: a model, version or image that is a draft, unpublished,
    deleted or hidden (to this viewer) is kept in the collection but not listed. `levels`: the
    viewer's browsing mask (models_app.preferences); items above it are left out too."""
    models = selectors.visible_models(viewer)
    if levels is not None:
        models = models.filter(selectors.in_levels(levels))
    versions = ModelVersion.objects.filter(model__in=models).exclude(status=PublishStatus.DELETED)
    if levels is not None:
        versions = versions.filter(selectors.in_levels(levels))
    images = visible_images(viewer) if levels is None else in_levels(visible_images(viewer), levels)
    if not selectors.can_moderate(viewer):
        # selectors.visible_versions' rule, for many models at once: the creator sees every version.
        rule = Q(status=PublishStatus.PUBLISHED)
        if viewer.is_authenticated:
            rule |= Q(model__owner=viewer)
        versions = versions.filter(rule)
    return (
        CollectionItem.objects.filter(collection=collection)
        .filter(
            Q(model__in=models.values("id"))
            | Q(version__in=versions.values("id"))
            | Q(image__in=images.values("id"))
        )
        .order_by("-created_at", "-id")
    )


def find_target(user, item_type: str, item_id) -> dict | None:
    """{"model": m} / {"version": v} / {"image": i} when `user` may see it, else None (404)."""
    try:
        item_id = int(item_id)
    except (TypeError, ValueError):
        return None
    if item_type == "model":
        model = selectors.visible_models(user).filter(id=item_id).first()
        return {"model": model} if model else None
    if item_type == "version":
        version = selectors.visible_version(user, item_id)
        return {"version": version} if version else None
    if item_type == "image":
        image = visible_images(user).filter(id=item_id).first()
        return {"image": image} if image else None
    return None


def favourites_of(user, *, create: bool = False) -> Collection | None:
    """`user`'s Favourites collection; made (private) on first use when `create`."""
    found = Collection.objects.filter(owner=user, is_favorites=True).first()
    if found or not create:
        return found
    try:
        with transaction.atomic():
            return Collection.objects.create(
                owner=user, name="Favourites", is_favorites=True, visibility=CollectionVisibility.PRIVATE
            )
    except IntegrityError:  # a concurrent first favourite made it
        return Collection.objects.get(owner=user, is_favorites=True)


def picker(user, target: dict) -> tuple[bool, list[tuple[Collection, bool]]]:
    """For the heart and the "Save to collection" picker, in one query: whether the target is in
    `user`'s favourites, and their other collections (the 100 most recently changed), each with
    whether it holds the target. No item is counted: a page's cost does not grow with the viewer's
    collections."""
    if not user.is_authenticated:
        return False, []
    ((key, item),) = target.items()
    rows = [
        (Collection(id=id_, name=name, is_favorites=is_favorites, owner_id=user.pk), holds)
        for id_, name, is_favorites, holds in _picker[key].rows(user.pk, item.pk)
    ]
    favourite = any(c.is_favorites and holds for c, holds in rows)
    return favourite, [(c, holds) for c, holds in rows if not c.is_favorites][:100]


def viewer_collects(viewer, model):
    """Whether `viewer` has any collection (Favourites included), as an expression on the model's
    row: read by models_app.page_cache's own-state query, so the picker of a kept model page asks
    nothing more of someone with none, as most people are."""
    return Exists(Collection.objects.filter(owner_id=viewer.pk))


def _picker_query(key: str):
    def build(user_id: int, item_id: int):
        holds = CollectionItem.objects.filter(collection=OuterRef("pk"), **{f"{key}_id": item_id})
        return (
            Collection.objects.filter(owner_id=user_id)
            .annotate(holds=Exists(holds))
            .order_by("-is_favorites", "-updated_at", "-id")  # Favourites, when made, comes first
            .values_list("id", "name", "is_favorites", "holds")[:101]
        )

    return Built(build)


# On every model page someone signed in opens: built once per kind of item (models_app/compiled.py).
_picker = {key: _picker_query(key) for key in ("model", "version", "image")}


def favourite_model_ids(user) -> list[int]:
    """The models in `user`'s favourites, most recently added first (CivitAI's favorites=true)."""
    return list(
        CollectionItem.objects.filter(
            collection__owner=user, collection__is_favorites=True, model__isnull=False
        )
        .order_by("-created_at", "-id")
        .values_list("model_id", flat=True)
    )


# --- Writes


def check_rate(user) -> None:
    """More than COLLECTION_RATE_LIMIT collection and profile writes this minute by `user`: 429."""
    if rate_limits.over_limit("collection-rate", user.id, settings.COLLECTION_RATE_LIMIT):
        raise CollectionRefused(429, _("Too many changes in a minute; wait a minute and try again."))


def _clean_name(name) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise CollectionRefused(400, _("Give the collection a name."))
    if len(name) > MAX_COLLECTION_NAME_LENGTH:
        raise CollectionRefused(
            400, _("A collection name is at most %(n)d characters.") % {"n": MAX_COLLECTION_NAME_LENGTH}
        )
    check_text(CollectionRefused, name=name)
    return name


def _clean_description(text) -> str:
    text = str(text or "").strip()
    if len(text) > MAX_COLLECTION_DESCRIPTION_LENGTH:
        raise CollectionRefused(
            400,
            _("A collection description is at most %(n)d characters.")
            % {"n": MAX_COLLECTION_DESCRIPTION_LENGTH},
        )
    check_text(CollectionRefused, description=text)
    return text


def _clean_visibility(value) -> str:
    if value not in CollectionVisibility.values:
        raise CollectionRefused(400, _("Visibility is public or private."))
    return value


@transaction.atomic
def create_collection(
    *, owner, name: str, description: str = "", visibility: str = CollectionVisibility.PUBLIC
) -> Collection:
    """A new collection of `owner`. Not idempotent: two calls make two collections, as two clicks of
    "New collection" would."""
    name, description, visibility = (
        _clean_name(name),
        _clean_description(description),
        _clean_visibility(visibility),
    )
    check_rate(owner)
    _lock_owner(owner)
    most = max(MAX_COLLECTIONS_PER_USER, billing.entitlements(owner).max_private_collections)
    if Collection.objects.filter(owner=owner).count() >= most:
        raise CollectionRefused(
            400, _("You have %(n)d collections, the most one person may have.") % {"n": most}
        )
    if visibility == CollectionVisibility.PRIVATE:
        _check_private_allowed(owner)
    return Collection.objects.create(owner=owner, name=name, description=description, visibility=visibility)


def _lock_owner(owner) -> None:
    """Two creations at once are counted one after the other (the owner's row is locked)."""
    list(get_user_model().objects.select_for_update().filter(pk=owner.pk).values_list("pk"))


def _check_private_allowed(owner, *, besides: Collection | None = None) -> None:
    """Refuse one more private collection past the owner's plan (entitlements; Favourites not counted)."""
    most = billing.entitlements(owner).max_private_collections
    private = Collection.objects.filter(
        owner=owner, visibility=CollectionVisibility.PRIVATE, is_favorites=False
    )
    if besides is not None:
        private = private.exclude(pk=besides.pk)
    if private.count() >= most:
        raise CollectionRefused(
            400,
            _(
                "You have %(n)d private collections, the most your plan allows; make one public, or see "
                "the pricing page for plans with more."
            )
            % {"n": most},
        )


@transaction.atomic
def update_collection(*, collection: Collection, by, changes: dict) -> Collection:
    """Renames, describes or changes the visibility of `by`'s collection; only the keys given change.
    Favourites keeps its name (it is the like count's list). Safe to repeat."""
    if collection.owner_id != by.id:
        raise CollectionRefused(403, _("Only the owner of this collection can change it."))
    fields = []
    if "name" in changes:
        name = _clean_name(changes["name"])
        if collection.is_favorites and name != collection.name:
            raise CollectionRefused(400, _("Favourites can't be renamed."))
        collection.name = name
        fields.append("name")
    if "description" in changes:
        collection.description = _clean_description(changes["description"])
        fields.append("description")
    if "visibility" in changes:
        visibility = _clean_visibility(changes["visibility"])
        if visibility == CollectionVisibility.PRIVATE and collection.visibility != visibility:
            _lock_owner(by)
            _check_private_allowed(by, besides=collection)
        collection.visibility = visibility
        fields.append("visibility")
    if fields:
        collection.updated_at = timezone.now()
        collection.save(update_fields=[*fields, "updated_at"])
    return collection


def delete_collection(*, collection: Collection, by) -> None:
    """Deletes `by`'s collection and its items (the things themselves stay). Favourites can't be
    deleted: it holds the like counts."""
    if collection.owner_id != by.id:
        raise CollectionRefused(403, _("Only the owner of this collection can delete it."))
    if collection.is_favorites:
        raise CollectionRefused(400, _("Favourites can't be deleted; remove its items instead."))
    collection.delete()


def _count_like(model_id: int | None, collection: Collection, delta: int) -> None:
    """A model entering (+1) or leaving (-1) someone's Favourites, in the caller's transaction; F()
    makes the database apply the delta to the current value, whatever others did meanwhile."""
    if collection.is_favorites and model_id is not None:
        AIModel.objects.filter(id=model_id).update(like_count=F("like_count") + delta)


def add_item(*, collection: Collection, by, target: dict) -> tuple[CollectionItem, bool]:
    """Adds a model, version or image to `by`'s collection; returns (item, created). Adding it again
    changes nothing (200 rather than 201). A model added to Favourites counts in its like_count, in the
    same transaction as the insert."""
    if collection.owner_id != by.id:
        raise CollectionRefused(403, _("Only the owner of this collection can change it."))
    existing = CollectionItem.objects.filter(collection=collection, **target).first()
    if existing:
        return existing, False
    check_rate(by)
    with transaction.atomic():
        # The collection row's lock orders concurrent adds and removes of one collection, so the size
        # limit holds and a duplicate insert below finds the row it collided with.
        locked = Collection.objects.select_for_update().get(id=collection.id)
        if CollectionItem.objects.filter(collection=locked).count() >= MAX_ITEMS_PER_COLLECTION:
            raise CollectionRefused(
                400, _("A collection holds at most %(n)d items.") % {"n": MAX_ITEMS_PER_COLLECTION}
            )
        try:
            with transaction.atomic():  # a savepoint: a concurrent add of the same thing
                item = CollectionItem.objects.create(collection=locked, **target)
        except IntegrityError:
            return CollectionItem.objects.get(collection=locked, **target), False
        _count_like(item.model_id, locked, +1)
        Collection.objects.filter(id=locked.id).update(updated_at=timezone.now())
    return item, True


def remove_item(
    *, collection: Collection, by, item: CollectionItem | None = None, target: dict | None = None
) -> bool:
    """Removes an item (by row, or by what it holds) from `by`'s collection; False when it was not
    there. Removing twice is fine. A model leaving Favourites leaves its like_count in the same
    transaction, and only when this call deleted the row."""
    if collection.owner_id != by.id:
        raise CollectionRefused(403, _("Only the owner of this collection can change it."))
    rows = CollectionItem.objects.filter(collection=collection)
    rows = rows.filter(id=item.id) if item is not None else rows.filter(**(target or {}))
    with transaction.atomic():
        # The collection row's lock first, as add_item takes it: adds and removes of one collection
        # run one after the other, so an add that meets a duplicate finds it still there.
        Collection.objects.select_for_update().filter(id=collection.id).first()
        found = rows.select_for_update().first()
        if found is None:
            return False
        deleted, _n = CollectionItem.objects.filter(id=found.id).delete()
        if deleted:
            _count_like(found.model_id, collection, -1)
    return bool(deleted)


def uncount_deleted_favourites(sender, instance: Collection, **kwargs) -> None:
    """pre_delete of a Collection (community/apps.py): a Favourites deleted with its owner's account
    takes its models out of their like counts, before the cascade deletes its items."""
    if instance.is_favorites:
        model_ids = CollectionItem.objects.filter(collection=instance, model__isnull=False).values("model_id")
        AIModel.objects.filter(id__in=model_ids).update(like_count=F("like_count") - 1)


def connect_signals() -> None:
    from django.db.models.signals import pre_delete

    pre_delete.connect(uncount_deleted_favourites, sender=Collection, dispatch_uid="uncount_favourites")


def set_favourite(*, user, target: dict, on: bool) -> bool:
    """Adds to or removes from `user`'s Favourites (made on first use); returns whether it is a
    favourite now."""
    favourites = favourites_of(user, create=on)
    if on:
        add_item(collection=favourites, by=user, target=target)
        return True
    if favourites is not None:
        remove_item(collection=favourites, by=user, target=target)
    return False


def collection_json(collection: Collection, *, item_count: int | None = None) -> dict:
    from models_app.dates import iso_z

    return {
        "id": collection.id,
        "owner": collection.owner.username,
        "name": collection.name,
        "description": collection.description,
        "visibility": collection.visibility,
        "is_favorites": collection.is_favorites,
        "item_count": item_count if item_count is not None else getattr(collection, "item_count", None),
        "url": f"/collections/{collection.id}",
        "created_at": iso_z(collection.created_at),
        "updated_at": iso_z(collection.updated_at),
    }

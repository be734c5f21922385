"""Follows and the feed (docs/follows.md): follow a creator or a model, and see their new published
versions and images, newest first. Pages (community/views.py) and the API (community/follows_api.py)
both go through these functions."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext

from models_app import rate_limits
from models_app.levels import in_filter
from models_app.models import ModelVersion, PublishStatus
from models_app.selectors import visible_models
from resources.images import in_levels, visible_images

from . import notifications
from .models import Follow

FEED_PAGE_SIZE = 30
MAX_FEED_PAGE = 50  # deeper pages cost more to merge; the feed is about what is new


class RateLimited(Exception):
    pass


def _over_rate_limit(user) -> bool:
    """More than FOLLOW_RATE_LIMIT follow writes this minute by this user."""
    return rate_limits.over_limit("follow-rate", user.id, settings.FOLLOW_RATE_LIMIT)


def find_target(user, target_type: str, target_id) -> dict | None:
    """{"creator": user} or {"model": model} when `user` may see it, else None (404: not confirmed)."""
    try:
        target_id = int(target_id)
    except (TypeError, ValueError):
        return None
    if target_type == "user":
        person = get_user_model().objects.filter(id=target_id, is_active=True).first()
        return {"creator": person} if person else None
    if target_type == "model":
        model = visible_models(user).filter(id=target_id).first()
        return {"model": model} if model else None
    return None


def follow(*, follower, target: dict) -> tuple[Follow, bool]:
    """Follow a creator or a model; returns (follow, created). Following again changes nothing."""
    if target.get("creator") is not None and target["creator"].id == follower.id:
        raise ValidationError(gettext("You can't follow yourself."))
    existing = Follow.objects.filter(follower=follower, **target).first()
    if existing:
        return existing, False
    if _over_rate_limit(follower):
        raise RateLimited(gettext("Too many follows in a minute; wait a minute and try again."))
    try:
        with transaction.atomic():
            row = Follow.objects.create(follower=follower, **target)
            notifications.notify_follower(row)
            return row, True
    except IntegrityError:  # a concurrent request followed it first
        return Follow.objects.get(follower=follower, **target), False


def unfollow(*, follower, target: dict) -> bool:
    """Stop following; True when there was something to stop. Unfollowing twice is fine."""
    deleted, _ = Follow.objects.filter(follower=follower, **target).delete()
    return bool(deleted)


def followers(user, target: dict) -> tuple[int, bool]:
    """The target's follower count and whether `user` is one of them, in one query."""
    rows = Follow.objects.filter(**target)
    if not user.is_authenticated:
        return rows.count(), False
    found = rows.aggregate(count=Count("id"), mine=Count("id", filter=Q(follower=user)))
    return found["count"], found["mine"] > 0


def follows_of(user):
    return (
        Follow.objects.filter(follower=user).select_related("creator", "model").order_by("-created_at", "-id")
    )


@dataclass
class FeedItem:
    kind: str  # "version" or "image"
    id: int
    name: str
    url: str
    date: datetime
    model_id: int | None
    model_name: str
    creator: str


def _feed_querysets(user, *, levels: int):
    creators = list(
        Follow.objects.filter(follower=user, creator__isnull=False).values_list("creator_id", flat=True)
    )
    models = list(
        Follow.objects.filter(follower=user, model__isnull=False).values_list("model_id", flat=True)
    )
    if not creators and not models:
        return None, None
    # Published versions of published models only: drafts, unpublished and deleted never appear, not
    # even the viewer's own (the feed is what the followed people shared).
    versions = ModelVersion.objects.filter(
        Q(model_id__in=models) | Q(model__owner_id__in=creators),
        status=PublishStatus.PUBLISHED,
        model__status=PublishStatus.PUBLISHED,
        published_at__isnull=False,
        model__in=visible_models(user),
    ).select_related("model__owner")
    images = (
        visible_images(user)
        .filter(Q(owner_id__in=creators) | Q(post__version__model_id__in=models))
        .filter(
            Q(post__version__isnull=True)
            | Q(
                post__version__status=PublishStatus.PUBLISHED,
                post__version__model__status=PublishStatus.PUBLISHED,
            )
        )
        .select_related("owner", "post__version__model")
    )
    # The viewer's content levels: the version's and its model's, the image's and its post's.
    shown = in_filter(levels)
    versions = versions.filter(nsfw_level__in=shown, model__nsfw_level__in=shown)
    images = in_levels(images, levels)
    return versions, images


def feed(user, *, levels: int, page: int = 1, size: int = FEED_PAGE_SIZE) -> tuple[list[FeedItem], bool]:
    """One page of `user`'s feed, newest first, and whether there is a next page. Two queries for the
    items whatever the page holds: each list is cut at the page's end, then the two are merged."""
    page = max(1, min(page, MAX_FEED_PAGE))
    versions, images = _feed_querysets(user, levels=levels)
    if versions is None:
        return [], False
    end = page * size + 1
    items = [
        FeedItem(
            kind="version",
            id=v.id,
            name=f"{v.model.name} {v.name}",
            url=f"{v.model.get_absolute_url()}#version-{v.id}",
            date=v.published_at,
            model_id=v.model_id,
            model_name=v.model.name,
            creator=v.model.owner.username,
        )
        for v in versions.order_by("-published_at", "-id")[:end]
    ]
    for image in images.order_by("-created_at", "-id")[:end]:
        model = image.post.version.model if image.post_id and image.post.version_id else None
        items.append(
            FeedItem(
                kind="image",
                id=image.id,
                name=image.name,
                url=image.get_absolute_url(),
                date=image.created_at,
                model_id=model.id if model else None,
                model_name=model.name if model else "",
                creator=image.owner.username,
            )
        )
    items.sort(key=lambda item: (item.date, item.id), reverse=True)
    start = (page - 1) * size
    return items[start : start + size], len(items) > start + size and page < MAX_FEED_PAGE


# The model page's follow button is a hole of the page kept for signed-in viewers: what it shows
# them is read with models_app.page_cache's own-state check, in the same query (community/apps.py).


def model_follower_count(viewer, model):
    """The model's follower count, as an expression on its row."""
    counted = Follow.objects.filter(model_id=model.pk).order_by().values("model_id").annotate(n=Count("id"))
    return Coalesce(Subquery(counted.values("n")), 0)


def model_followed(viewer, model):
    """Whether `viewer` follows the model, as an expression on its row."""
    return Exists(Follow.objects.filter(follower_id=viewer.pk, model_id=model.pk))

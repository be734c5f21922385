"""Images and posts: every write (services) and the reads with rules (selectors) (docs/images.md).

Bytes go through models_app's pipeline, never a second one: an example image uploaded with a
version's files is processed as that version's ModelFile and becomes an Image when the worker
finishes it (image_from_file, a processing hook); an image posted here is stored at an upload key
and processed by resources.tasks.process_image with processing.store_image, the same checks,
hashes and content-addressed blobs.
"""

import io
import logging
from typing import BinaryIO

from celery import current_app
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils.translation import gettext

from models_app import content_rules, levels, processing, sanctions, selectors
from models_app.cards import refresh_card_fields
from models_app.files import genmeta, nsfw
from models_app.files import images as file_images
from models_app.models import FileStatus, FileType, ModelFile, ModelVersion, PublishStatus, ScanStatus
from models_app.services import clean_nsfw_level
from models_app.storage import model_storage, new_upload_key

from . import image_privacy, linking
from .models import (
    MAX_POST_TITLE_LENGTH,
    MODERATED_IMAGE_STATUSES,
    Image,
    ImageResource,
    ImageStatus,
    ImageVersion,
    Post,
)

log = logging.getLogger(__name__)

MAX_IMAGES_PER_POST = 20
MAX_SERVED_READ = 50 * 1024 * 1024 + 1  # models_app.files.images.MAX_FILE_BYTES, plus one


# --- Reads


def _public_versions() -> Q:
    return Q(version__status=PublishStatus.PUBLISHED, version__model__status=PublishStatus.PUBLISHED)


def _in_public_post() -> Q:
    """In no post, in a post of no version, or in one of a published version of a published model."""
    return (
        Q(post__isnull=True)
        | Q(post__version__isnull=True)
        | Q(
            post__version__status=PublishStatus.PUBLISHED,
            post__version__model__status=PublishStatus.PUBLISHED,
        )
    )


_BLOCKED = Q(nsfw_level=levels.NsfwLevel.BLOCKED)


def visible_images(user) -> QuerySet[Image]:
    """Ready images `user` may see: community posts, examples of published versions, their own, and
    everything for moderators."""
    # An example image goes with its file when the creator deletes that (models_app's delete_file).
    # Hidden or removed by moderators: only its owner (who sees why) and moderators still see it.
    images = Image.objects.filter(
        status__in=(ImageStatus.READY, *MODERATED_IMAGE_STATUSES), blob__isnull=False
    ).exclude(source_file__status=FileStatus.DELETED)
    if selectors.can_moderate(user):
        return images
    if user.is_authenticated:
        images = images.filter(Q(status=ImageStatus.READY) | Q(owner=user))
    else:
        images = images.filter(status=ImageStatus.READY)
    rule = _in_public_post()
    blocked = _BLOCKED  # a moderator's decision: the owner still sees it
    if user.is_authenticated:
        rule |= Q(owner=user)
        blocked &= ~Q(owner=user)
    return images.filter(rule).exclude(blocked)


def effective_level():
    """An image's level for lists: the highest of its own and, for a version's example, the version's
    and the model's (an example of an R model is R even when the image itself is rated PG)."""
    return Greatest(
        "nsfw_level",
        Coalesce("post__version__nsfw_level", Value(1)),
        Coalesce("post__version__model__nsfw_level", Value(1)),
    )


def in_levels(images: QuerySet[Image], mask: int) -> QuerySet[Image]:
    """The images a browsing mask shows (docs/moderation.md#nsfw-levels): those whose effective
    level is one of its bits."""
    return images.alias(effective_level=effective_level()).filter(effective_level__in=levels.in_filter(mask))


def is_public(image: Image) -> bool:
    return visible_images(AnonymousUser()).filter(id=image.id).exists()


def example_images(version_ids) -> QuerySet[Image]:
    """The creator's example images of these versions, ready, in upload order."""
    return (
        Image.objects.filter(
            status=ImageStatus.READY,
            blob__isnull=False,
            version_links__version_id__in=list(version_ids),
            version_links__role=ImageVersion.Role.EXAMPLE,
        )
        .exclude(source_file__status=FileStatus.DELETED)
        .order_by("id")
    )


def examples_by_version(versions) -> dict[int, list[Image]]:
    """example_images of each version, in one query for all of them (the model page's versions). An
    image that is an example of two versions comes once for each."""
    found: dict[int, list[Image]] = {version.id: [] for version in versions}
    if found:
        # The F() reuses the join of example_images' filter: one row per (image, example link).
        rows = example_images(found).annotate(example_of=F("version_links__version_id"))
        for image in rows:
            found[image.example_of].append(image)
    return found


def images_made_with(user, *, model) -> QuerySet[Image]:
    """Other people's images linked to the model's published versions, newest first."""
    versions = ModelVersion.objects.filter(model=model, status=PublishStatus.PUBLISHED)
    return (
        visible_images(user)
        .filter(version_links__version__in=versions, version_links__role=ImageVersion.Role.USED)
        .exclude(owner_id=model.owner_id)
        .distinct()
        .order_by("-id")
    )


PREVIEW_SLICE = 10_000


def find_previews(*, versions: dict[int, list[int]]) -> dict[int, int]:
    """cards.PREVIEW_FINDERS: each model's first example image of its newest version that has one."""
    all_ids = [v for ids in versions.values() for v in ids]
    first: dict[int, int] = {}
    # In slices: a whole catalog's refresh names hundreds of thousands of versions, more than one
    # statement may carry parameters (65,535 on PostgreSQL). A version's images all fall in its slice.
    for start in range(0, len(all_ids), PREVIEW_SLICE):
        rows = example_images(all_ids[start : start + PREVIEW_SLICE]).values_list(
            "version_links__version_id", "id"
        )
        for version_id, image_id in rows:
            first.setdefault(version_id, image_id)
    return {
        model_id: next(first[v] for v in ids if v in first)
        for model_id, ids in versions.items()
        if any(v in first for v in ids)
    }


def blob_in_use(blob_id: int) -> bool:
    """tasks.BLOB_USE_CHECKS: an image still serves these bytes (an example image whose file was
    deleted no longer does)."""
    return Image.objects.filter(blob_id=blob_id).exclude(source_file__status=FileStatus.DELETED).exists()


def upload_keys_in_use(keys: list[str]) -> set[str]:
    """tasks.UPLOAD_KEY_USE_CHECKS: posted images still waiting for their processing name these bytes."""
    return set(Image.objects.filter(upload_key__in=keys).values_list("upload_key", flat=True))


def image_resources(image: Image) -> list[dict]:
    """What the image names as used, in the API's shape ({kind, name, hash, weight, resolved})."""
    out = []
    for r in image.resources.select_related("version__model", "version"):
        resolved = None
        if r.version is not None and r.version.status == PublishStatus.PUBLISHED:
            resolved = {
                "model_id": r.version.model_id,
                "version_id": r.version_id,
                "sha256": r.resolved_sha256 or None,
            }
        out.append({"kind": r.kind, "name": r.name, "hash": r.hash or None, "weight": r.weight,
                    "resolved": resolved})  # fmt: skip
    return out


# --- Writes


def _clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if len(title) > MAX_POST_TITLE_LENGTH:
        raise ValidationError(
            gettext("A post title is at most %(count)d characters.") % {"count": MAX_POST_TITLE_LENGTH}
        )
    content_rules.check_text(title=title)
    return title


def _linkable_versions(user, version_ids) -> list[ModelVersion]:
    """The versions an image may name: published ones, and the user's own."""
    ids = {int(v) for v in version_ids or []}
    if not ids:
        return []
    versions = list(
        ModelVersion.objects.filter(id__in=ids)
        .filter(
            Q(status=PublishStatus.PUBLISHED, model__status=PublishStatus.PUBLISHED) | Q(model__owner=user)
        )
        .exclude(status=PublishStatus.DELETED)
        .select_related("model")
    )
    missing = ids - {v.id for v in versions}
    if missing:
        raise ValidationError(gettext("There is no published version with id %(id)d.") % {"id": min(missing)})
    return versions


@transaction.atomic
def create_post(*, owner, title: str = "", version_ids=()) -> Post:
    """A new post of `owner`; `version_ids` are the versions its images were made with (links)."""
    if not owner.is_authenticated:
        raise PermissionDenied(gettext("Sign in to post images."))
    versions = _linkable_versions(owner, version_ids)
    post = Post.objects.create(owner=owner, title=_clean_title(title))
    post._versions = versions  # add_image links each image to them
    return post


@transaction.atomic
def add_image(
    *, owner, name: str, content: BinaryIO, post: Post | None = None, version_ids=(), nsfw_level: int = 1
) -> Image:
    """Store an image's bytes at an upload key and queue them for processing (tasks.process_image).
    `nsfw_level`: the uploader's rating (PG to XXX; Blocked for moderators only).

    Without a post, a new untitled post holds it. The versions it names are linked as "used"; when
    the uploader owns the version, as one of its example images instead. The bytes are written
    before the row exists, so a failed write leaves no row."""
    sanctions.check_may_write(owner)
    if post is None:
        post = create_post(owner=owner, version_ids=version_ids)
    elif post.owner_id != owner.id:
        raise PermissionDenied(gettext("Only the author of this post can add images to it."))
    if post.images.count() >= MAX_IMAGES_PER_POST:
        raise ValidationError(
            gettext("A post holds at most %(count)d images.") % {"count": MAX_IMAGES_PER_POST}
        )
    nsfw_level = clean_nsfw_level(nsfw_level, by=owner)
    versions = getattr(post, "_versions", None)
    if versions is None or version_ids:
        versions = _linkable_versions(owner, version_ids)
    name = (name or "image").replace("/", "_").replace("\\", "_")[-255:]
    key = model_storage().save(new_upload_key(name), content)
    image = Image.objects.create(owner=owner, post=post, name=name, upload_key=key, nsfw_level=nsfw_level)
    for version in versions:
        role = ImageVersion.Role.EXAMPLE if version.model.owner_id == owner.id else ImageVersion.Role.USED
        ImageVersion.objects.get_or_create(image=image, version=version, defaults={"role": role})
    # By name: tasks.py imports this module (AppConfig.ready registers the task).
    # robust: with the broker down the error is logged and sweep_stuck_images queues it (docs/faults.md).
    transaction.on_commit(
        lambda: current_app.tasks["resources.tasks.process_image"].delay(image.id), robust=True
    )
    return image


@transaction.atomic
def set_image_level(*, image: Image, by, nsfw_level) -> Image:
    """Rate an image (its uploader or a moderator): PG to XXX; Blocked, or lifting it, for moderators."""
    if not (by.is_authenticated and (image.owner_id == by.id or selectors.can_moderate(by))):
        raise PermissionDenied(gettext("Only the author of this image can change it."))
    image = Image.objects.select_for_update().get(id=image.id)
    image.nsfw_level = clean_nsfw_level(nsfw_level, by=by, current=image.nsfw_level)
    image.save(update_fields=["nsfw_level"])
    return image


def process_image(*, image: Image) -> Image:
    """Run the pipeline's image steps on a posted image, then read its generation settings. A refused
    file ends `rejected` with the pipeline's sentence and its bytes deleted. Safe to re-run."""
    try:
        blob, facts = processing.store_image(key=image.upload_key, name=image.name)
    except processing.FileRejected as exc:
        if image.upload_key:
            model_storage().delete(image.upload_key)
        image.status, image.status_message, image.upload_key = ImageStatus.REJECTED, str(exc), ""
        image.save(update_fields=["status", "status_message", "upload_key"])
        return image
    image.upload_key = ""
    return finish_image(image=image, blob=blob, facts=facts)


def image_from_file(*, model_file: ModelFile) -> Image | None:
    """processing.FILE_FINISHED_HOOKS: a version's example image the worker finished becomes (or
    updates) its Image row, in the post of that version's examples. Safe to run twice: the row is
    found by its source file."""
    if model_file.type != FileType.IMAGE:
        return None
    version = model_file.version
    model = version.model
    image = Image.objects.filter(source_file=model_file).first()
    if image is None:
        post, _ = Post.objects.get_or_create(
            owner_id=model.owner_id, version=version,
            defaults={"title": f"{model.name} {version.name}"[:MAX_POST_TITLE_LENGTH]},
        )  # fmt: skip
        image = Image.objects.create(
            owner_id=model.owner_id,
            post=post,
            source_file=model_file,
            name=model_file.name,
            nsfw_level=max(model.nsfw_level, version.nsfw_level),
        )  # an example image is rated as its version (or model, when higher) until someone relabels it
        ImageVersion.objects.get_or_create(image=image, version=version, defaults={"role": "example"})
    ready = model_file.status == FileStatus.READY and model_file.scan_status == ScanStatus.CLEAN
    if not ready or model_file.blob_id is None:
        image.status = ImageStatus.REJECTED
        image.status_message = model_file.status_message or "This image did not pass processing."
        image.save(update_fields=["status", "status_message"])
        return image
    metadata = model_file.metadata or {}
    if metadata.get("video"):
        return finish_clip(image=image, blob=model_file.blob, facts=metadata["video"])
    return finish_image(image=image, blob=model_file.blob, facts=metadata.get("image") or {})


def finish_clip(*, image: Image, blob, facts: dict) -> Image:
    """An example clip (docs/video.md): served as stored (the worker read only its container headers
    and drew the poster, which is its thumbnail); a clip carries no generation settings we read."""
    with transaction.atomic():
        image.blob = blob
        image.width, image.height = facts.get("width"), facts.get("height")
        image.mime_type = facts.get("mime_type") or ""
        image.thumbnail_key = facts.get("thumbnail_key") or ""
        image.status, image.status_message = ImageStatus.READY, ""
        image.save()
    _refresh_example_cards(image)
    return image


def finish_image(*, image: Image, blob, facts: dict) -> Image:
    """Read the generation settings, store the served copy without GPS and camera facts, link the
    resources it names, and mark it ready."""
    if blob.size >= MAX_SERVED_READ:  # the image checks refuse these first; never serve a cut copy
        image.status, image.status_message = ImageStatus.REJECTED, "The image is over the hub's 50 MB limit."
        image.save(update_fields=["status", "status_message"])
        return image
    with model_storage().open(blob.storage_key, "rb") as f:
        data = f.read(MAX_SERVED_READ)
    found = genmeta.read_generation_metadata(io.BytesIO(data))
    served = image_privacy.strip_private_metadata(data)
    thumbnail_key = facts.get("thumbnail_key") or ""
    if served != data:
        blob = processing.store_bytes(served)
        thumbnail_key = processing.store_thumbnail(blob)
    resolved = linking.resolve(list(found.resources or []))
    signals = _signals(data)
    with transaction.atomic():
        for name, value in signals.items():
            setattr(image, name, value)
        image.blob = blob
        image.width, image.height = facts.get("width"), facts.get("height")
        image.blurhash = facts.get("blurhash") or ""
        image.mime_type = facts.get("mime_type") or ""
        image.thumbnail_key = thumbnail_key
        image.meta = found.meta
        image.workflow = found.workflow
        image.prompt_graph = found.prompt_graph
        image.status, image.status_message = ImageStatus.READY, ""
        image.stripped = True
        image.save()
        image.resources.all().delete()
        for item in resolved:
            version_id = (item["resolved"] or {}).get("version_id")
            ImageResource.objects.create(
                image=image, kind=str(item.get("kind") or "other")[:32], name=str(item.get("name") or "")[:255],
                hash=str(item.get("hash") or "")[:64], weight=_weight(item.get("weight")),
                version_id=version_id, matched_by=(item.get("matched_by") or "")[:32],
                resolved_sha256=(item["resolved"] or {}).get("sha256") or "",
            )  # fmt: skip
            if version_id and image.source_file_id is None:
                ImageVersion.objects.get_or_create(
                    image=image, version_id=version_id, defaults={"role": "used"}
                )
    _refresh_example_cards(image)
    transaction.on_commit(lambda: _run_ready_hooks(image))
    return image


# Called as hook(image) after an image finished processing and its row is saved (on commit): moderation
# checks it for the queue's automatic signals (docs/moderation.md#automatic-signals) without resources
# importing moderation.
IMAGE_READY_HOOKS: list = []


def register_image_ready_hook(hook):
    """Add a hook to IMAGE_READY_HOOKS once."""
    if hook not in IMAGE_READY_HOOKS:
        IMAGE_READY_HOOKS.append(hook)
    return hook


def _run_ready_hooks(image: Image) -> None:
    for hook in IMAGE_READY_HOOKS:
        hook(image)


def _signals(data: bytes) -> dict:
    """The classifier's rating and the perceptual hash of an image's bytes, for moderation's queue
    (docs/moderation.md#automatic-suggestions). An image these readers cannot decode gets none: the
    pipeline's own checks decided it is an image, so it is kept, unrated."""
    signals = {}
    try:
        rating = nsfw.rate(io.BytesIO(data))
        signals.update(nsfw_score=rating.score, suggested_nsfw_level=rating.level)
    except (OSError, ValueError, file_images.ImageRejected) as error:
        log.warning("images: could not rate an image: %s", error)
    try:
        signals["phash"] = file_images.perceptual_hash(io.BytesIO(data))
    except (OSError, ValueError, file_images.ImageRejected) as error:
        log.warning("images: could not hash an image: %s", error)
    return signals


def _refresh_example_cards(image: Image) -> None:
    model_ids = set(
        ImageVersion.objects.filter(image=image, role=ImageVersion.Role.EXAMPLE).values_list(
            "version__model_id", flat=True
        )
    )
    if model_ids:
        refresh_card_fields(model_ids=model_ids)  # it may be a model's new preview


def _weight(value) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def refresh_moved_image(image: Image) -> Image:
    """Store the served copy of an image migration 0002 moved (and read and link its settings), as the
    worker does for a new one: finish_image with the facts the row already has."""
    facts = {"width": image.width, "height": image.height, "blurhash": image.blurhash,
             "mime_type": image.mime_type, "thumbnail_key": image.thumbnail_key}  # fmt: skip
    return finish_image(image=image, blob=image.blob, facts=facts)


@transaction.atomic
def set_image_status(*, image: Image, status: str, reason: str, by) -> str:
    """Moderation hides or removes an image (MODERATED_IMAGE_STATUSES), or restores it to ready.
    Returns the status it had. The row and its bytes stay (docs/moderation.md)."""
    if not selectors.can_moderate(by):
        raise PermissionDenied(gettext("Only moderators can do this."))
    image = Image.objects.select_for_update().get(id=image.id)
    if status not in (ImageStatus.READY, *MODERATED_IMAGE_STATUSES):
        raise ValidationError(gettext("Unknown status %(status)s.") % {"status": repr(status)[:60]})
    before = image.status
    if status == ImageStatus.READY and before not in MODERATED_IMAGE_STATUSES:
        raise ValidationError(gettext("Only an image hidden or removed by moderators can be restored."))
    image.status = status
    image.status_message = reason if status in MODERATED_IMAGE_STATUSES else ""
    image.save(update_fields=["status", "status_message"])
    _refresh_example_cards(image)
    return before


def own_on_model_page(user, model):
    """models_app.page_cache's check: their own images linked to the model's versions (examples,
    "made with") that show to them alone (hidden or removed by moderators, in a post of a draft,
    Blocked: visible_images). One that everyone sees shows to its owner as to anyone, so the page
    kept for signed-in viewers holds it already.

    Only the links are asked. Images in a post of one of its versions are its creator's examples
    (image_from_file; add_image adds to a post only its author's), linked to the version too, and
    the creator's own state skips the checks. With the posts asked as well, as a second outer join,
    the database could only start from the viewer's images, all of them, on every model page they
    opened: 27 ms for someone with 20,000 images, on the 100k catalog."""
    return Image.objects.filter(owner=user, version_links__version__model_id=model.pk).exclude(
        Q(status=ImageStatus.READY) & _in_public_post() & ~_BLOCKED
    )

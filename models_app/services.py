"""Every write to the catalog that matters. Plain functions, keyword-only arguments, one transaction each."""

import contextlib
import logging
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO, NoReturn

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext

import billing
from billing import selectors as billing_selectors

from . import content_rules, processing, publishing, sanctions, storage
from .cards import refresh_card_fields
from .levels import ALL, CREATOR_LEVELS, DEFAULT_MASK, NsfwLevel
from .models import (
    MAX_TRIGGER_WORD_LENGTH,
    MODERATED_STATUSES,
    TAG_MAX_LENGTH,
    AIModel,
    BaseModel,
    FileFormat,
    FileStatus,
    FileType,
    FormerSlug,
    FundingGoal,
    ModelFile,
    ModelType,
    ModelVersion,
    PublishStatus,
    ScanStatus,
    Tag,
    UsageControl,
    ViewerPreference,
    normalize_tag,
)
from .selectors import can_manage, can_moderate
from .storage import model_storage, new_upload_key
from .tasks import process_file, release_blob
from .text import clean_filename

log = logging.getLogger(__name__)

MAX_TAGS = 20
MAX_PARTS = 10_000  # S3's limit
MAX_TRIGGER_WORDS = 50
MAX_EARLY_ACCESS_DAYS = 30


def unique_slug(*, owner, name: str, exclude_id: int | None = None) -> str:
    base = slugify(name)[:180] or "model"
    slug, n = base, 2
    taken = AIModel.objects.filter(owner=owner)
    if exclude_id:
        taken = taken.exclude(id=exclude_id)
    while taken.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def clean_tag_names(names: Iterable[str]) -> list[str]:
    """Tag names in their safe form (models.normalize_tag), de-duplicated; refuses a name over
    TAG_MAX_LENGTH or more than MAX_TAGS of them. Writes nothing (the upload form checks with it)."""
    clean = []
    for raw in names:
        typed = " ".join(str(raw).split())
        if len(typed) > TAG_MAX_LENGTH:
            raise ValidationError(
                gettext("A tag can be at most %(max)d characters; %(tag)s… has %(length)d.")
                % {"max": TAG_MAX_LENGTH, "tag": repr(typed[:20]), "length": len(typed)}
            )
        name = normalize_tag(typed)
        if name and name not in clean:
            clean.append(name)
    if len(clean) > MAX_TAGS:
        raise ValidationError(
            gettext("A model can have at most %(max)d tags; you gave %(count)d.")
            % {"max": MAX_TAGS, "count": len(clean)}
        )
    return clean


def tags_from_names(names: Iterable[str]) -> list[Tag]:
    """Tag rows for the given names (clean_tag_names), created when new."""
    return [Tag.objects.get_or_create(name=name)[0] for name in clean_tag_names(names)]


def clean_trigger_words(words: Iterable[str]) -> list[str]:
    """Trigger words as stored: trimmed, de-duplicated; refuses a word over MAX_TRIGGER_WORD_LENGTH
    or more than MAX_TRIGGER_WORDS of them. Writes nothing (the upload form checks with it)."""
    clean = []
    for raw in words:
        word = str(raw).strip()
        if len(word) > MAX_TRIGGER_WORD_LENGTH:
            raise ValidationError(
                gettext("A trigger word can be at most %(max)d characters; %(word)s… has %(length)d.")
                % {"max": MAX_TRIGGER_WORD_LENGTH, "word": repr(word[:20]), "length": len(word)}
            )
        if word and word not in clean:
            clean.append(word)
    if len(clean) > MAX_TRIGGER_WORDS:
        raise ValidationError(
            gettext("A version can have at most %(max)d trigger words.") % {"max": MAX_TRIGGER_WORDS}
        )
    return clean


def clean_nsfw_level(value, *, by=None, current: int | None = None) -> int:
    """A content level a creator may set: PG, PG-13, R, X or XXX (one bit, models_app/levels.py).
    Blocked (32) is a moderator's decision: only they may set it, and only they may lift it."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValidationError(gettext("Choose a content level: PG, PG-13, R, X or XXX."))
    try:
        level = int(value)
    except ValueError:
        raise ValidationError(gettext("Choose a content level: PG, PG-13, R, X or XXX.")) from None
    if current is not None and level == current:
        return level  # unchanged, whoever saves the form
    moderator = by is not None and can_moderate(by)
    if (level == NsfwLevel.BLOCKED or current == NsfwLevel.BLOCKED) and level != current and not moderator:
        raise ValidationError(gettext("Only moderators can block content or lift a block."))
    if level not in (*CREATOR_LEVELS, *([NsfwLevel.BLOCKED] if moderator else [])):
        raise ValidationError(gettext("Choose a content level: PG, PG-13, R, X or XXX."))
    return level


@transaction.atomic
def set_browsing_levels(user, *, mask: int, blur: bool) -> None:
    """Store the levels a signed-in person sees and whether the others are blurred rather than hidden
    (read by preferences.browsing). Blocked is never a choice; nothing left means PG."""
    mask = (int(mask) & ALL) or DEFAULT_MASK
    choice, _ = ViewerPreference.objects.update_or_create(
        user=user, defaults={"browsing_levels": mask, "blur_mature": bool(blur)}
    )
    user.viewer_preference = choice  # the user may hold the old one, loaded with them (hub/auth_backends.py)


@transaction.atomic
def create_model(
    *,
    owner,
    name: str,
    type: str,
    description: str = "",
    tags: Iterable[str] = (),
    nsfw_level: int = NsfwLevel.PG,
    **license_fields,
) -> AIModel:
    """Create a draft model owned by `owner`. Nothing is public until a version is published."""
    sanctions.check_may_write(owner)
    nsfw_level = clean_nsfw_level(nsfw_level, by=owner)
    name = name.strip()
    if not name:
        raise ValidationError(gettext("Give the model a name."))
    if type not in ModelType.values:
        raise ValidationError(f"{type!r} is not a model type; choose one of: {', '.join(ModelType.values)}.")
    tags = clean_tag_names(tags)
    content_rules.check_text(name=name, description=description, tags=tags)
    model = AIModel(
        owner=owner,
        name=name,
        slug=unique_slug(owner=owner, name=name),
        type=type,
        nsfw_level=nsfw_level,
        **license_fields,
    )
    model.set_description(description)
    model.full_clean()
    model.save()
    model.tags.set(tags_from_names(tags))
    refresh_card_fields(model_ids=[model.id])
    return model


@transaction.atomic
def create_version(
    *,
    model: AIModel,
    name: str,
    base_model: BaseModel | str,
    trained_words: Iterable[str] = (),
    description: str = "",
    early_access_days: int = 0,
    usage_control: str = UsageControl.DOWNLOAD,
    recommended_vae: ModelVersion | int | None = None,
    nsfw_level: int = NsfwLevel.PG,
) -> ModelVersion:
    """Add a draft version to a model. Early access starts when it is published."""
    nsfw_level = clean_nsfw_level(nsfw_level, by=model.owner)
    if isinstance(base_model, str):
        try:
            base_model = BaseModel.objects.get(name=base_model)
        except BaseModel.DoesNotExist:
            raise ValidationError(f"Unknown base model {base_model!r}.") from None
    name = name.strip()
    if not name:
        raise ValidationError(gettext("Give the version a name, such as v1.0."))
    if model.versions.filter(name=name).exists():
        raise ValidationError(
            gettext("This model already has a version named %(name)s.") % {"name": repr(name)}
        )
    if not 0 <= early_access_days <= MAX_EARLY_ACCESS_DAYS:
        raise ValidationError(
            gettext("Early access lasts from 0 to %(max)d days.") % {"max": MAX_EARLY_ACCESS_DAYS}
        )
    if usage_control not in UsageControl.values:
        raise ValidationError(f"Unknown usage control {usage_control!r}.")
    trained_words = clean_trigger_words(trained_words)
    content_rules.check_text(name=name, description=description, trained_words=trained_words)
    version = ModelVersion(
        model=model,
        name=name,
        base_model=base_model,
        trained_words=trained_words,
        early_access_days=early_access_days,
        usage_control=usage_control,
        recommended_vae=clean_recommended_vae(recommended_vae),
        nsfw_level=nsfw_level,
    )
    version.set_description(description)
    version.full_clean()
    version.save()
    return version


def clean_recommended_vae(vae: ModelVersion | int | None, *, for_version: ModelVersion | None = None):
    """The VAE version to recommend (given as a row or an id), or None to recommend none.

    Only a published version of a published VAE model can be recommended: a draft or someone's
    unpublished VAE would be a dead link on the model page."""
    if vae is None:
        return None
    vae_id = vae.id if isinstance(vae, ModelVersion) else vae
    if isinstance(vae_id, bool) or not isinstance(vae_id, int):
        raise ValidationError(gettext("The recommended VAE must be given as a version id."))
    row = ModelVersion.objects.select_related("model").filter(id=vae_id).first()
    published = PublishStatus.PUBLISHED
    if row is None or row.status != published or row.model.status != published:
        raise ValidationError(
            gettext("There is no published version %(id)s to recommend as the VAE.") % {"id": vae_id}
        )
    if row.model.type != ModelType.VAE:
        raise ValidationError(
            gettext("%(name)s is a %(type)s, not a VAE: only a VAE version can be recommended as the VAE.")
            % {"name": f"{row.model.name} {row.name}", "type": row.model.type}
        )
    if for_version is not None and row.id == for_version.id:
        raise ValidationError(gettext("A version can't recommend itself as its VAE."))
    return row


def _guess_format(name: str) -> str:
    lower = name.lower()
    if lower.endswith(".safetensors"):
        return FileFormat.SAFETENSOR
    if lower.endswith((".ckpt", ".pt", ".pth", ".bin")):
        return FileFormat.PICKLETENSOR
    if lower.endswith(".gguf"):
        return FileFormat.GGUF
    return FileFormat.OTHER


def _human_size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:.1f} {unit}".replace(".0 ", " ")
        n /= 1024
    return str(n)


def byte_count(n: int) -> str:
    """An exact number of bytes, as a sentence says it: "1 byte", "5,242,880 bytes"."""
    return "1 byte" if n == 1 else f"{n:,} bytes"


def upload_limit(user) -> int:
    """The largest file `user` may upload: the free tier's MAX_UPLOAD_SIZE, or more with a plan that
    raises it (docs/billing.md#entitlements). Read each time: a lapsed membership lowers it at once."""
    return billing.entitlements(user).upload_limit_bytes


def check_upload_allowed(*, filename: str, size: int | None, limit: int | None = None) -> str:
    """Refuse a file by its name and declared size (over `limit`, default the free tier's
    MAX_UPLOAD_SIZE) before any byte is sent; returns the clean name."""
    limit = settings.MAX_UPLOAD_SIZE if limit is None else limit
    name = clean_filename(filename)
    extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    allowed = settings.ALLOWED_UPLOAD_EXTENSIONS
    if extension not in allowed:
        raise ValidationError(
            gettext("%(name)s has a file type the hub does not accept; allowed: %(allowed)s.")
            % {"name": repr(name), "allowed": ", ".join(allowed)}
        )
    if size is not None:
        if size <= 0:
            raise ValidationError(gettext("%(name)s is empty.") % {"name": repr(name)})
        if size > limit:
            raise ValidationError(
                gettext("%(name)s is %(size)s; the largest file the hub accepts is %(max)s.")
                % {"name": repr(name), "size": _human_size(size), "max": _human_size(limit)}
            )
    return name


def _check_owner(version: ModelVersion, by) -> None:
    if version.model.owner_id != by.id:
        raise PermissionDenied(gettext("Only the creator of this model can add files to it."))
    sanctions.check_may_write(by)


def _new_file_row(*, version, name, type, is_primary, metadata=None, **fields) -> ModelFile:
    if type not in FileType.values:
        raise ValidationError(f"{type!r} is not a file type; choose one of: {', '.join(FileType.values)}.")
    metadata = dict(metadata or {})
    if is_primary is not None:
        # A new file is never primary yet: the wish waits until it is ready (publishing.ensure_primary).
        metadata[publishing.PRIMARY_WISH] = bool(is_primary)
    return ModelFile.objects.create(
        version=version, name=name, type=type, format=_guess_format(name), metadata=metadata, **fields
    )


def _enqueue_processing(model_file: ModelFile) -> None:
    """Queue the file once the transaction commits. With the broker down the message can't be sent,
    but the upload stands: the error is logged, the file waits as pending, and the stuck-file sweep
    queues it again once the broker answers (docs/faults.md#redis-down)."""

    def send() -> None:
        try:
            process_file.delay(model_file.id)
        except Exception:
            log.exception(
                "could not queue file %s for processing; the stuck-file sweep will queue it again",
                model_file.id,
            )

    transaction.on_commit(send)


def add_file(
    *,
    version: ModelVersion,
    name: str,
    content: BinaryIO | None = None,
    move_from: Path | None = None,
    type: str = FileType.MODEL,
    is_primary: bool | None = None,
) -> ModelFile:
    """Store bytes the hub already has (seed_demo, import_models) and queue them for processing.

    `content` is read and stored; or the hub takes the local file `move_from` (import_models
    --move): renamed into local storage when it can be, no byte written, and hashed by the worker;
    else copied and then removed. The bytes are stored before the row exists, so a failed write
    leaves no row, and a refused or failed import puts a renamed file back where it was. A row whose
    processing never starts is picked up by the periodic sweep.
    """
    name = check_upload_allowed(filename=name, size=None)
    key, one_pass, renamed = new_upload_key(name), None, False
    if move_from is not None:
        renamed = storage.take_local_file(move_from, key)
    if not renamed:
        # Hashed while written, so the worker reads only the header (docs/performance.md#uploads-in-one-pass).
        with move_from.open("rb") if move_from is not None else contextlib.nullcontext(content) as f:
            key, one_pass = processing.save_hashing(name, f)
    try:
        size = model_storage().size(key)
        limit = upload_limit(version.model.owner)
        if size > limit:
            if not renamed:
                model_storage().delete(key)
            check_upload_allowed(filename=name, size=size, limit=limit)
        with transaction.atomic():
            model_file = _new_file_row(
                version=version, name=name, type=type, is_primary=is_primary,
                upload_key=key, size=size, status=FileStatus.PENDING,
                metadata={processing.ONE_PASS_KEY: one_pass} if one_pass else {},
            )  # fmt: skip
            _enqueue_processing(model_file)
    except BaseException:
        if renamed:
            storage.give_back_local_file(key, move_from)
        raise
    if move_from is not None and not renamed:
        with contextlib.suppress(OSError):  # can't remove it: the original stays, nothing is lost
            move_from.unlink()
    return model_file


def _check_open_uploads(*, user, name: str, size: int, limit: int) -> None:
    """Refuse a new upload when the user already has too many open, or too many bytes announced.

    Open uploads hold storage until they are completed, cancelled or swept, so these caps bound what
    one account can pile up (issue 11). The user's row is locked first: two starts at once are counted
    one after the other, not both against the same total. (SQLite ignores the lock, but its
    transactions already run one at a time: hub/settings.py begins them IMMEDIATE.)
    """
    list(get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk"))
    open_uploads = ModelFile.objects.filter(version__model__owner=user, status=FileStatus.UPLOADING)
    totals = open_uploads.aggregate(count=Count("id"), size=Sum("size"))
    count, announced = totals["count"], totals["size"] or 0
    if count >= settings.MAX_OPEN_UPLOADS:
        raise ValidationError(
            gettext(
                "You already have %(count)d uploads in progress, the most the hub allows at once; finish or "
                "cancel one of them before starting %(name)s."
            )
            % {"count": count, "name": repr(name)}
        )
    # A plan with a larger file limit raises this cap with it (two of its largest files at once).
    most = settings.MAX_OPEN_UPLOAD_BYTES
    if limit > settings.MAX_UPLOAD_SIZE:
        most = max(most, 2 * limit)
    if announced + size > most:
        raise ValidationError(
            f"Your uploads in progress already add up to {_human_size(announced)}; with {name!r} "
            f"({_human_size(size)}) they would pass the limit of "
            f"{_human_size(most)} at once. Finish or cancel an upload first."
        )


@transaction.atomic
def start_upload(
    *, version: ModelVersion, by, filename: str, size: int, type: str = FileType.MODEL, is_primary=None
) -> ModelFile:
    """Open a resumable multipart upload for one file of a version.

    The row exists from here on, in status "uploading", so the creator sees it on the version page
    and can come back to it; its bytes go straight to storage, never through the web process. The
    row keeps the part size the client is told, which every part is checked against. Should the
    transaction fail after storage opened the upload, the sweep removes that orphan.
    """
    _check_owner(version, by)
    limit = upload_limit(by)
    name = check_upload_allowed(filename=filename, size=size, limit=limit)
    part_size = settings.UPLOAD_PART_SIZE
    if -(-size // part_size) > MAX_PARTS:
        raise ValidationError(
            f"{name!r} would need more than {MAX_PARTS:,} parts of {_human_size(part_size)}, the most "
            "a multipart upload can have."
        )
    _check_open_uploads(user=by, name=name, size=size, limit=limit)
    key = new_upload_key(name)
    upload_id = storage.start_multipart(key)
    return _new_file_row(
        version=version, name=name, type=type, is_primary=is_primary, upload_key=key,
        multipart_upload_id=upload_id, size=size, part_size=part_size, status=FileStatus.UPLOADING,
    )  # fmt: skip


def _check_uploading(model_file: ModelFile) -> None:
    if model_file.status == FileStatus.UPLOADING and model_file.multipart_upload_id:
        return
    if model_file.status == FileStatus.REJECTED and model_file.status_message:
        raise ValidationError(model_file.status_message)  # refused or swept: say why
    if model_file.status == FileStatus.DELETED:  # removed with the Remove button (delete_file)
        raise ValidationError(gettext("This upload was cancelled; start a new one to send the file again."))
    raise ValidationError(gettext("This upload is already finished; start a new one to send the file again."))


def _refuse_closed(file_id: int) -> NoReturn:
    """Refuse an action on an upload that a concurrent request (or the sweep) just closed, saying
    what became of it."""
    current = ModelFile.objects.filter(id=file_id).first()
    if current is None:
        raise ValidationError(gettext("This upload was cancelled; start a new one to send the file again."))
    _check_uploading(current)
    raise ValidationError(gettext("This upload is already finished; start a new one to send the file again."))


def _touch_upload(model_file: ModelFile) -> None:
    """Record activity on an open upload, or refuse when it is no longer open.

    The abandoned-uploads sweep takes uploads whose updated_at is old, and locks them while it does:
    this conditional update either waits for the sweep and then finds the upload closed, or makes the
    upload fresh before the sweep looks. So a client that keeps sending parts is never swept.
    """
    touched = ModelFile.objects.filter(id=model_file.id, status=FileStatus.UPLOADING).update(
        updated_at=timezone.now()
    )
    if not touched:
        _refuse_closed(model_file.id)


def part_upload_url(*, model_file: ModelFile, part_number: int) -> str:
    """A short-lived URL for one part, which must be exactly as long as the declared size says.

    Only parts 1 to ceil(size / part size) exist; asking for another is refused, so an upload can
    never hold more parts than its declared size needs (issue 11).
    """
    _check_uploading(model_file)
    length = model_file.expected_part_size(part_number)
    if length is None:
        count = model_file.part_count
        parts = "only part 1" if count == 1 else f"parts 1 to {count}"
        raise ValidationError(
            f"{model_file.name!r} is {byte_count(model_file.size)} in parts of "
            f"{byte_count(model_file.upload_part_size)}: "
            f"it has {parts}, so there is no part {part_number}."
        )
    _touch_upload(model_file)
    return storage.part_upload_url(
        key=model_file.upload_key,
        upload_id=model_file.multipart_upload_id,
        part_number=part_number,
        file_id=model_file.id,
        length=length,
    )


def uploaded_parts(*, model_file: ModelFile) -> list[dict]:
    _check_uploading(model_file)
    try:
        return storage.list_parts(key=model_file.upload_key, upload_id=model_file.multipart_upload_id)
    except storage.UploadGone:
        _refuse_upload(model_file=model_file, problem=_parts_gone(model_file))


def _parts_gone(model_file: ModelFile) -> str:
    return f"Storage no longer has the parts of {model_file.name!r}."


def _parts_problem(model_file: ModelFile, parts: list[dict]) -> str:
    """What is wrong with the parts storage holds, as a sentence; empty when they make the file."""
    name, count = model_file.name, model_file.part_count
    numbers = {p["PartNumber"] for p in parts}
    if not numbers:
        return f"No part of {name!r} has arrived."
    missing = sorted(set(range(1, count + 1)) - numbers)
    if missing:
        listed = ", ".join(map(str, missing[:10])) + (", ..." if len(missing) > 10 else "")
        return f"Parts {listed} of {name!r} never arrived."
    extra = sorted(numbers - set(range(1, count + 1)))
    if extra:
        return f"{name!r} has {count} parts, but part {extra[0]} arrived too."
    for part in parts:
        expected = model_file.expected_part_size(part["PartNumber"])
        if part["Size"] != expected:
            return (
                f"{name!r} was announced as {byte_count(model_file.size)}, so part {part['PartNumber']} "
                f"should be {byte_count(expected)}, but {byte_count(part['Size'])} arrived."
            )
    return ""


def _refuse_upload(*, model_file: ModelFile, problem: str) -> NoReturn:
    """Close an upload that can't become a file: the row says why, storage forgets the parts at once.

    The conditional update claims the row, so only one caller deletes the parts; a crash between the
    two leaves parts that no open upload names, which the sweep removes. Always raises.
    """
    message = f"{problem} The upload was stopped and its parts deleted; upload the file again."
    key, upload_id = model_file.upload_key, model_file.multipart_upload_id
    refused = ModelFile.objects.filter(id=model_file.id, status=FileStatus.UPLOADING).update(
        status=FileStatus.REJECTED,
        scan_status=ScanStatus.NOT_SCANNED,  # final, and consistent (models.FINAL_SCAN_STATUSES)
        status_message=message,
        upload_key="",
        multipart_upload_id="",
        updated_at=timezone.now(),
    )
    if not refused:
        _refuse_closed(model_file.id)
    storage.discard_upload(key=key, upload_id=upload_id)
    publishing.ensure_primary_of([model_file.version_id])
    raise ValidationError(message)


def complete_upload(*, model_file: ModelFile, by) -> ModelFile:
    """Close the multipart upload and queue the file for processing.

    The parts are checked against what storage actually holds: numbers 1 to n and each part exactly
    as long as the declared size says (on S3 too: the signed length is the first check there, but
    moto doesn't enforce signatures). A refused upload is stopped and its parts deleted at once, so a
    client can't leave bytes behind by never finishing (issue 11).
    """
    _check_owner(model_file.version, by)
    _check_uploading(model_file)
    _touch_upload(model_file)
    key, upload_id = model_file.upload_key, model_file.multipart_upload_id
    try:
        parts = storage.list_parts(key=key, upload_id=upload_id)
    except storage.UploadGone:
        parts = []
    problem = _parts_problem(model_file, parts)
    if problem:
        _refuse_upload(model_file=model_file, problem=problem)
    try:
        storage.complete_multipart(key=key, upload_id=upload_id, parts=parts)
    except storage.UploadGone:
        current = ModelFile.objects.filter(id=model_file.id).first()
        if current is not None and current.status not in (FileStatus.UPLOADING, FileStatus.REJECTED):
            return current  # a concurrent complete of the same upload won
        if current is None or current.status != FileStatus.UPLOADING:
            _refuse_closed(model_file.id)
        _refuse_upload(model_file=model_file, problem=_parts_gone(model_file))
    except storage.PartsRefused as exc:
        _refuse_upload(model_file=model_file, problem=f"Storage refused to join the parts ({exc}).")
    with transaction.atomic():
        updated = ModelFile.objects.filter(id=model_file.id, status=FileStatus.UPLOADING).update(
            status=FileStatus.PENDING, updated_at=timezone.now()
        )
        if updated:
            _enqueue_processing(model_file)
    if not updated:
        # Cancelled or swept while storage joined the parts: the joined object belongs to no file.
        current = ModelFile.objects.filter(id=model_file.id).first()
        if current is None or current.status in (FileStatus.REJECTED, FileStatus.DELETED):
            storage.discard_upload(key=key, upload_id="")
            raise ValidationError(
                gettext("This upload was cancelled; start a new one to send the file again.")
            )
    model_file.refresh_from_db()
    return model_file


def abort_upload(*, model_file: ModelFile, by) -> None:
    """Give up an unfinished upload: the row goes away and storage forgets the parts at once.

    The conditional delete claims the row, so a complete racing it either wins (the file is then
    processed) or finds the upload gone; parts left by a crash in between are the sweep's.
    """
    _check_owner(model_file.version, by)
    _check_uploading(model_file)
    deleted, _ = ModelFile.objects.filter(id=model_file.id, status=FileStatus.UPLOADING).delete()
    if not deleted:
        _refuse_closed(model_file.id)
    storage.discard_upload(key=model_file.upload_key, upload_id=model_file.multipart_upload_id)
    publishing.ensure_primary_of([model_file.version_id])


def publish_version(*, version: ModelVersion, by) -> ModelVersion:
    """Make a version, and its model, public once every file has been checked. Only the owner may
    publish. While files are still being processed the publish is queued (`publish_when_ready`) and
    the worker completes it (publishing.file_finished); the returned version says which happened."""
    if version.model.owner_id != by.id:
        raise PermissionDenied(gettext("Only the creator of this model can publish it."))
    return publishing.request_publish(version=version)


# --- Editing, unpublishing and deleting (issue 12, docs/editing.md). The creator or a moderator may;
# each service runs in one transaction and refuses bad input with a sentence before writing anything.


def _check_manage(model: AIModel, by) -> None:
    if not can_manage(by, model):
        raise PermissionDenied(gettext("Only the creator of this model or a moderator can change it."))


def _check_not_deleted(*rows) -> None:
    for row in rows:
        if row.status == PublishStatus.DELETED:
            raise ValidationError(gettext("This was deleted; it can't be changed any more."))


LICENSE_FIELDS = (
    "license", "allow_no_credit", "allow_derivatives", "allow_different_license",
    "allow_commercial_images", "allow_commercial_rent", "allow_commercial_sell", "require_login",
)  # fmt: skip
MODEL_EDITABLE = ("name", "type", "description", "tags", "nsfw_level", *LICENSE_FIELDS)
VERSION_EDITABLE = (
    "name",
    "nsfw_level",
    "base_model",
    "trained_words",
    "description",
    "early_access_days",
    "usage_control",
    "recommended_vae",
    "early_access_members",
    "early_access_tiers",
    "early_access_price",
    "early_access_currency",
)


def clean_early_access_tiers(value) -> list[str]:
    """The tiers (plan names) a creator opens early access to: names of tiers on offer, sorted, once."""
    if not isinstance(value, list | tuple) or not all(isinstance(name, str) for name in value):
        raise ValidationError(gettext("Choose the tiers from the list."))
    offered = set(billing_selectors.tier_names())
    unknown = sorted(set(value) - offered)
    if unknown:
        raise ValidationError(gettext("No tier is called %(name)s.") % {"name": unknown[0][:100]})
    return sorted(set(value))


MAX_EARLY_ACCESS_PRICE = 1_000_000  # minor units (10,000.00): a typo guard, not a business rule


def clean_currency(value) -> str:
    """A lower-case three-letter ISO currency code (Stripe's form), or ValidationError."""
    code = str(value or "").strip().lower()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise ValidationError(gettext("The currency is a three-letter ISO code, such as usd or eur."))
    return code


@transaction.atomic
def update_model(*, model: AIModel, by, **changes) -> AIModel:
    """Change what a model says about itself (MODEL_EDITABLE). A new name gives it a new slug; the old
    one is kept as a FormerSlug so links to it keep working. Description HTML is rendered here."""
    _check_manage(model, by)
    model = AIModel.objects.select_for_update().get(id=model.id)
    _check_not_deleted(model)
    unknown = set(changes) - set(MODEL_EDITABLE)
    if unknown:
        raise ValidationError(f"These can't be changed here: {', '.join(sorted(unknown))}.")
    content_rules.check_text(
        **{key: changes[key] for key in ("name", "description", "tags") if key in changes}
    )
    if "name" in changes:
        name = str(changes.pop("name")).strip()
        if not name:
            raise ValidationError(gettext("Give the model a name."))
        if name != model.name:
            model.name = name
            slug = unique_slug(owner=model.owner, name=name, exclude_id=model.id)
            if slug != model.slug:
                FormerSlug.objects.get_or_create(model=model, slug=model.slug)
                FormerSlug.objects.filter(model=model, slug=slug).delete()
                model.slug = slug
    if "type" in changes:
        if changes["type"] not in ModelType.values:
            raise ValidationError(
                f"{changes['type']!r} is not a model type; choose one of: {', '.join(ModelType.values)}."
            )
        model.type = changes.pop("type")
    if "description" in changes:
        model.set_description(changes.pop("description"))
    if "nsfw_level" in changes:
        model.nsfw_level = clean_nsfw_level(changes.pop("nsfw_level"), by=by, current=model.nsfw_level)
    tags = clean_tag_names(changes.pop("tags")) if "tags" in changes else None
    for name, value in changes.items():
        setattr(model, name, value)
    model.full_clean(validate_unique=False, validate_constraints=False)
    model.save()
    if tags is not None:
        model.tags.set(tags_from_names(tags))
    refresh_card_fields(model_ids=[model.id])
    return model


@transaction.atomic
def update_version(*, version: ModelVersion, by, **changes) -> ModelVersion:
    """Change a version's details (VERSION_EDITABLE). The early-access window of a published version
    is recomputed from its publish date, so shortening it to 0 opens the downloads at once."""
    _check_manage(version.model, by)
    version = ModelVersion.objects.select_for_update().select_related("model").get(id=version.id)
    _check_not_deleted(version, version.model)
    unknown = set(changes) - set(VERSION_EDITABLE)
    if unknown:
        raise ValidationError(f"These can't be changed here: {', '.join(sorted(unknown))}.")
    content_rules.check_text(
        **{key: changes[key] for key in ("name", "description", "trained_words") if key in changes}
    )
    if "name" in changes:
        name = str(changes["name"]).strip()
        if not name:
            raise ValidationError(gettext("Give the version a name, such as v1.0."))
        if version.model.versions.filter(name=name).exclude(id=version.id).exists():
            raise ValidationError(
                gettext("This model already has a version named %(name)s.") % {"name": repr(name)}
            )
        version.name = name
    if "base_model" in changes:
        base_model = changes["base_model"]
        if isinstance(base_model, str):
            base_model = BaseModel.objects.filter(name=base_model).first()
            if base_model is None:
                raise ValidationError(f"Unknown base model {changes['base_model']!r}.")
        version.base_model = base_model
    if "trained_words" in changes:
        version.trained_words = clean_trigger_words(changes["trained_words"])
    if "nsfw_level" in changes:
        version.nsfw_level = clean_nsfw_level(changes["nsfw_level"], by=by, current=version.nsfw_level)
    if "description" in changes:
        version.set_description(changes["description"])
    if "usage_control" in changes:
        if changes["usage_control"] not in UsageControl.values:
            raise ValidationError(f"Unknown usage control {changes['usage_control']!r}.")
        version.usage_control = changes["usage_control"]
    if "recommended_vae" in changes:
        version.recommended_vae = clean_recommended_vae(changes["recommended_vae"], for_version=version)
    if "early_access_members" in changes:
        version.early_access_members = bool(changes["early_access_members"])
    if "early_access_tiers" in changes:
        version.early_access_tiers = clean_early_access_tiers(changes["early_access_tiers"])
    if "early_access_price" in changes:
        price = changes["early_access_price"]
        if isinstance(price, bool) or not isinstance(price, int) or not 0 <= price <= MAX_EARLY_ACCESS_PRICE:
            raise ValidationError(
                gettext("The early access price is a whole number of minor units from 0 to %(max)d.")
                % {"max": MAX_EARLY_ACCESS_PRICE}
            )
        version.early_access_price = price
    if "early_access_currency" in changes:
        version.early_access_currency = clean_currency(changes["early_access_currency"])
    if "early_access_days" in changes:
        days = changes["early_access_days"]
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_EARLY_ACCESS_DAYS:
            raise ValidationError(
                gettext("Early access lasts from 0 to %(max)d days.") % {"max": MAX_EARLY_ACCESS_DAYS}
            )
        if (
            days
            and FundingGoal.objects.filter(
                unlocks_version=version, status=FundingGoal.Status.REACHED
            ).exists()
        ):
            # Supporters paid to open it for everyone (docs/billing.md#crowdfunding-goals): it stays open.
            raise ValidationError(
                gettext(
                    "A reached crowdfunding goal made this version free for everyone; its early access can't start again."
                )
            )
        version.early_access_days = days
        if version.published_at:
            version.early_access_ends_at = version.published_at + timedelta(days=days) if days else None
    version.full_clean(validate_unique=False, validate_constraints=False)
    version.save()
    refresh_card_fields(model_ids=[version.model_id])
    return version


def detected_base_model(version: ModelVersion) -> BaseModel | None:
    """The base model the primary file's detection names (docs/detection.md), when it is a known one
    that differs from the declared one: the version page offers it as a one-click fix."""
    primary = next(
        (f for f in version.files.all() if f.is_primary and f.status == FileStatus.READY),
        None,
    )
    detected = ((primary.metadata or {}).get("detected") or {}).get("base_model") if primary else None
    if not detected or detected == version.base_model.name:
        return None
    return BaseModel.objects.filter(name=detected).first()


@transaction.atomic
def unpublish_version(*, version: ModelVersion, by) -> ModelVersion:
    """Take a published version out of every listing, search and API; its downloads stop. Its model
    goes too when no other version of it is public. The creator still sees both and can publish the
    version again (publish_version). Unpublishing twice changes nothing."""
    _check_manage(version.model, by)
    version = ModelVersion.objects.select_for_update().select_related("model").get(id=version.id)
    _check_not_deleted(version, version.model)
    if version.status != PublishStatus.PUBLISHED:
        if version.status == PublishStatus.UNPUBLISHED:
            return version
        raise ValidationError(gettext("Only a published version can be unpublished."))
    return publishing.unpublish_version(version=version)


@transaction.atomic
def unpublish_model(*, model: AIModel, by) -> AIModel:
    """Unpublish a model and every published version of it (see unpublish_version)."""
    _check_manage(model, by)
    model = AIModel.objects.select_for_update().get(id=model.id)
    _check_not_deleted(model)
    if model.status not in (PublishStatus.PUBLISHED, PublishStatus.UNPUBLISHED):
        raise ValidationError(gettext("Only a published model can be unpublished."))
    model.versions.filter(status=PublishStatus.PUBLISHED).update(
        status=PublishStatus.UNPUBLISHED, publish_when_ready=False, updated_at=timezone.now()
    )
    # A publish queued while files were processed would bring the model back behind the creator's back.
    model.versions.filter(publish_when_ready=True).update(publish_when_ready=False, updated_at=timezone.now())
    model.status = PublishStatus.UNPUBLISHED
    model.save(update_fields=["status", "updated_at"])
    refresh_card_fields(model_ids=[model.id])
    return model


def republish_version(*, version: ModelVersion, by) -> ModelVersion:
    """Make an unpublished version (and its model) public again, by the creator or a moderator."""
    _check_manage(version.model, by)
    _check_not_deleted(version, version.model)
    return publishing.request_publish(version=version)


def _release_blobs_on_commit(blob_ids) -> None:
    for blob_id in {b for b in blob_ids if b}:
        # robust: a lost release is logged and sweep_unused_blobs does it later (docs/faults.md).
        transaction.on_commit(lambda blob_id=blob_id: release_blob.delay(blob_id), robust=True)


def _delete_files(files: Iterable[ModelFile]) -> None:
    """Mark these files deleted; uploads still open are stopped and their parts deleted after the
    commit, and each blob is offered for release (it stays while another file uses it)."""
    files = list(files)
    uploads = [(f.upload_key, f.multipart_upload_id) for f in files if f.status == FileStatus.UPLOADING]
    ModelFile.objects.filter(id__in=[f.id for f in files]).update(
        status=FileStatus.DELETED, is_primary=False, updated_at=timezone.now()
    )
    # An open upload's row no longer names its parts, so the abandoned-uploads sweep removes them
    # should this process die before the on-commit deletion (tasks.sweep_abandoned_uploads).
    ModelFile.objects.filter(id__in=[f.id for f in files], multipart_upload_id__gt="").update(
        upload_key="", multipart_upload_id=""
    )
    for key, upload_id in uploads:
        transaction.on_commit(
            lambda key=key, upload_id=upload_id: storage.discard_upload(key=key, upload_id=upload_id)
        )
    _release_blobs_on_commit(f.blob_id for f in files)


def _end_version(version: ModelVersion) -> None:
    version.status = PublishStatus.DELETED
    version.publish_when_ready = False
    version.save(update_fields=["status", "publish_when_ready", "updated_at"])
    _delete_files(version.files.exclude(status=FileStatus.DELETED))


@transaction.atomic
def delete_version(*, version: ModelVersion, by) -> ModelVersion:
    """Delete a version (a draft or a published one): a status, the row stays. Its files are deleted
    too; the model is unpublished when no other version of it stays public."""
    _check_manage(version.model, by)
    version = ModelVersion.objects.select_for_update().select_related("model").get(id=version.id)
    _check_not_deleted(version, version.model)
    _end_version(version)
    model = version.model
    if (
        model.status == PublishStatus.PUBLISHED
        and not model.versions.filter(status=PublishStatus.PUBLISHED).exists()
    ):
        model.status = PublishStatus.UNPUBLISHED
        model.save(update_fields=["status", "updated_at"])
    refresh_card_fields(model_ids=[model.id])
    return version


@transaction.atomic
def delete_model(*, model: AIModel, by) -> AIModel:
    """Delete a model with all its versions and files: gone for everyone, its creator included."""
    _check_manage(model, by)
    model = AIModel.objects.select_for_update().get(id=model.id)
    _check_not_deleted(model)
    for version in model.versions.exclude(status=PublishStatus.DELETED):
        _end_version(version)
    model.status = PublishStatus.DELETED
    model.save(update_fields=["status", "updated_at"])
    refresh_card_fields(model_ids=[model.id])
    return model


@transaction.atomic
def delete_file(*, model_file: ModelFile, by) -> ModelFile:
    """Delete one file of a version. An upload still in progress is stopped and its parts deleted; a
    deleted primary file hands the role to the next ready file (publishing.ensure_primary)."""
    _check_manage(model_file.version.model, by)
    model_file = ModelFile.objects.select_for_update().select_related("version__model").get(id=model_file.id)
    _check_not_deleted(model_file, model_file.version, model_file.version.model)
    _delete_files([model_file])
    publishing.ensure_primary(model_file.version)
    model_file.refresh_from_db()
    refresh_card_fields(model_ids=[model_file.version.model_id])
    return model_file


class NotReady(ValidationError):
    """The file can't take this role in its current state (the API answers 409)."""


@transaction.atomic
def set_primary_file(*, model_file: ModelFile, by) -> ModelFile:
    """Make this ready file the one tools download by default; refuses files that are not ready."""
    _check_manage(model_file.version.model, by)
    model_file = ModelFile.objects.select_for_update().select_related("version__model").get(id=model_file.id)
    if not model_file.is_downloadable:
        raise NotReady(
            f"{model_file.name!r} is {model_file.get_status_display().lower()}; only a ready file can be "
            "the primary file."
        )
    model_file.version.files.exclude(id=model_file.id).filter(is_primary=True).update(is_primary=False)
    ModelFile.objects.filter(id=model_file.id).update(is_primary=True, updated_at=timezone.now())
    model_file.refresh_from_db()
    return model_file


# --- Moderation (docs/moderation.md). moderation/ decides; these write its decisions as statuses the
# selectors, searches, APIs and downloads already read. Nothing is deleted.


def _check_moderator(by) -> None:
    if not can_moderate(by):
        raise PermissionDenied(gettext("Only moderators can do this."))


@transaction.atomic
def set_moderation_status(*, target: AIModel | ModelVersion, status: str, reason: str, by) -> str:
    """Hide or remove a model or a version (status HIDDEN or REMOVED), or restore it to `status` (the
    one it had before, which moderation's audit log remembers). Returns the status it had. A hidden row
    is listed, searched and downloadable nowhere; its creator still sees it with `reason`."""
    _check_moderator(by)
    row = type(target).objects.select_for_update().get(id=target.id)
    if status not in PublishStatus.values or status == PublishStatus.DELETED:
        raise ValidationError(gettext("Unknown status %(status)s.") % {"status": repr(status)[:60]})
    if row.status == PublishStatus.DELETED:
        raise ValidationError(gettext("This was deleted by its creator; there is nothing to change."))
    before = row.status
    row.status = status
    row.moderation_reason = reason if status in MODERATED_STATUSES else ""
    fields = ["status", "moderation_reason", "updated_at"]
    if status in MODERATED_STATUSES:
        # A publish queued while files were processed must not bring it back.
        if isinstance(row, ModelVersion):
            row.publish_when_ready = False
            fields.append("publish_when_ready")
        else:
            row.versions.filter(publish_when_ready=True).update(publish_when_ready=False)
    if status == PublishStatus.PUBLISHED and row.published_at is None:
        row.published_at = timezone.now()
        fields.append("published_at")
    row.save(update_fields=fields)
    refresh_card_fields(model_ids=[row.id if isinstance(row, AIModel) else row.model_id])
    target.status, target.moderation_reason = row.status, row.moderation_reason
    return before


@transaction.atomic
def set_content_flags(
    *, model: AIModel, by, poi: bool | None = None, minor: bool | None = None, reason: str = ""
) -> AIModel:
    """Mark a model as depicting a real person (`poi`) or involving minors (`minor`). The rules follow
    from the flags wherever the model is read or written (docs/moderation.md#real-people-and-minors):
    a real person's content is never rated above PG-13 (AIModel.clean, ModelVersion.clean) nor
    downloadable by others while mature (downloads.check_download_allowed); content involving minors
    is hidden here, at once, pending review."""
    _check_moderator(by)
    model = AIModel.objects.select_for_update().get(id=model.id)
    if poi is not None:
        model.poi = bool(poi)
    if minor is not None:
        model.minor = bool(minor)
    model.save(update_fields=["poi", "minor", "updated_at"])
    if model.minor and model.status not in MODERATED_STATUSES and model.status != PublishStatus.DELETED:
        set_moderation_status(
            target=model,
            status=PublishStatus.HIDDEN,
            reason=reason or gettext("Flagged as involving minors; hidden pending review."),
            by=by,
        )
    return model


@transaction.atomic
def quarantine_file(*, model_file: ModelFile, reason: str, by) -> str:
    """A moderator quarantines a file: never downloadable again until released; a public version that
    carries it is unpublished (publishing.file_finished), as when the scan quarantines one. Returns the
    status it had."""
    _check_moderator(by)
    model_file = ModelFile.objects.select_for_update().get(id=model_file.id)
    if model_file.status == FileStatus.DELETED:
        raise ValidationError(gettext("This file was deleted; there is nothing to quarantine."))
    before = model_file.status
    model_file.status, model_file.scan_status = FileStatus.QUARANTINED, ScanStatus.QUARANTINED
    model_file.scan_message = gettext("Quarantined by a moderator: %(reason)s") % {"reason": reason}
    model_file.is_primary = False
    model_file.save(update_fields=["status", "scan_status", "scan_message", "is_primary", "updated_at"])
    publishing.file_finished(model_file=model_file)
    return before


@transaction.atomic
def release_file(*, model_file: ModelFile, by) -> str:
    """Undo quarantine_file: a stored file becomes ready and clean again (the moderator's verdict over
    the scan's). The version stays unpublished until its creator publishes it again."""
    _check_moderator(by)
    model_file = ModelFile.objects.select_for_update().get(id=model_file.id)
    if model_file.status != FileStatus.QUARANTINED or model_file.blob_id is None:
        raise ValidationError(gettext("Only a quarantined file that was stored can be released."))
    before = model_file.status
    model_file.status, model_file.scan_status, model_file.scan_message = (
        FileStatus.READY,
        ScanStatus.CLEAN,
        "",
    )
    model_file.save(update_fields=["status", "scan_status", "scan_message", "updated_at"])
    publishing.ensure_primary(model_file.version)
    return before

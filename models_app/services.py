"""Every write to the catalog that matters. Plain functions, keyword-only arguments, one transaction each."""

import logging
from collections.abc import Iterable
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from . import publishing, storage
from .cards import refresh_card_fields
from .models import (
    AIModel,
    BaseModel,
    FileFormat,
    FileStatus,
    FileType,
    ModelFile,
    ModelType,
    ModelVersion,
    Tag,
    UsageControl,
    normalize_tag,
)
from .storage import model_storage, new_upload_key
from .tasks import process_file
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


def tags_from_names(names: Iterable[str]) -> list[Tag]:
    """Tag rows for the given names in their safe form (models.normalize_tag), de-duplicated, created
    when new."""
    clean = []
    for raw in names:
        name = normalize_tag(raw)
        if name and name not in clean:
            clean.append(name)
    if len(clean) > MAX_TAGS:
        raise ValidationError(f"A model can have at most {MAX_TAGS} tags; you gave {len(clean)}.")
    return [Tag.objects.get_or_create(name=name)[0] for name in clean]


def _clean_trigger_words(words: Iterable[str]) -> list[str]:
    clean = []
    for raw in words:
        word = str(raw).strip()[:200]
        if word and word not in clean:
            clean.append(word)
    if len(clean) > MAX_TRIGGER_WORDS:
        raise ValidationError(f"A version can have at most {MAX_TRIGGER_WORDS} trigger words.")
    return clean


@transaction.atomic
def create_model(
    *,
    owner,
    name: str,
    type: str,
    description: str = "",
    tags: Iterable[str] = (),
    nsfw: bool = False,
    **license_fields,
) -> AIModel:
    """Create a draft model owned by `owner`. Nothing is public until a version is published."""
    name = name.strip()
    if not name:
        raise ValidationError("Give the model a name.")
    if type not in ModelType.values:
        raise ValidationError(f"{type!r} is not a model type; choose one of: {', '.join(ModelType.values)}.")
    model = AIModel(
        owner=owner,
        name=name[:200],
        slug=unique_slug(owner=owner, name=name),
        type=type,
        description=description,
        nsfw=nsfw,
        **license_fields,
    )
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
) -> ModelVersion:
    """Add a draft version to a model. Early access starts when it is published."""
    if isinstance(base_model, str):
        try:
            base_model = BaseModel.objects.get(name=base_model)
        except BaseModel.DoesNotExist:
            raise ValidationError(f"Unknown base model {base_model!r}.") from None
    name = name.strip()
    if not name:
        raise ValidationError("Give the version a name, such as v1.0.")
    if model.versions.filter(name=name).exists():
        raise ValidationError(f"This model already has a version named {name!r}.")
    if not 0 <= early_access_days <= MAX_EARLY_ACCESS_DAYS:
        raise ValidationError(f"Early access lasts from 0 to {MAX_EARLY_ACCESS_DAYS} days.")
    if usage_control not in UsageControl.values:
        raise ValidationError(f"Unknown usage control {usage_control!r}.")
    return ModelVersion.objects.create(
        model=model,
        name=name[:120],
        base_model=base_model,
        trained_words=_clean_trigger_words(trained_words),
        description=description,
        early_access_days=early_access_days,
        usage_control=usage_control,
    )


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


def check_upload_allowed(*, filename: str, size: int | None) -> str:
    """Refuse a file by its name and declared size before any byte is sent; returns the clean name."""
    name = clean_filename(filename)
    extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    allowed = settings.ALLOWED_UPLOAD_EXTENSIONS
    if extension not in allowed:
        raise ValidationError(
            f"{name!r} has a file type the hub does not accept; allowed: {', '.join(allowed)}."
        )
    if size is not None:
        if size <= 0:
            raise ValidationError(f"{name!r} is empty.")
        if size > settings.MAX_UPLOAD_SIZE:
            raise ValidationError(
                f"{name!r} is {_human_size(size)}; the largest file the hub accepts is "
                f"{_human_size(settings.MAX_UPLOAD_SIZE)}."
            )
    return name


def _check_owner(version: ModelVersion, by) -> None:
    if version.model.owner_id != by.id:
        raise PermissionDenied("Only the creator of this model can add files to it.")


def _new_file_row(*, version, name, type, is_primary, **fields) -> ModelFile:
    if type not in FileType.values:
        raise ValidationError(f"{type!r} is not a file type; choose one of: {', '.join(FileType.values)}.")
    if is_primary is None:
        is_primary = type == FileType.MODEL and not version.files.filter(is_primary=True).exists()
    elif is_primary:
        version.files.filter(is_primary=True).update(is_primary=False)
    return ModelFile.objects.create(
        version=version, name=name, type=type, format=_guess_format(name), is_primary=is_primary, **fields
    )


def _enqueue_processing(model_file: ModelFile) -> None:
    transaction.on_commit(lambda: process_file.delay(model_file.id))


def add_file(
    *,
    version: ModelVersion,
    name: str,
    content: BinaryIO,
    type: str = FileType.MODEL,
    is_primary: bool | None = None,
) -> ModelFile:
    """Store bytes the hub already has (seed_demo, import_models) and queue them for processing.

    The bytes are written before the row exists, so a failed write leaves no row; a row whose
    processing never starts is picked up by the periodic sweep.
    """
    name = check_upload_allowed(filename=name, size=None)
    key = model_storage().save(new_upload_key(name), content)
    size = model_storage().size(key)
    if size > settings.MAX_UPLOAD_SIZE:
        model_storage().delete(key)
        check_upload_allowed(filename=name, size=size)
    with transaction.atomic():
        model_file = _new_file_row(
            version=version, name=name, type=type, is_primary=is_primary,
            upload_key=key, size=size, status=FileStatus.PENDING,
        )  # fmt: skip
        _enqueue_processing(model_file)
    return model_file


@transaction.atomic
def start_upload(
    *, version: ModelVersion, by, filename: str, size: int, type: str = FileType.MODEL, is_primary=None
) -> ModelFile:
    """Open a resumable multipart upload for one file of a version.

    The row exists from here on, in status "uploading", so the creator sees it on the version page
    and can come back to it; its bytes go straight to storage, never through the web process.
    """
    _check_owner(version, by)
    name = check_upload_allowed(filename=filename, size=size)
    key = new_upload_key(name)
    upload_id = storage.start_multipart(key)
    return _new_file_row(
        version=version, name=name, type=type, is_primary=is_primary,
        upload_key=key, multipart_upload_id=upload_id, size=size, status=FileStatus.UPLOADING,
    )  # fmt: skip


def _check_uploading(model_file: ModelFile) -> None:
    if model_file.status != FileStatus.UPLOADING or not model_file.multipart_upload_id:
        raise ValidationError("This upload is already finished; start a new one to send the file again.")


def part_upload_url(*, model_file: ModelFile, part_number: int) -> str:
    _check_uploading(model_file)
    if not 1 <= part_number <= MAX_PARTS:
        raise ValidationError(f"Part numbers run from 1 to {MAX_PARTS}.")
    return storage.part_upload_url(
        key=model_file.upload_key,
        upload_id=model_file.multipart_upload_id,
        part_number=part_number,
        file_id=model_file.id,
    )


def uploaded_parts(*, model_file: ModelFile) -> list[dict]:
    _check_uploading(model_file)
    return storage.list_parts(key=model_file.upload_key, upload_id=model_file.multipart_upload_id)


def complete_upload(*, model_file: ModelFile, by) -> ModelFile:
    """Close the multipart upload and queue the file for processing.

    The parts are checked against what storage actually holds (numbers 1..n, the declared total
    size), so a client can't finish an upload with bytes missing or more than it announced.
    """
    _check_owner(model_file.version, by)
    _check_uploading(model_file)
    parts = storage.list_parts(key=model_file.upload_key, upload_id=model_file.multipart_upload_id)
    numbers = [p["PartNumber"] for p in parts]
    if numbers != list(range(1, len(parts) + 1)):
        missing = sorted(set(range(1, max(numbers, default=0) + 1)) - set(numbers))
        raise ValidationError(
            f"Parts {', '.join(map(str, missing[:10]))} of {model_file.name!r} never arrived; resume the upload."
            if missing
            else f"No part of {model_file.name!r} has arrived yet."
        )
    received = sum(p["Size"] for p in parts)
    if received != model_file.size:
        raise ValidationError(
            f"{model_file.name!r} was announced as {model_file.size:,} bytes but {received:,} arrived; "
            "resume or restart the upload."
        )
    storage.complete_multipart(
        key=model_file.upload_key, upload_id=model_file.multipart_upload_id, parts=parts
    )
    with transaction.atomic():
        updated = ModelFile.objects.filter(id=model_file.id, status=FileStatus.UPLOADING).update(
            status=FileStatus.PENDING, updated_at=timezone.now()
        )
        if updated:
            _enqueue_processing(model_file)
    model_file.refresh_from_db()
    return model_file


def abort_upload(*, model_file: ModelFile, by) -> None:
    """Give up an unfinished upload: storage forgets the parts and the row goes away."""
    _check_owner(model_file.version, by)
    _check_uploading(model_file)
    storage.abort_multipart(key=model_file.upload_key, upload_id=model_file.multipart_upload_id)
    model_file.delete()


def publish_version(*, version: ModelVersion, by) -> ModelVersion:
    """Make a version, and its model, public once every file has been checked. Only the owner may
    publish. While files are still being processed the publish is queued (`publish_when_ready`) and
    the worker completes it (publishing.file_finished); the returned version says which happened."""
    if version.model.owner_id != by.id:
        raise PermissionDenied("Only the creator of this model can publish it.")
    return publishing.request_publish(version=version)

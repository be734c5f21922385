"""Every write to the catalog that matters. Plain functions, keyword-only arguments, one transaction each."""

import logging
import re
import struct
from collections.abc import Iterable
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from .hashing import file_hashes
from .models import (
    AIModel,
    BaseModel,
    ContentBlob,
    FileFormat,
    FileStatus,
    FileType,
    ModelFile,
    ModelType,
    ModelVersion,
    PublishStatus,
    Tag,
)
from .storage import copy_object, model_storage, new_upload_key
from .text import clean_filename

log = logging.getLogger(__name__)

MAX_TAGS = 20
MAX_TRIGGER_WORDS = 50


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
    """Tag rows for the given names: trimmed, lowercased, de-duplicated, created when new."""
    clean = []
    for raw in names:
        name = re.sub(r"\s+", " ", str(raw)).strip().lower()[:60]
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
    return model


@transaction.atomic
def create_version(
    *,
    model: AIModel,
    name: str,
    base_model: BaseModel | str,
    trained_words: Iterable[str] = (),
    description: str = "",
) -> ModelVersion:
    """Add a draft version to a model."""
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
    return ModelVersion.objects.create(
        model=model,
        name=name[:120],
        base_model=base_model,
        trained_words=_clean_trigger_words(trained_words),
        description=description,
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


def add_file(
    *,
    version: ModelVersion,
    name: str,
    content: BinaryIO,
    type: str = FileType.MODEL,
    is_primary: bool | None = None,
) -> ModelFile:
    """Store uploaded bytes under a fresh key and queue the file for processing.

    The bytes are written before the row exists, so a failed write leaves no row; a row whose
    processing never starts is picked up by the periodic sweep.
    """
    from .tasks import process_file  # tasks imports services; import here to keep the cycle lazy

    name = clean_filename(name)
    key = model_storage().save(new_upload_key(name), content)
    size = model_storage().size(key)
    with transaction.atomic():
        if is_primary is None:
            is_primary = type == FileType.MODEL and not version.files.filter(is_primary=True).exists()
        model_file = ModelFile.objects.create(
            version=version,
            name=name,
            type=type,
            format=_guess_format(name),
            is_primary=is_primary,
            upload_key=key,
            size=size,
            status=FileStatus.PENDING,
        )
        transaction.on_commit(lambda: process_file.delay(model_file.id))
    return model_file


@transaction.atomic
def publish_version(*, version: ModelVersion, by) -> ModelVersion:
    """Make a version, and its model, public. Only the owner may publish."""
    if version.model.owner_id != by.id:
        raise ValidationError("Only the creator of this model can publish it.")
    files = list(version.files.all())
    if not files:
        raise ValidationError("Add at least one file before publishing.")
    if all(f.status in (FileStatus.REJECTED, FileStatus.QUARANTINED) for f in files):
        raise ValidationError("None of this version's files passed processing; upload a new file first.")
    now = timezone.now()
    version.status = PublishStatus.PUBLISHED
    version.published_at = version.published_at or now
    version.save(update_fields=["status", "published_at", "updated_at"])
    model = version.model
    if model.status != PublishStatus.PUBLISHED:
        model.status = PublishStatus.PUBLISHED
        model.published_at = model.published_at or now
        model.save(update_fields=["status", "published_at", "updated_at"])
    return version


class FileRejected(Exception):
    """The file itself is bad: an expected outcome, stored as a status with a readable message."""


def _safetensors_data_start(f: BinaryIO, size: int) -> int | None:
    """Where tensor data starts if the file looks like safetensors (8-byte length, then a JSON object)."""
    f.seek(0)
    head = f.read(9)
    if len(head) < 9:
        return None
    (header_len,) = struct.unpack("<Q", head[:8])
    if head[8:9] != b"{" or 8 + header_len > size:
        return None
    return 8 + header_len


def process_file(*, model_file: ModelFile) -> ModelFile:
    """Hash a stored upload, move it under its content key and mark the file ready.

    Safe to run again after a crash at any point: hashing only reads, the copy is skipped when the
    content key already exists, an identical earlier upload's blob is reused, and the upload is
    deleted only after the database points at the blob.
    """
    storage = model_storage()
    if model_file.blob_id is None:
        if not model_file.upload_key or not storage.exists(model_file.upload_key):
            raise FileRejected("The uploaded bytes are missing; upload the file again.")
        with storage.open(model_file.upload_key, "rb") as f:
            size = storage.size(model_file.upload_key)
            hashes = file_hashes(f, data_start=_safetensors_data_start(f, size))
        key = ContentBlob.key_for(hashes["SHA256"])
        copy_object(model_file.upload_key, key)
        try:
            with transaction.atomic():
                blob, created = ContentBlob.objects.get_or_create(
                    sha256=hashes["SHA256"],
                    defaults={
                        "size": size,
                        "storage_key": key,
                        "autov1": hashes["AutoV1"],
                        "autov3": hashes.get("AutoV3_full"),
                        "crc32": hashes["CRC32"],
                        "blake3": hashes["BLAKE3"],
                    },
                )
        except IntegrityError:  # another worker stored the same bytes at the same moment
            blob, created = ContentBlob.objects.get(sha256=hashes["SHA256"]), False
        model_file.blob = blob
        model_file.size = blob.size
        if not created:
            model_file.metadata = {**model_file.metadata, "duplicate_of_existing_blob": True}
    model_file.status = FileStatus.READY
    model_file.status_message = ""
    model_file.processed_at = timezone.now()
    model_file.save()
    if model_file.upload_key:
        storage.delete(model_file.upload_key)
        ModelFile.objects.filter(id=model_file.id).update(upload_key="")
        model_file.upload_key = ""
    return model_file


def mark_file_failed(*, model_file: ModelFile, status: str, message: str) -> ModelFile:
    model_file.status = status
    model_file.status_message = message
    model_file.processed_at = timezone.now()
    model_file.save(update_fields=["status", "status_message", "processed_at", "updated_at"])
    return model_file

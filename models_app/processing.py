"""What a worker does to one uploaded file: check what it is, scan it, hash it, store it by content.

Each step reads from storage without holding the file in memory: the header and pickle scans use
range reads, the hashes one streaming pass. Nothing here unpickles or executes anything from a file.
"""

import logging
from dataclasses import asdict

from django.core import signing
from django.core.files.base import ContentFile, File
from django.db import IntegrityError, transaction
from django.utils import timezone

import billing

from . import publishing
from .cards import refresh_card_fields
from .files import clamav, images, video
from .files.detection import detect, suggested_trigger_words, training_metadata
from .files.hashing import StreamHasher, hash_chunks
from .files.safetensors import HeaderError, read_header
from .files.scanning import SNIFF_BYTES, check_declared_format, scan_pickle_file, sniff_format
from .models import ContentBlob, FileStatus, FileType, ModelFile, ScanStatus
from .storage import (
    STREAM_CHUNK,
    RangeReader,
    assemble_local_parts,
    copy_object,
    discard_upload,
    is_s3,
    iter_object,
    model_storage,
    new_upload_key,
    object_size,
    write_local_object,
)
from .text import clean_json

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".webp"}
VIDEO_EXTENSIONS = {".mp4", ".webm"}  # short example clips (docs/video.md)
# Base models that share one architecture: a Pony LoRA looks exactly like an SDXL one.
FAMILIES = {
    "SD 1.4": "sd1", "SD 1.5": "sd1", "SD 2.0": "sd2", "SD 2.1": "sd2",
    "SDXL 1.0": "sdxl", "SDXL Turbo": "sdxl", "Pony": "sdxl", "Illustrious": "sdxl",
    "SD 3": "sd3", "SD 3.5": "sd3", "Flux.1 S": "flux", "Flux.1 D": "flux",
}  # fmt: skip


class FileRejected(Exception):
    """The file itself is bad: an expected outcome, stored as a status with a readable message."""


# Readers that apps above this one add for the content they own (resources registers its ComfyUI
# workflow and wildcard readers in its AppConfig.ready): models_app knows this list, never those apps.
# Each is called as reader(model_file=, f=, size=, kind=) with f a seekable reader of the stored
# bytes and kind what sniff_format found; it returns {metadata key: JSON value} to store on the file
# (an empty dict when the file is not its kind), or raises FileRejected with a sentence for the creator.
CONTENT_READERS: list = []


def register_content_reader(reader):
    """Add a reader to CONTENT_READERS once (AppConfig.ready can run more than once in tests)."""
    if reader not in CONTENT_READERS:
        CONTENT_READERS.append(reader)
    return reader


# What `import_models` asks when no --type is given and the file is not safetensors: each detector is
# called as detector(path=) (a local pathlib.Path) and returns a ModelType value, or None when the file
# is not its kind. Registered like CONTENT_READERS by the apps that own those kinds.
TYPE_DETECTORS: list = []


def register_type_detector(detector):
    if detector not in TYPE_DETECTORS:
        TYPE_DETECTORS.append(detector)
    return detector


# Called as hook(model_file=) once a file's processing ended (ready, quarantined, rejected or error):
# resources turns a finished example image into its Image row (docs/images.md#example-images).
FILE_FINISHED_HOOKS: list = []


def register_file_finished_hook(hook):
    """Add a hook to FILE_FINISHED_HOOKS once."""
    if hook not in FILE_FINISHED_HOOKS:
        FILE_FINISHED_HOOKS.append(hook)
    return hook


def _run_finished_hooks(model_file: ModelFile) -> None:
    for hook in FILE_FINISHED_HOOKS:
        hook(model_file=model_file)


def process_file(*, model_file: ModelFile) -> ModelFile:
    """Turn stored upload bytes into a ready (or quarantined, or rejected) file.

    Safe to run again after a crash at any point: the checks and hashes only read, the copy to the
    content key is skipped when it exists, an identical earlier upload's blob is reused, and the
    upload is deleted only after the database points at the blob.
    """
    if model_file.blob_id is None:
        key = model_file.upload_key
        # Hashes taken while the bytes were stored (docs/performance.md#uploads-in-one-pass): by
        # add_file, or now while the local parts are joined. The header is parsed after, from storage.
        one_pass = read_one_pass(model_file, key)
        if model_file.multipart_upload_id and not is_s3():
            one_pass = _assemble_hashing(model_file, key) or one_pass
        if not key or not model_storage().exists(key):
            raise FileRejected("The uploaded bytes are missing; upload the file again.")
        size = object_size(key)
        limit = billing.entitlements(model_file.version.model.owner).upload_limit_bytes
        if size > limit:
            raise FileRejected(f"The file is {size:,} bytes, over the hub's limit of {limit:,}.")
        if size == 0:
            raise FileRejected("The file is empty.")
        ModelFile.objects.filter(id=model_file.id).update(scan_status=ScanStatus.SCANNING)
        facts = inspect_content(model_file=model_file, key=key, size=size)
        data_start = facts.pop("data_start")
        scan_wanted = clamav.clamav_configured() and facts["scan_status"] == ScanStatus.CLEAN
        hashes = _one_pass_hashes(one_pass, size=size, data_start=data_start, scan_wanted=scan_wanted)
        if hashes is not None:
            if scan_wanted:
                _apply_virus_verdict(facts, *one_pass["virus"])
        elif scan_wanted:
            # One read for the hashes and ClamAV (docs/hashes.md#one-read-for-hashes-and-the-virus-scan).
            with clamav.InstreamScan() as scan:
                hashes = hash_chunks(scan.tee(_with_progress(model_file, iter_object(key), size)), data_start)
                _apply_virus_verdict(facts, *scan.verdict())
        else:
            hashes = hash_chunks(_with_progress(model_file, iter_object(key), size), data_start)
        model_file.metadata.pop(ONE_PASS_KEY, None)
        blob, created = _store_blob(key, size, hashes)
        if facts["metadata"].get("image"):
            facts["metadata"]["image"]["thumbnail_key"] = store_thumbnail(blob)
        if facts["metadata"].get("video"):
            facts["metadata"]["video"].update(_store_poster(blob, facts["metadata"]["video"]))
        model_file.blob = blob
        model_file.size = blob.size
        model_file.metadata = clean_json({**model_file.metadata, **facts["metadata"]})
        if not created:
            model_file.metadata["duplicate_of_existing_blob"] = True
        model_file.fp = facts.get("fp", model_file.fp)
        model_file.size_variant = facts.get("size_variant", model_file.size_variant)
        model_file.scan_status = facts["scan_status"]
        model_file.scan_message = facts["scan_message"]
        model_file.scanned_at = timezone.now()
    if model_file.scan_status == ScanStatus.CLEAN:
        model_file.status, model_file.status_message = FileStatus.READY, ""
    else:
        model_file.status = FileStatus.QUARANTINED
        model_file.status_message = (
            "Quarantined: the safety scan flagged this file. It is not downloadable; a moderator will review it."
            if model_file.scan_status == ScanStatus.QUARANTINED
            else "Quarantined: the file could not be scanned, so it is not downloadable. "
            "Re-save it as safetensors and upload it again."
        )
    model_file.progress = 100
    model_file.processed_at = timezone.now()
    with transaction.atomic():
        # Deleted while being processed (services.delete_file locks the row too): it stays deleted,
        # and tasks.sweep_unused_blobs releases the blob it now names if nothing else uses it.
        current = (
            ModelFile.objects.select_for_update().filter(id=model_file.id).values_list("status", flat=True)
        )
        if current.first() == FileStatus.DELETED:
            model_file.status, model_file.is_primary = FileStatus.DELETED, False
        model_file.save()
    if model_file.upload_key:
        model_storage().delete(model_file.upload_key)
        ModelFile.objects.filter(id=model_file.id).update(upload_key="", multipart_upload_id="")
        model_file.upload_key = model_file.multipart_upload_id = ""
    _run_finished_hooks(model_file)
    if model_file.type == FileType.IMAGE:
        refresh_card_fields(model_ids=[model_file.version.model_id])  # it may be the model's new preview
    publishing.file_finished(model_file=model_file)
    return model_file


def _apply_virus_verdict(facts: dict, verdict: str, message: str | None) -> None:
    if verdict != "Success":
        facts["scan_status"] = ScanStatus.QUARANTINED if verdict == "Danger" else ScanStatus.ERROR
        facts["scan_message"] = f"ClamAV: {message}"
    facts["metadata"]["virus_scan"] = {"result": verdict, "message": message}


# --- Hashing while the bytes are stored (docs/performance.md#uploads-in-one-pass).

# The metadata key of a file's signed one-pass result (add_file's); the worker removes it.
ONE_PASS_KEY = "one_pass_hashes"
_ONE_PASS_SALT = "models_app.processing.one-pass"


class OnePass:
    """Hashes (and ClamAV's verdict, when ClamAV is configured) of bytes fed as they are stored.

    The header is not parsed yet, so AutoV3 starts where the first 8 bytes say the tensor data
    would start (hashing.guess_data_start); _one_pass_hashes keeps it only if the header agrees.
    """

    def __init__(self, size: int):
        self.hasher = StreamHasher(size)
        self.scan = clamav.InstreamScan() if clamav.clamav_configured() else None

    def feed(self, block, done=None) -> None:
        """The next bytes; with done, a view of a buffer reused once done() runs (StreamHasher.update)."""
        if self.scan is not None:
            self.scan.feed(block)  # sent before it returns
        self.hasher.update(block, done)

    def finish(self) -> dict:
        try:
            hashes = self.hasher.result()
            virus = list(self.scan.verdict()) if self.scan is not None else None
        finally:
            self.close()
        return {
            "hashes": hashes,
            "data_start": self.hasher.data_start,
            "size": self.hasher.fed,
            "virus": virus,
        }

    def close(self) -> None:
        self.hasher.close()
        if self.scan is not None:
            self.scan.close()


def sign_one_pass(key: str, result: dict) -> str:
    """The one-pass result as a token bound to the upload key, kept on the row until the worker runs."""
    return signing.dumps({**result, "key": key}, salt=_ONE_PASS_SALT)


def read_one_pass(model_file: ModelFile, key: str) -> dict | None:
    token = model_file.metadata.get(ONE_PASS_KEY)
    if not token or not key:
        return None
    try:
        result = signing.loads(token, salt=_ONE_PASS_SALT)
    except signing.BadSignature:
        return None
    return result if result.get("key") == key else None


def _one_pass_hashes(one_pass: dict | None, *, size: int, data_start: int | None, scan_wanted: bool):
    """The one-pass hashes if they cover these bytes with the parsed header's AutoV3 start (and
    ClamAV saw the bytes, when a scan is wanted); None means read the bytes again."""
    if one_pass is None or one_pass["size"] != size:
        return None
    if scan_wanted and (not one_pass["virus"] or one_pass["virus"][0] not in ("Success", "Danger")):
        return None  # no verdict from the store's scan (clamd unreachable from there): scan now
    hashes = dict(one_pass["hashes"])
    if data_start is None:  # not safetensors after all: no AutoV3 (docs/hashes.md)
        hashes.pop("AutoV3", None)
        hashes.pop("AutoV3_full", None)
    elif data_start != one_pass["data_start"]:
        return None
    return hashes


class _FeedingFile(File):
    """Content being saved to storage that feeds each byte, once and in order, to a OnePass as
    storage reads it. A read that skips ahead (a storage that seeks) marks the pass incomplete;
    bytes read again after a seek back (a retried request) are not fed twice."""

    def __init__(self, content: File, feed):
        super().__init__(content.file, name=content.name)
        self._feed, self._pos, self.fed, self.skipped = feed, 0, 0, False
        content.seek(0)

    def read(self, n=-1):
        data = self.file.read(n)
        start, self._pos = self._pos, self._pos + len(data)
        if start > self.fed:
            self.skipped = True
        elif self._pos > self.fed and not self.skipped:
            self._feed(data[self.fed - start :] if start < self.fed else data)
            self.fed = self._pos
        return data

    def seek(self, offset, whence=0):
        self._pos = self.file.seek(offset, whence)
        return self._pos

    def tell(self):
        return self._pos

    def chunks(self, chunk_size=None):
        return super().chunks(chunk_size or STREAM_CHUNK)  # not File's 64 KiB: fewer, bigger blocks


def save_hashing(name: str, content) -> tuple[str, str | None]:
    """Save content (a file object) at a new upload key, hashing (and scanning) it while storage
    reads it. Returns the key and the signed one-pass token for the row's metadata, or None when
    storage did not read the bytes exactly once in order (then the worker reads them again)."""
    content = content if isinstance(content, File) else File(content, name=name)
    one_pass = OnePass(content.size)
    try:
        if is_s3():
            feeding = _FeedingFile(content, one_pass.feed)
            key = model_storage().save(new_upload_key(name), feeding)
            complete = not feeding.skipped and feeding.fed == content.size
        else:  # read into reused buffers, written around the page cache (storage.write_local_object)
            key = new_upload_key(name)
            content.seek(0)
            complete = write_local_object(key, content, on_block=one_pass.feed) == content.size
        if not complete:
            return key, None
        return key, sign_one_pass(key, one_pass.finish())
    finally:
        one_pass.close()


def _assemble_hashing(model_file: ModelFile, key: str) -> dict | None:
    """Hash (and scan) the local parts' object in one read as it becomes the upload's object.
    None when an earlier run did that: then the bytes are read again."""
    one_pass = OnePass(model_file.size or 0)
    progress = _progress_callback(model_file, model_file.size or 0)
    try:
        joined = assemble_local_parts(
            key=key,
            upload_id=model_file.multipart_upload_id,
            on_block=lambda block: (one_pass.feed(block), progress(len(block))),
        )
        if not joined:
            return None
        return one_pass.finish()
    finally:
        one_pass.close()


def inspect_content(*, model_file: ModelFile, key: str, size: int) -> dict:
    """Sniff, parse and scan the stored bytes; raises FileRejected for a file the hub refuses."""
    facts = {"data_start": None, "scan_status": ScanStatus.CLEAN, "scan_message": "", "metadata": {}}
    with RangeReader(key) as f:
        head = f.read(SNIFF_BYTES)
        kind = sniff_format(head)
        f.seek(0)
        if model_file.extension == ".safetensors" and kind == "unknown":
            kind = "safetensors"  # parse it, so the creator learns which rule the header breaks
        problem = check_declared_format(model_file.extension, kind)
        if problem:
            raise FileRejected(problem)
        if kind == "safetensors":
            _inspect_safetensors(model_file, f, size, facts)
        elif kind in (
            "zip",
            "pickle",
        ):  # torch checkpoints, and .zip training data (zip checks + any pickles)
            result = scan_pickle_file(f, size)
            facts["metadata"]["pickle_scan"] = {"result": result.verdict, "globals": result.globals}
            facts["scan_message"] = result.message or ""
            if result.verdict == "Danger":
                facts["scan_status"] = ScanStatus.QUARANTINED
            elif result.verdict == "Error":
                facts["scan_status"] = ScanStatus.ERROR
        elif model_file.extension in IMAGE_EXTENSIONS:
            facts["metadata"]["image"] = _inspect_image(f)
        elif model_file.extension in VIDEO_EXTENSIONS:
            try:  # the container's own headers only: no codec runs in this step (docs/video.md)
                info = video.probe_video(f, size)
            except video.VideoRejected as exc:
                raise FileRejected(str(exc)) from None
            facts["metadata"]["video"] = {**asdict(info), "mime_type": info.mime_type}
        for reader in CONTENT_READERS:
            f.seek(0)
            facts["metadata"].update(reader(model_file=model_file, f=f, size=size, kind=kind) or {})
        facts["metadata"]["format_sniffed"] = kind
        facts["metadata"]["header_bytes_read"] = f.bytes_fetched
    return facts


def _inspect_image(f) -> dict:
    try:
        info = images.inspect_image(f)
        f.seek(0)
        text = images.image_text_chunks(f)
        f.seek(0)
        blurhash = images.make_blurhash(f)  # the placeholder CivitAI's API sends as `hash`
    except images.ImageRejected as exc:
        raise FileRejected(str(exc)) from None
    return {**asdict(info), "text": text, "blurhash": blurhash}


def store_image(*, key: str, name: str) -> tuple[ContentBlob, dict]:
    """The pipeline's steps for an image that is not a version's file (resources' posts and imports):
    the same size limits, sniffing, image checks, one-pass hashes, ClamAV, content-addressed blob and
    thumbnail as process_file, then the upload bytes are deleted. Returns the blob and the image facts
    ({width, height, format, mime_type, text, blurhash, thumbnail_key}); raises FileRejected with a
    sentence. Safe to re-run until the upload is deleted: every write is keyed by the content hash."""
    if not key or not model_storage().exists(key):
        raise FileRejected("The uploaded bytes are missing; upload the image again.")
    size = object_size(key)
    if size > images.MAX_FILE_BYTES:
        raise FileRejected(f"The image is {size:,} bytes, over the hub's limit of {images.MAX_FILE_BYTES:,}.")
    if size == 0:
        raise FileRejected("The file is empty.")
    extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    with RangeReader(key) as f:
        kind = sniff_format(f.read(SNIFF_BYTES))
        problem = check_declared_format(extension, kind)
        if problem:
            raise FileRejected(problem)
        if extension not in IMAGE_EXTENSIONS:
            raise FileRejected(images.NOT_AN_IMAGE)
        f.seek(0)
        facts = _inspect_image(f)
    if clamav.clamav_configured():
        with clamav.InstreamScan() as scan:  # the same single read as process_file
            hashes = hash_chunks(scan.tee(iter_object(key)), None)
            verdict, message = scan.verdict()
        if verdict != "Success":
            raise FileRejected(f"The virus scan did not pass this image (ClamAV: {message}).")
    else:
        hashes = hash_chunks(iter_object(key), None)
    blob, _ = _store_blob(key, size, hashes)
    facts["thumbnail_key"] = store_thumbnail(blob)
    model_storage().delete(key)
    return blob, clean_json(facts)


def store_bytes(data: bytes) -> ContentBlob:
    """A blob for bytes the hub made itself (resources' copy of an image without its GPS EXIF): hashed
    in one pass and stored by content like any upload, so storing them twice stores one blob."""
    hashes = hash_chunks(iter([data]), None)
    content_key = ContentBlob.key_for(hashes["SHA256"])
    if not model_storage().exists(content_key):
        model_storage().save(content_key, ContentFile(data))
    ContentBlob.objects.filter(sha256=hashes["SHA256"], released_at__isnull=False).update(released_at=None)
    try:
        with transaction.atomic():
            blob, _ = ContentBlob.objects.get_or_create(
                sha256=hashes["SHA256"],
                defaults={
                    "size": len(data),
                    "storage_key": content_key,
                    "autov1": hashes["AutoV1"],
                    "autov3": hashes.get("AutoV3_full"),
                    "crc32": hashes["CRC32"],
                    "blake3": hashes["BLAKE3"],
                },
            )
    except IntegrityError:
        blob = ContentBlob.objects.get(sha256=hashes["SHA256"])
    return blob


def _inspect_safetensors(model_file: ModelFile, f, size: int, facts: dict) -> None:
    try:
        header = read_header(f, size)
    except HeaderError as exc:
        raise FileRejected(f"This is not a valid safetensors file: {exc}") from None
    detection = detect(header)
    dtypes: dict[str, int] = {}
    for tensor in header.tensors:
        dtypes[tensor.dtype] = dtypes.get(tensor.dtype, 0) + 1
    facts["data_start"] = header.data_start
    facts["fp"] = detection.fp or ""
    facts["size_variant"] = detection.size_variant or ""
    facts["metadata"].update(
        {
            "safetensors": {
                "tensor_count": len(header.tensors),
                "dtypes": dtypes,
                "header_size": header.header_size,
                "warnings": header.warnings,
            },
            "detected": asdict(detection),
            "training": training_metadata(header.metadata),
            "suggested_trigger_words": suggested_trigger_words(header.metadata),
            "hints": _hints(model_file, detection),
        }
    )


def _hints(model_file: ModelFile, detection) -> list[str]:
    """The uploader's choice wins; where the file's evidence disagrees, say so next to the file."""
    hints = []
    model = model_file.version.model
    if model_file.type == FileType.MODEL and detection.model_type and detection.model_type != model.type:
        same_family = {detection.model_type, model.type} <= {"LORA", "LoCon", "DoRA"}
        if not same_family or detection.confidence >= 0.9:
            hints.append(
                f"This file looks like a {detection.model_type} ({'; '.join(detection.evidence[:2])}), "
                f"but the model is listed as {model.type}."
            )
    declared = model_file.version.base_model.name
    if detection.base_model and FAMILIES.get(detection.base_model) != FAMILIES.get(declared):
        if FAMILIES.get(declared) is not None or declared != "Other":
            hints.append(
                f"This file looks like it was made for {detection.base_model}, but the version says {declared}."
            )
    return hints


def _with_progress(model_file: ModelFile, chunks, size: int):
    """Pass chunks through, saving the percentage done on the row about every 5%."""
    progress = _progress_callback(model_file, size)
    for chunk in chunks:
        progress(len(chunk))
        yield chunk


def _progress_callback(model_file: ModelFile, size: int):
    """progress(n) after each n bytes: saves the percentage done on the row about every 5%."""
    done = last = 0

    def progress(n: int) -> None:
        nonlocal done, last
        done += n
        percent = min(99, done * 100 // max(size, 1))
        if percent - last >= 5:
            ModelFile.objects.filter(id=model_file.id).update(progress=percent)
            last = percent

    return progress


def _store_blob(key: str, size: int, hashes: dict) -> tuple[ContentBlob, bool]:
    content_key = ContentBlob.key_for(hashes["SHA256"])
    copy_object(key, content_key)
    # The bytes are at the content key again: a blob released earlier (tasks.release_blob) is in use.
    ContentBlob.objects.filter(sha256=hashes["SHA256"], released_at__isnull=False).update(released_at=None)
    try:
        with transaction.atomic():
            return ContentBlob.objects.get_or_create(
                sha256=hashes["SHA256"],
                defaults={
                    "size": size,
                    "storage_key": content_key,
                    "autov1": hashes["AutoV1"],
                    "autov3": hashes.get("AutoV3_full"),
                    "crc32": hashes["CRC32"],
                    "blake3": hashes["BLAKE3"],
                },
            )
    except IntegrityError:  # another worker stored the same bytes at the same moment
        return ContentBlob.objects.get(sha256=hashes["SHA256"]), False


def store_thumbnail(blob: ContentBlob) -> str:
    """A WebP thumbnail next to the image, keyed by the image's hash (so a re-run rewrites nothing)."""
    key = f"thumbnails/{blob.sha256.lower()}.webp"
    storage = model_storage()
    if not storage.exists(key):
        with RangeReader(blob.storage_key) as f:
            storage.save(key, ContentFile(images.make_thumbnail(f)))
    return key


def _store_poster(blob: ContentBlob, facts: dict) -> dict:
    """A clip's WebP poster at the thumbnail key of its hash (served and released like an image's
    thumbnail). ffmpeg draws it here in the worker, never in a web request; "placeholder" says a
    neutral frame stands in because no decoder could draw one."""
    key = f"thumbnails/{blob.sha256.lower()}.webp"
    info = video.VideoInfo(facts["container"], facts["duration_seconds"], facts["width"], facts["height"])
    with RangeReader(blob.storage_key) as f:
        poster, how = video.make_poster(f, info)
    storage = model_storage()
    if not storage.exists(key):
        storage.save(key, ContentFile(poster))
    return {"thumbnail_key": key, "poster": how}


def mark_file_failed(*, model_file: ModelFile, status: str, message: str) -> ModelFile:
    """End a file that was refused (rejected) or could not be processed (error). Its scan never
    finished, so its scan status says so too, instead of staying "scanning" forever.

    A refused file's bytes are deleted at once: nothing will ever serve them, and completed junk
    must not fill the disk. (A file in error keeps them; storage was what failed.)"""
    model_file.status = status
    model_file.status_message = message
    model_file.scan_status = ScanStatus.NOT_SCANNED
    model_file.processed_at = timezone.now()
    fields = ["status", "status_message", "scan_status", "processed_at", "updated_at"]
    refused_bytes = None
    if status == FileStatus.REJECTED and model_file.upload_key:
        refused_bytes = (model_file.upload_key, model_file.multipart_upload_id)
        model_file.upload_key = model_file.multipart_upload_id = ""
        fields += ["upload_key", "multipart_upload_id"]
    model_file.save(update_fields=fields)
    if refused_bytes:  # after the row no longer names them, so a crash here leaves only an orphan
        discard_upload(key=refused_bytes[0], upload_id=refused_bytes[1])
    _run_finished_hooks(model_file)
    publishing.file_finished(model_file=model_file)
    return model_file

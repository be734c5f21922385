"""Celery entry points for the file pipeline. Each task takes ids, claims its row and calls a service."""

import logging
from datetime import timedelta

from botocore.exceptions import BotoCoreError, ClientError
from celery import shared_task
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from . import processing, publishing, storage
from .models import ContentBlob, FileStatus, ModelFile, ScanStatus

log = logging.getLogger(__name__)

# Storage hiccups worth another try; anything else about a file is a verdict, not a failure.
TRANSIENT_ERRORS = (OSError, BotoCoreError)


@shared_task(
    acks_late=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    max_retries=3,
)
def process_file(file_id: int) -> str:
    """Hash and store one uploaded file.

    The conditional update claims the row, so a duplicate message (a redelivery, or the sweep racing a
    slow worker) finds nothing to do. Transient storage errors retry; a bad file becomes a status.
    """
    claimed = ModelFile.objects.filter(id=file_id, status=FileStatus.PENDING).update(
        status=FileStatus.PROCESSING, updated_at=timezone.now()
    )
    if not claimed:
        return "skipped"
    model_file = ModelFile.objects.get(id=file_id)
    try:
        model_file = processing.process_file(model_file=model_file)
    except processing.FileRejected as exc:
        processing.mark_file_failed(model_file=model_file, status=FileStatus.REJECTED, message=str(exc))
        return "rejected"
    except TRANSIENT_ERRORS:
        # Give the row back so the retry (or the sweep) can claim it again.
        ModelFile.objects.filter(id=file_id, status=FileStatus.PROCESSING).update(status=FileStatus.PENDING)
        if process_file.request.retries >= process_file.max_retries:
            processing.mark_file_failed(
                model_file=model_file,
                status=FileStatus.ERROR,
                message="Storage could not be read after several tries; the hub will try again later.",
            )
        raise
    return model_file.status  # "ready" or "quarantined", as the row says


@shared_task
def sweep_stuck_files() -> int:
    """Re-queue files that have waited too long in pending or processing.

    On the embedded broker a killed worker loses its message, so this periodic sweep, not the broker,
    guarantees that every file finishes. skip_locked keeps two sweeps from taking the same rows.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.FILE_STUCK_AFTER)
    with transaction.atomic():
        stuck = list(
            ModelFile.objects.select_for_update(skip_locked=True)
            .filter(status__in=[FileStatus.PENDING, FileStatus.PROCESSING], updated_at__lt=cutoff)
            .values_list("id", flat=True)[:500]
        )
        ModelFile.objects.filter(id__in=stuck).update(status=FileStatus.PENDING, updated_at=timezone.now())
        for file_id in stuck:
            transaction.on_commit(lambda file_id=file_id: process_file.delay(file_id), robust=True)
    if stuck:
        log.info("re-queued %d stuck files", len(stuck))
    return len(stuck)


ABANDONED_BATCH = 100


def _duration(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}" + ("s" if n != 1 else "")
    return f"{seconds} seconds"


def _discard_quietly(key: str, upload_id: str) -> bool:
    """Delete an upload's parts; a storage error is logged, and the next sweep tries again."""
    try:
        storage.discard_upload(key=key, upload_id=upload_id)
    except (OSError, BotoCoreError, ClientError):
        log.exception("could not delete the parts of upload %s; the next sweep will try again", upload_id)
        return False
    return True


@shared_task
def sweep_abandoned_uploads() -> int:
    """Stop uploads left without a part signed for longer than ABANDONED_UPLOAD_AFTER, and delete
    their parts; then delete the parts of multipart uploads that no file names (issue 11).

    The second pass finds what the first, a cancel or a refused complete left behind when a process
    died between changing the row and deleting the parts, a start whose transaction failed after
    storage opened the upload, a part that arrived while S3 aborted, or local part folders of a
    crashed hub: anything older than the same age that no open or queued file names.

    Each batch of rows is claimed under select_for_update(skip_locked=True), so two sweeps never take
    the same rows, and marked rejected (with a message the creator reads) before its parts are deleted
    outside the transaction. Deleting parts twice does nothing, so a re-run at any point is safe.
    Returns how many uploads were stopped.
    """
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.ABANDONED_UPLOAD_AFTER)
    message = (
        f"This upload was left unfinished for more than {_duration(settings.ABANDONED_UPLOAD_AFTER)}, "
        "so it was stopped and its parts deleted; upload the file again."
    )
    stopped = 0
    while True:
        with transaction.atomic():
            batch = list(
                ModelFile.objects.select_for_update(skip_locked=True)
                .filter(status=FileStatus.UPLOADING, updated_at__lt=cutoff)
                .values_list("id", "upload_key", "multipart_upload_id")[:ABANDONED_BATCH]
            )
            ModelFile.objects.filter(id__in=[row[0] for row in batch], status=FileStatus.UPLOADING).update(
                status=FileStatus.REJECTED,
                scan_status=ScanStatus.NOT_SCANNED,
                status_message=message,
                upload_key="",
                multipart_upload_id="",
                updated_at=now,
            )
        for _, key, upload_id in batch:
            _discard_quietly(key, upload_id)
        publishing.ensure_primary_of(
            ModelFile.objects.filter(id__in=[row[0] for row in batch]).values_list("version_id", flat=True)
        )
        stopped += len(batch)
        if len(batch) < ABANDONED_BATCH:
            break

    stale = storage.stale_multipart_uploads(older_than=cutoff)
    orphans = 0
    for start in range(0, len(stale), 500):
        chunk = stale[start : start + 500]
        named = set(
            ModelFile.objects.filter(multipart_upload_id__in=[upload_id for _, upload_id in chunk])
            .exclude(status=FileStatus.REJECTED)
            .values_list("multipart_upload_id", flat=True)
        )
        for key, upload_id in chunk:
            if upload_id not in named:
                orphans += _discard_quietly(key, upload_id)
    if stopped or orphans:
        log.info("stopped %d abandoned uploads; deleted the parts of %d orphaned ones", stopped, orphans)
    return stopped


# Checks that apps above this one add for the blobs their own rows use (resources' images): each is
# called as check(blob_id) -> bool, True while the blob's bytes are still needed. models_app knows
# this list, never those apps (docs/editing.md#when-bytes-are-released).
BLOB_USE_CHECKS: list = []


def register_blob_use_check(check):
    """Add a check to BLOB_USE_CHECKS once (AppConfig.ready can run more than once in tests)."""
    if check not in BLOB_USE_CHECKS:
        BLOB_USE_CHECKS.append(check)
    return check


def blob_in_use(blob_id: int) -> bool:
    """Does a file that is not deleted, or a row of another app, still use this blob?"""
    if ModelFile.objects.filter(blob_id=blob_id).exclude(status=FileStatus.DELETED).exists():
        return True
    return any(check(blob_id) for check in BLOB_USE_CHECKS)


# Files whose bytes may be about to join a blob: processing copies the bytes to the blob's key before
# the file row points at the blob, so a release must wait while a file of the same size is among them.
_IN_FLIGHT = (FileStatus.PENDING, FileStatus.PROCESSING)


@shared_task(acks_late=True, autoretry_for=TRANSIENT_ERRORS, retry_backoff=5, max_retries=3)
def release_blob(blob_id: int) -> str:
    """Delete a blob's bytes (and its thumbnail) from storage once no file that is not deleted uses
    it (docs/editing.md#when-bytes-are-released). Files are content-addressed, so one blob can back
    files of several versions: deleting one of them leaves the bytes to the others.

    The blob row is locked while deciding, and stays (deleted files still name their hashes), marked
    released; an identical upload later stores the bytes again and clears the mark. Safe to run
    twice: deleting bytes that are gone does nothing, and a blob in use is left alone.
    """
    with transaction.atomic():
        blob = ContentBlob.objects.select_for_update().filter(id=blob_id).first()
        if blob is None:
            return "skipped"
        if blob_in_use(blob.id):
            return "in use"
        if ModelFile.objects.filter(status__in=_IN_FLIGHT, blob__isnull=True, size=blob.size).exists():
            return "deferred"  # the sweep comes back to it
        storage.model_storage().delete(blob.storage_key)
        storage.model_storage().delete(f"thumbnails/{blob.sha256.lower()}.webp")
        ContentBlob.objects.filter(id=blob.id).update(released_at=timezone.now())
    log.info("released blob %s", blob.sha256)
    return "released"


@shared_task
def sweep_unused_blobs() -> int:
    """Release the blobs whose files were all deleted but whose release never ran (a lost message,
    a deferred release). Only blobs that have a deleted file are looked at: a blob that no file
    names yet belongs to a file being processed. Returns how many were released."""
    candidates = (
        ContentBlob.objects.filter(released_at__isnull=True, files__status=FileStatus.DELETED)
        .exclude(files__status__in=[s for s in FileStatus.values if s != FileStatus.DELETED])
        .values_list("id", flat=True)
        .distinct()[:500]
    )
    return sum(release_blob(blob_id) == "released" for blob_id in list(candidates))


# Checks that apps above this one add for the upload keys their own rows still name (resources' posted
# images): each is called as check(keys) -> the subset still in use. Like BLOB_USE_CHECKS.
UPLOAD_KEY_USE_CHECKS: list = []


def register_upload_key_use_check(check):
    """Add a check to UPLOAD_KEY_USE_CHECKS once."""
    if check not in UPLOAD_KEY_USE_CHECKS:
        UPLOAD_KEY_USE_CHECKS.append(check)
    return check


# Files that will never be processed again, yet may still name their uploaded bytes: a file deleted
# while it waited for a worker (processing skips it), and a file in error (nothing retries it).
_FINISHED_WITH_BYTES = (FileStatus.DELETED, FileStatus.ERROR, FileStatus.REJECTED)


@shared_task
def sweep_leftover_bytes() -> int:
    """Delete uploaded bytes that no file will ever process, once they are older than
    LEFTOVER_BYTES_AFTER (docs/storage-hygiene.md). Returns how many uploads were removed.

    First the files that finished without consuming their upload: each row is claimed by a
    conditional update that clears its keys (and, for a file in error, says on the file page that
    the bytes were removed) before the bytes are deleted, so two sweeps never both claim a file and a
    crash in between leaves only an orphan for the second pass. Then the orphans: objects under
    uploads/ older than the grace period that no row names (completed uploads whose file was deleted
    before a worker took it, or bytes a crashed process saved before it wrote the row). The grace
    period protects bytes being written right now, whose row is not committed yet. Deleting bytes
    that are gone does nothing, so a re-run at any point is safe.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.LEFTOVER_BYTES_AFTER)
    removed = 0
    rows = list(
        ModelFile.objects.filter(status__in=_FINISHED_WITH_BYTES, updated_at__lt=cutoff)
        .exclude(upload_key="", multipart_upload_id="")
        .values_list("id", "status", "upload_key", "multipart_upload_id")[:500]
    )
    for file_id, status, key, upload_id in rows:
        changes = {"upload_key": "", "multipart_upload_id": ""}
        if status == FileStatus.ERROR:
            changes["status_message"] = (
                f"This file could not be processed, and its uploaded bytes were removed after "
                f"{_duration(settings.LEFTOVER_BYTES_AFTER)}; upload the file again."
            )
        claimed = ModelFile.objects.filter(
            id=file_id, status=status, upload_key=key, multipart_upload_id=upload_id
        ).update(**changes)
        if claimed:
            removed += _discard_quietly(key, upload_id)
    orphans = storage.stale_upload_objects(older_than=cutoff)
    for start in range(0, len(orphans), 500):
        chunk = orphans[start : start + 500]
        named = set(ModelFile.objects.filter(upload_key__in=chunk).values_list("upload_key", flat=True))
        for check in UPLOAD_KEY_USE_CHECKS:
            named |= set(check(chunk))
        for key in chunk:
            if key not in named:
                removed += _discard_quietly(key, "")
    if removed:
        log.info("removed the bytes of %d uploads that no file will process", removed)
    return removed


@shared_task
def prune_search_words() -> int:
    """Drop the search vocabulary's words that no published name has any more (PostgreSQL only;
    migration 0036), so a typo is never corrected to a renamed or unpublished model's old word.
    Idempotent; returns how many words went."""
    if connection.vendor != "postgresql":
        return 0  # SQLite's search has no vocabulary
    with connection.cursor() as cursor:
        cursor.execute("SELECT models_app_searchword_prune()")
        gone = cursor.fetchone()[0]
    if gone:
        log.info("removed %d search words no published name has", gone)
    return gone

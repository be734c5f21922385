"""Celery entry points for the file pipeline. Each task takes ids, claims its row and calls a service."""

import logging
from datetime import timedelta

from botocore.exceptions import BotoCoreError
from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import processing
from .models import FileStatus, ModelFile

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
            transaction.on_commit(lambda file_id=file_id: process_file.delay(file_id))
    if stuck:
        log.info("re-queued %d stuck files", len(stuck))
    return len(stuck)

"""Celery entry points for images. Each task takes ids, claims its row and calls a service."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from models_app.tasks import TRANSIENT_ERRORS

from . import images
from .models import Image, ImageStatus


@shared_task(acks_late=True, autoretry_for=TRANSIENT_ERRORS, retry_backoff=5, max_retries=3)
def process_image(image_id: int) -> str:
    """Process one posted image (images.process_image). The conditional update claims the row, so a
    duplicate message finds nothing to do; a storage hiccup gives the row back and retries."""
    claimed = Image.objects.filter(id=image_id, status=ImageStatus.PENDING).update(
        status=ImageStatus.PROCESSING
    )
    if not claimed:
        return "skipped"
    image = Image.objects.get(id=image_id)
    try:
        return images.process_image(image=image).status
    except TRANSIENT_ERRORS:
        Image.objects.filter(id=image_id, status=ImageStatus.PROCESSING).update(status=ImageStatus.PENDING)
        raise


@shared_task
def sweep_stuck_images() -> int:
    """Re-queue posted images still waiting FILE_STUCK_AFTER seconds after they were posted (a lost
    message on the embedded broker, a killed worker). skip_locked keeps two sweeps apart; the task's
    claim makes a duplicate message harmless."""
    cutoff = timezone.now() - timedelta(seconds=settings.FILE_STUCK_AFTER)
    with transaction.atomic():
        stuck = list(
            Image.objects.select_for_update(skip_locked=True)
            .filter(status__in=[ImageStatus.PENDING, ImageStatus.PROCESSING], created_at__lt=cutoff)
            .exclude(upload_key="")
            .values_list("id", flat=True)[:500]
        )
        Image.objects.filter(id__in=stuck).update(status=ImageStatus.PENDING)
        for image_id in stuck:
            transaction.on_commit(lambda image_id=image_id: process_image.delay(image_id), robust=True)
    # Images migration 0002 moved, not yet stripped: their served copies are made here, a batch a minute.
    moved = Image.objects.filter(stripped=False, status=ImageStatus.READY, blob__isnull=False)
    for image_id in moved.values_list("id", flat=True)[:100]:
        refresh_moved_image.delay(image_id)
    return len(stuck)


@shared_task(acks_late=True, autoretry_for=TRANSIENT_ERRORS, retry_backoff=5, max_retries=3)
def refresh_moved_image(image_id: int) -> str:
    """Store the served copy of one moved image (images.refresh_moved_image); a duplicate message, or
    one for an image already stripped, finds nothing to do."""
    with transaction.atomic():
        image = (
            Image.objects.select_for_update(skip_locked=True)
            .select_related("blob")
            .filter(id=image_id, stripped=False, status=ImageStatus.READY, blob__isnull=False)
            .first()
        )
        if image is None:
            return "skipped"
        return images.refresh_moved_image(image).status

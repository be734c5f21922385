"""Celery entry points for images. Each task takes ids, claims its row and calls a service."""

from celery import shared_task

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

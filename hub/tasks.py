"""The hub's own background work: removing expired sessions."""

from celery import shared_task
from django.db.models.functions import Now

from hub.models import Session


@shared_task
def clear_expired_sessions() -> int:
    """Sessions past their expiry are never read again (hub/sessions.py reads only unexpired ones):
    removed daily, as Django's `clearsessions` would, so the table holds live sessions only.
    Returns how many were removed."""
    removed, _ = Session.objects.filter(expire_date__lt=Now()).delete()
    return removed

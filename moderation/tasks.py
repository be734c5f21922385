"""Celery entry points for moderation. Safe to run twice."""

from celery import shared_task

from . import signals


@shared_task(acks_late=True)
def sync_scan_reports() -> int:
    """The beat task: files the scan quarantined and images the worker's signals flagged enter the
    moderation queue as automatic reports (the name is kept: beat schedules name it)."""
    return signals.sync_all()

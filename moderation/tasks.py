"""Celery entry points for moderation. Safe to run twice."""

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def sync_scan_reports() -> int:
    """The beat task: files the scan quarantined enter the moderation queue as automatic reports."""
    return services.sync_scan_reports()

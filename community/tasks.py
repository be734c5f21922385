"""Celery entry points for community (docs/notifications.md). Each task takes ids and calls a service;
each is safe to run twice."""

from celery import shared_task
from django.db import transaction

from . import notifications


@shared_task(acks_late=True)
def notify_version_published(version_id: int) -> int:
    """Tell the followers of a model and of its creator about a newly public version. A re-run (a
    redelivered message, the version published again) asks the same people again and the insert or
    ignore on (recipient, key) leaves one notification each (docs/notifications.md#new-versions)."""
    return notifications.notify_version_published(version_id)


@shared_task(acks_late=True)
def send_notification_digests() -> int:
    """The beat task: one batched email per recipient of what they opted into. Rows are claimed before
    sending, so overlapping runs send each event once (docs/notifications.md#the-email-digest)."""
    return notifications.send_digests()


def on_version_published(*, version) -> None:
    """models_app's version-published hook (registered in community/apps.py): queue the fan-out for
    after the commit, so the worker sees the public version."""
    transaction.on_commit(lambda: notify_version_published.delay(version.id))

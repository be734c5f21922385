"""Two Celery queues (docs/operations.md#queues-and-workers): heavy for the work on uploaded bytes,
light for everything else, and every task of the hub assigned to one of them."""

import pytest
from django.conf import settings

from hub.celery import app as celery_app
from hub.celery import queue_depths

PROJECT_APPS = {"hub", "billing", "models_app", "resources", "community", "moderation", "compat"}


def project_tasks() -> list[str]:
    celery_app.loader.import_default_modules()
    return sorted(name for name in celery_app.tasks if name.split(".")[0] in PROJECT_APPS)


def test_every_task_of_the_hub_is_routed_to_the_heavy_or_the_light_queue():
    tasks = project_tasks()
    assert "models_app.tasks.process_file" in tasks and "community.tasks.notify_version_published" in tasks
    unrouted = [name for name in tasks if name not in settings.CELERY_TASK_ROUTES]
    assert not unrouted, f"add these tasks to HEAVY_TASKS or LIGHT_TASKS in hub/settings.py: {unrouted}"
    assert {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} == {"heavy", "light"}
    stale = set(settings.CELERY_TASK_ROUTES) - set(tasks)
    assert not stale, f"routes for tasks that no longer exist: {sorted(stale)}"


def test_the_work_on_uploaded_bytes_is_heavy_and_notifications_and_sweeps_are_light():
    queue_of = {name: route["queue"] for name, route in settings.CELERY_TASK_ROUTES.items()}
    assert queue_of["models_app.tasks.process_file"] == "heavy"
    assert queue_of["resources.tasks.process_image"] == "heavy"
    assert queue_of["community.tasks.notify_version_published"] == "light"
    assert queue_of["community.tasks.send_notification_digests"] == "light"
    assert queue_of["models_app.tasks.sweep_stuck_files"] == "light"


def test_a_worker_started_without_queues_consumes_both():
    """make run's single worker and tests/test_worker.py's workers start without -Q."""
    assert set(celery_app.amqp.queues) == {"heavy", "light"}
    assert settings.CELERY_TASK_DEFAULT_QUEUE in celery_app.amqp.queues


@pytest.fixture
def real_broker():
    """Messages go to the configured broker (the filesystem folder, or Redis) instead of running inline."""
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = True
    with celery_app.connection_for_write() as connection:
        for queue in ("heavy", "light"):
            connection.default_channel.queue_purge(queue)


def test_a_file_to_process_waits_in_the_heavy_queue_and_a_notification_in_the_light_one(real_broker):
    from community.tasks import notify_version_published
    from models_app.tasks import process_file

    with celery_app.connection_for_write() as connection:
        for queue in ("heavy", "light"):
            connection.default_channel.queue_purge(queue)
    process_file.delay(0)
    process_file.delay(0)
    notify_version_published.delay(0)
    assert queue_depths(timeout=5) == {"heavy": 2, "light": 1}

"""The Celery app. Workers run `celery -A hub worker` (bin/run-worker); tasks live in each app's tasks.py.

Queues and routes are in settings (CELERY_TASK_QUEUES, CELERY_TASK_ROUTES). The signal handlers
below give each task's log lines its task id, pin its queries to the primary database, and record
its duration and outcome for /metrics (docs/operations.md).
"""

import os
import time

from celery import Celery
from celery.signals import task_failure, task_postrun, task_prerun
from kombu import transport as kombu_transports

from hub.broker import sweep_abandoned_parts

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
# `filesystem://` (the embedded broker) writes each message atomically: hub/broker.py says why.
kombu_transports.TRANSPORT_ALIASES["filesystem"] = "hub.broker:Transport"

app = Celery("hub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_broker_folders(sender, **kwargs):
    """kombu's filesystem transport expects its folders to exist; what a writer killed mid-write
    left in them goes (hub/broker.py)."""
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            os.makedirs(options[key], exist_ok=True)
    if options.get("data_folder_out"):
        sweep_abandoned_parts(options["data_folder_out"])


def socket_timeouts(seconds: float) -> dict:
    """Transport options so that a broker that accepts a connection and then says nothing can't
    hold a probe's thread for ever (Redis reads them; the filesystem transport ignores them)."""
    return {"socket_timeout": seconds, "socket_connect_timeout": seconds}


def queue_depths(*, timeout: float) -> dict[str, int]:
    """Messages waiting in each configured queue, asked of the broker now (a passive declare: it
    creates nothing). A queue the broker has never seen holds nothing."""
    depths = {}
    with app.connection_for_read(
        connect_timeout=timeout, transport_options=socket_timeouts(timeout)
    ) as connection:
        connection.ensure_connection(max_retries=1, timeout=timeout)
        channel = connection.default_channel
        for queue in app.amqp.queues:
            try:
                depths[queue] = channel.queue_declare(queue=queue, passive=True).message_count
            except connection.channel_errors:
                depths[queue] = 0
    return depths


# --- Per-task context: the task id on log lines, the primary database, the duration.

_started: dict[str, tuple[float, object, object]] = {}


@task_prerun.connect
def _task_started(task_id=None, task=None, **kwargs):
    from hub import db_router, request_id

    _started[task_id] = (
        time.monotonic(),
        request_id.request_id_var.set(task_id or "-"),
        db_router.pin_to_primary(),
    )


@task_postrun.connect
def _task_finished(task_id=None, task=None, state=None, **kwargs):
    from hub import db_router, metrics, request_id

    started = _started.pop(task_id, None)
    if started is None:
        return
    began, id_token, pin_token = started
    metrics.observe_task(task.name, (state or "unknown").lower(), time.monotonic() - began)
    try:
        request_id.request_id_var.reset(id_token)
        db_router.release_pin(pin_token)
    except ValueError:  # set in another context (an eager task run inside another one)
        pass


@task_failure.connect
def _task_failed(sender=None, **kwargs):
    from hub import metrics

    metrics.add("hub_unhandled_exceptions", {"where": "task"})

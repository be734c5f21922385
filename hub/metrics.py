"""Prometheus metrics at /metrics (docs/operations.md#metrics).

Where the numbers live: the hub runs as several gunicorn workers, on several web replicas, beside
Celery workers in other containers. Counters kept in each process's memory would show whichever
process answered the scrape, and task durations are measured in the workers, which serve no HTTP.
So every process adds to one shared store and any web replica renders the same totals:
- Redis (REDIS_URL set): one hash, HINCRBYFLOAT is atomic, nothing to clean up;
- else the database (hub_metric, the SQLite setup of `make run`): an F() update per event.
prometheus_client renders the exposition format from that store at scrape time (a custom collector
on a private registry); the queue depth is read from the broker at that moment too.

A metric that fails to record never fails the request or task it describes.
"""

import hmac
import json
import logging
import math
from functools import lru_cache

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

logger = logging.getLogger(__name__)

REDIS_KEY = "hub:metrics"
SEPARATOR = "\x1f"  # between a metric's name and its labels in the store; never in either

COUNTERS = {
    "hub_uploads_started": "Multipart uploads started (POST /api/hub/uploads answered 201).",
    "hub_uploads_completed": "Uploads completed and queued for processing.",
    "hub_downloads": "Download requests answered with the file or a redirect to it.",
    "hub_http_errors": "Responses with a 5xx status, by status.",
    "hub_unhandled_exceptions": "Exceptions no code handled, in a request or a Celery task.",
}
TASK_DURATION = "hub_task_duration_seconds"
TASK_DURATION_HELP = "Time a Celery task ran, by task name and outcome (success, failure, retry)."
# From a notification (milliseconds) to hashing and scanning a 20 GB file (many minutes).
TASK_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, math.inf)

# The views whose successful answers are counted, by URL name (models_app/urls.py).
UPLOAD_VIEWS = {"models_app:api_start_upload": "hub_uploads_started"}
UPLOAD_COMPLETE_VIEWS = {"models_app:api_complete_upload": "hub_uploads_completed"}


def _field(name: str, labels: dict[str, str]) -> str:
    return name + SEPARATOR + json.dumps(labels, sort_keys=True, separators=(",", ":"))


def _parse_field(field: str) -> tuple[str, dict[str, str]]:
    name, _, labels = field.partition(SEPARATOR)
    return name, json.loads(labels or "{}")


@lru_cache(maxsize=4)
def _redis(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def add(name: str, labels: dict[str, str] | None = None, amount: float = 1.0) -> None:
    """Add `amount` to one series. Safe from any process, thread or host."""
    add_all([(_field(name, labels or {}), amount)])


def add_all(increments: list[tuple[str, float]]) -> None:
    """Several additions in one round trip (a Redis pipeline, or one transaction)."""
    try:
        if settings.REDIS_URL:
            pipeline = _redis(settings.REDIS_URL).pipeline(transaction=False)
            for field, amount in increments:
                pipeline.hincrbyfloat(REDIS_KEY, field, amount)
            pipeline.execute()
        else:
            _add_to_database(increments)
    except Exception as exc:  # the store is down: the events are lost, the request or task goes on
        # One line, no traceback: during an outage every request would otherwise add a page of log.
        names = sorted({field.partition(SEPARATOR)[0] for field, _ in increments})
        logger.warning("could not record metrics %s: %s: %s", names, type(exc).__name__, exc)


def _add_to_database(increments: list[tuple[str, float]]) -> None:
    from .models import Metric

    with transaction.atomic():
        for field, amount in increments:
            if Metric.objects.filter(key=field).update(value=F("value") + amount):
                continue
            try:
                with transaction.atomic():
                    Metric.objects.create(key=field, value=amount)
            except IntegrityError:  # another process created it first
                Metric.objects.filter(key=field).update(value=F("value") + amount)


def observe_task(task: str, state: str, seconds: float) -> None:
    """One task run into the duration histogram (cumulative buckets, as Prometheus wants them)."""
    labels = {"task": task, "state": state}
    increments = [
        (_field(TASK_DURATION + "_bucket", {**labels, "le": _le(bound)}), 1.0)
        for bound in TASK_BUCKETS
        if seconds <= bound
    ]
    increments += [
        (_field(TASK_DURATION + "_count", labels), 1.0),
        (_field(TASK_DURATION + "_sum", labels), seconds),
    ]
    add_all(increments)


def _le(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(float(bound))


def stored_values() -> dict[str, float]:
    if settings.REDIS_URL:
        raw = _redis(settings.REDIS_URL).hgetall(REDIS_KEY)
        return {key.decode(): float(value) for key, value in raw.items()}
    from .models import Metric

    return dict(Metric.objects.values_list("key", "value"))


# --- Recording from requests.


class MetricsMiddleware:
    """Counts uploads by the API view that answered, and every 5xx response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        status = response.status_code
        if status >= 500:
            add("hub_http_errors", {"status": str(status)})
        elif 200 <= status < 300 and request.method == "POST":
            match = getattr(request, "resolver_match", None)
            view = match.view_name if match else ""
            name = UPLOAD_VIEWS.get(view) or UPLOAD_COMPLETE_VIEWS.get(view)
            if name:
                add(name)
        return response


def count_unhandled_request_exception(sender, request=None, **kwargs):
    exception = kwargs.get("exception")
    if isinstance(exception, Http404):  # Django reports these too; they are answered 404
        return
    add("hub_unhandled_exceptions", {"where": "request"})


def count_download(sender, **kwargs):
    add("hub_downloads")


def connect_signals() -> None:
    """Called once from HubConfig.ready: Django's signal for exceptions no view handled, and the
    download signal models_app sends for each download request it serves (models_app/downloads.py)."""
    from models_app.downloads import download_requested

    got_request_exception.connect(count_unhandled_request_exception, dispatch_uid="hub.metrics.exceptions")
    download_requested.connect(count_download, dispatch_uid="hub.metrics.downloads")


# --- Rendering.


class StoreCollector:
    """Turns the shared store into metric families, and reads the queue depth from the broker."""

    def collect(self):
        values = stored_values()
        series: dict[str, list[tuple[dict, float]]] = {}
        for field, value in values.items():
            name, labels = _parse_field(field)
            series.setdefault(name, []).append((labels, value))
        for name, help_text in COUNTERS.items():
            samples = series.get(name, [])
            label_names = sorted({key for labels, _ in samples for key in labels})
            family = CounterMetricFamily(name, help_text, labels=label_names)
            if not samples and not label_names:
                family.add_metric([], 0)
            for labels, value in samples:
                family.add_metric([labels.get(key, "") for key in label_names], value)
            yield family
        yield self._task_histogram(series)
        yield from self._queue_depth()

    def _task_histogram(self, series):
        family = HistogramMetricFamily(TASK_DURATION, TASK_DURATION_HELP, labels=["task", "state"])
        totals = {
            (labels["task"], labels["state"]): value
            for labels, value in series.get(TASK_DURATION + "_sum", [])
        }
        buckets: dict[tuple[str, str], dict[str, float]] = {}
        for labels, value in series.get(TASK_DURATION + "_bucket", []):
            buckets.setdefault((labels["task"], labels["state"]), {})[labels["le"]] = value
        for key, total in sorted(totals.items()):
            seen = buckets.get(key, {})
            # observe_task stored them cumulative already; a bound no run fell under is absent: 0.
            cumulative = [(_le(bound), seen.get(_le(bound), 0.0)) for bound in TASK_BUCKETS]
            family.add_metric(list(key), cumulative, sum_value=total)
        return family

    def _queue_depth(self):
        from .celery import queue_depths

        up = GaugeMetricFamily("hub_broker_up", "1 when the broker answered the queue-depth question.")
        depth = GaugeMetricFamily(
            "hub_queue_depth", "Messages waiting in each Celery queue.", labels=["queue"]
        )
        try:
            depths = queue_depths(timeout=settings.READINESS_TIMEOUT)
        except Exception:
            logger.warning("could not read the queue depth from the broker", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        for queue, count in sorted(depths.items()):
            depth.add_metric([queue], count)
        yield up
        yield depth


def authorized(request) -> bool:
    token = settings.METRICS_TOKEN
    sent = request.headers.get("Authorization", "")
    scheme, _, value = sent.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())


@require_safe  # Prometheus scrapes with GET; any other method is a 405
def metrics_view(request):
    """GET /metrics for Prometheus, with `Authorization: Bearer <METRICS_TOKEN>`. Without a token
    configured the endpoint does not exist (404): counters are not for the public."""
    if not settings.METRICS_TOKEN:
        raise Http404
    if not authorized(request):
        response = HttpResponse("Send Authorization: Bearer <METRICS_TOKEN>.\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        response["Content-Type"] = "text/plain; charset=utf-8"
        return response
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector())
    try:
        body = generate_latest(registry)
    except Exception:  # the database or Redis holding the counters is down
        logger.warning("could not read the metrics store", exc_info=True)
        return HttpResponse("The metrics store is unavailable.\n", status=503, content_type="text/plain")
    response = HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response

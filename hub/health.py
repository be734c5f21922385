"""/healthz (liveness) and /readyz (readiness) for load balancers and orchestrators
(docs/operations.md#health-and-readiness).

/healthz answers 200 as long as the process serves requests; it touches nothing else, so a database
outage never makes an orchestrator restart every web process. /readyz checks what a request needs:
the database (and the replica), the cache, the broker and the model storage, all at once, each
within READINESS_TIMEOUT seconds; 200 when all pass, else 503, with each check's result.
"""

import logging
import os
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from models_app import storage

from .celery import app as celery_app
from .celery import socket_timeouts

logger = logging.getLogger(__name__)


@require_safe  # probes only read; any other method is a 405
@never_cache
def healthz(request):
    """Liveness: the process is up and answers."""
    return JsonResponse({"status": "ok"})


def _check_database(alias: str):
    def check():
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
        finally:
            connections[alias].close()  # this thread's own connection; don't leave it open

    return check


def _check_cache():
    value = secrets.token_hex(8)
    cache.set("hub:readyz", value, 30)
    if cache.get("hub:readyz") != value:
        raise RuntimeError("the cache did not return what was written")


def _check_broker():
    timeout = settings.READINESS_TIMEOUT
    with celery_app.connection_for_write(
        connect_timeout=timeout, transport_options=socket_timeouts(timeout)
    ) as connection:
        connection.ensure_connection(max_retries=1, timeout=timeout)
        if connection.transport_cls == "filesystem":
            # The filesystem transport "connects" to anything: the folder is what must work.
            options = celery_app.conf.broker_transport_options or {}
            folder = options.get("data_folder_in", "")
            if not folder or not os.path.isdir(folder) or not os.access(folder, os.W_OK | os.X_OK):
                raise RuntimeError(f"the broker folder {folder!r} is missing or not writable")


def checks() -> dict:
    found = {"database": _check_database("default")}
    if "replica" in settings.DATABASES:
        found["database_replica"] = _check_database("replica")
    found.update(cache=_check_cache, broker=_check_broker, storage=storage.check_reachable)
    return found


def run_checks() -> dict[str, dict]:
    """Every check in its own thread, so one hanging service costs READINESS_TIMEOUT, not the sum."""
    timeout = settings.READINESS_TIMEOUT
    to_run = checks()
    results = {}
    executor = ThreadPoolExecutor(max_workers=len(to_run), thread_name_prefix="readyz")
    started = time.monotonic()
    futures = {name: executor.submit(check) for name, check in to_run.items()}
    for name, future in futures.items():
        remaining = max(0.0, timeout - (time.monotonic() - started))
        try:
            future.result(timeout=remaining)
            results[name] = {"ok": True}
        except FutureTimeout:
            results[name] = {"ok": False, "error": f"no answer within {timeout} s"}
        except Exception as exc:
            # The details (host names, paths) go to the log only: /readyz is often left open.
            logger.warning("readiness check %s failed", name, exc_info=True)
            results[name] = {"ok": False, "error": type(exc).__name__}
    # Don't wait for a hung check; its thread ends with its own socket timeout.
    executor.shutdown(wait=False, cancel_futures=True)
    return results


@require_safe
@never_cache
def readyz(request):
    results = run_checks()
    ready = all(result["ok"] for result in results.values())
    return JsonResponse(
        {"status": "ready" if ready else "unavailable", "checks": results}, status=200 if ready else 503
    )

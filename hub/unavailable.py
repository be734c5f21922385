"""Which failures mean "a service the hub needs is down", and the sentence a visitor reads for each.

hub.views.server_error answers these with a 503 (JSON for the APIs, a page otherwise) and a
Retry-After, instead of the 500 of a bug: a database restart, Redis down, S3 unreachable or a full
disk are conditions that pass, and the request can be sent again (docs/faults.md). Django still logs
each one as an error with its traceback, so the operator hears of it.
"""

import errno

from botocore import exceptions as boto
from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext
from kombu.exceptions import OperationalError as BrokerError
from psycopg_pool import PoolTimeout
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

RETRY_AFTER = 30  # seconds; what the Retry-After header of the 503 says
# No pooled database connection came free for DB_POOL_TIMEOUT seconds: most often the hub is
# overloaded, and a retry soon is likely to pass (docs/scaling-database.md#when-the-pool-is-empty).
BUSY_RETRY_AFTER = 5

_FULL = {errno.ENOSPC, errno.EDQUOT}
# S3 error codes that say the server is busy or broken, not that the request was wrong.
_S3_UNAVAILABLE = {"ServiceUnavailable", "SlowDown", "InternalError", "RequestTimeout", "503", "500"}


def _s3_unreachable(exc: BaseException) -> bool:
    if isinstance(exc, (boto.ConnectionError, boto.HTTPClientError)):
        return True
    if isinstance(exc, boto.ClientError):
        return exc.response.get("Error", {}).get("Code", "") in _S3_UNAVAILABLE
    return False


def _chain(exc: BaseException | None):
    """`exc` and the failures it was raised from (raise ... from exc), at most five deep."""
    seen = 0
    while exc is not None and seen < 5:
        yield exc
        exc, seen = exc.__cause__ or exc.__context__, seen + 1


def explain(exc: BaseException | None) -> tuple[str, int] | None:
    """The sentence and the Retry-After seconds for a failure that a 503 should answer, or None for
    anything else (a bug: 500)."""
    # Django wraps psycopg's errors in its own OperationalError: look for the pool's timeout first.
    # It can't tell a busy pool from a database that is down (no new connection either way).
    if any(isinstance(cause, PoolTimeout) for cause in _chain(exc)):
        return gettext(
            "The database is not answering fast enough right now: the hub may be busy. Nothing was "
            "lost; please try again in a moment."
        ), BUSY_RETRY_AFTER
    sentence = reason(exc)
    return (sentence, RETRY_AFTER) if sentence else None


def reason(exc: BaseException | None) -> str | None:
    """The sentence for a service that is down, or None."""
    for cause in _chain(exc):
        if isinstance(cause, (OperationalError, InterfaceError)):
            return gettext(
                "The database is not answering right now. Nothing was lost; please try again in a minute."
            )
        if isinstance(cause, (RedisConnectionError, RedisTimeoutError, BrokerError)):
            return gettext("The hub's task queue is not answering right now. Please try again in a minute.")
        if _s3_unreachable(cause):
            return gettext(
                "File storage is not answering right now. Nothing was lost: try again in a minute, "
                "and an upload carries on from the parts already sent."
            )
        if isinstance(cause, OSError) and cause.errno in _FULL:
            return gettext("The hub's file storage is full, so nothing was saved. Please try again later.")
    return None

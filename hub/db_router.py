"""Reads on an optional read replica, everything else on the primary (docs/operations.md#read-replica).

With DATABASE_REPLICA_URL set, settings add a "replica" database. A read goes there unless
- it runs inside a transaction on the primary (it must see that transaction's writes and locks),
- the same request (or thread) has already written: read-your-writes within a request,
- the same browser wrote less than DATABASE_REPLICA_PIN_SECONDS ago (a cookie set after a write
  request): the page a form redirects to shows what the form saved, whatever the replica's lag,
- the code runs in a Celery task: a task is queued right after a commit and must find that row,
  which a lagging replica may not have yet (hub/celery.py pins the worker).
Writes and migrations always use the primary. Without a replica every query uses "default".
"""

import contextvars

from django.conf import settings
from django.db import connections

# True once this request (or task) wrote, or when it must read from the primary anyway.
_pinned: contextvars.ContextVar[bool] = contextvars.ContextVar("db_pinned_to_primary", default=False)
PIN_COOKIE = "hub_primary"
REPLICA = "replica"


def has_replica() -> bool:
    return REPLICA in settings.DATABASES


def pin_to_primary() -> contextvars.Token:
    return _pinned.set(True)


def release_pin(token: contextvars.Token) -> None:
    _pinned.reset(token)


def is_pinned() -> bool:
    return _pinned.get()


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        if not has_replica() or _pinned.get() or connections["default"].in_atomic_block:
            return "default"
        return REPLICA

    def db_for_write(self, model, **hints):
        if has_replica():
            _pinned.set(True)
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        # Both databases hold the same rows: an object read from the replica relates to the primary's.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica follows the primary by replication; migrate only ever writes the primary.
        return db == "default"


class ReplicaPinMiddleware:
    """Scopes the pin to one request: a fresh start, or pinned when the browser wrote moments ago
    (the cookie) or when the method writes; sets the cookie after a request that wrote."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not has_replica():
            return self.get_response(request)
        writes = request.method not in ("GET", "HEAD", "OPTIONS")
        token = _pinned.set(writes or PIN_COOKIE in request.COOKIES)
        try:
            response = self.get_response(request)
            wrote = _pinned.get() and (writes or PIN_COOKIE not in request.COOKIES)
        finally:
            _pinned.reset(token)
        seconds = settings.DATABASE_REPLICA_PIN_SECONDS
        if wrote and seconds > 0:
            response.set_cookie(
                PIN_COOKIE, "1", max_age=seconds, httponly=True, samesite="Lax", secure=settings.HTTPS
            )
        return response

"""Django's Redis cache, but a Redis that is down is a cache miss, never an error page.

The cache only holds what can be computed again (list counts, rendered SVGs) and the rate-limit
counters, so while Redis is unreachable pages and downloads are served uncached and rate limits are
not counted: the hub fails open rather than refusing everyone (docs/faults.md#redis-down). Each
failure is logged, at most once per LOG_EVERY seconds per process, so the operator hears of it
without a flood.
"""

import logging
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
LOG_EVERY = 10.0


class ResilientRedisCache(RedisCache):
    _last_logged = 0.0

    def _unreachable(self, operation: str, exc: Exception) -> None:
        now = time.monotonic()
        if now - ResilientRedisCache._last_logged >= LOG_EVERY:
            ResilientRedisCache._last_logged = now
            log.error("Redis is unreachable (%s: %s); serving without the cache", operation, exc)

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except UNREACHABLE as exc:
            self._unreachable("get", exc)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except UNREACHABLE as exc:
            self._unreachable("get_many", exc)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except UNREACHABLE as exc:
            self._unreachable("has_key", exc)
            return False

    def set(self, key, value, timeout=None, version=None, **kwargs):
        try:
            return super().set(key, value, timeout, version, **kwargs)
        except UNREACHABLE as exc:
            self._unreachable("set", exc)

    def set_many(self, data, timeout=None, version=None, **kwargs):
        try:
            return super().set_many(data, timeout, version, **kwargs)
        except UNREACHABLE as exc:
            self._unreachable("set_many", exc)
            return list(data)

    def add(self, key, value, timeout=None, version=None, **kwargs):
        """True, as if stored: allauth takes a lock with add() around its rate-limit counts, and a lock
        that can never be had would refuse every login and every HTTP Basic request (a 429)."""
        try:
            return super().add(key, value, timeout, version, **kwargs)
        except UNREACHABLE as exc:
            self._unreachable("add", exc)
            return True

    def touch(self, key, timeout=None, version=None):
        try:
            return super().touch(key, timeout, version)
        except UNREACHABLE as exc:
            self._unreachable("touch", exc)
            return False

    def incr(self, key, delta=1, version=None):
        """A counter that can't be read doesn't exist: ValueError, as Django says of a missing key
        (models_app.rate_limits then lets the request through)."""
        try:
            return super().incr(key, delta, version)
        except UNREACHABLE as exc:
            self._unreachable("incr", exc)
            raise ValueError(f"Key '{key}' not found: the cache is unreachable") from exc

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except UNREACHABLE as exc:
            self._unreachable("delete", exc)
            return False

    def delete_many(self, keys, version=None):
        try:
            return super().delete_many(keys, version)
        except UNREACHABLE as exc:
            self._unreachable("delete_many", exc)

    def clear(self):
        try:
            return super().clear()
        except UNREACHABLE as exc:
            self._unreachable("clear", exc)

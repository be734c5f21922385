"""One per-minute write/request limit for downloads, reviews, follows and wildcard expansion: a fixed
window counted in the cache, so it is shared by every process on Redis (per process otherwise).

The window opens at the first request that `who` makes in `scope` and closes 60 s later, rather than
on the clock's minute: a burst is never split across two windows (which would let through twice the
limit, and made a test's four quick requests pass now and then). Redis and the local-memory cache
keep a key's expiry when it is incremented, so the window does not slide."""

from django.core.cache import cache

WINDOW_SECONDS = 60


def over_limit(scope: str, who, limit: int) -> bool:
    """Count one more request by `who` in `scope`; True past `limit` in the window's 60 s (0 or less: no limit)."""
    if limit <= 0:
        return False
    key = f"rate:{scope}:{who}"
    cache.add(key, 0, timeout=WINDOW_SECONDS)
    try:
        return cache.incr(key) > limit
    except ValueError:  # the key expired between add and incr
        return False

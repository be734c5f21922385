"""One per-minute write/request limit for downloads, reviews, follows and wildcard expansion: a fixed
window counted in the cache, so it is shared by every process on Redis (per process otherwise)."""

from django.core.cache import cache
from django.utils import timezone


def over_limit(scope: str, who, limit: int) -> bool:
    """Count one more request by `who` in `scope` this minute; True past `limit` (0 or less: no limit)."""
    if limit <= 0:
        return False
    key = f"{scope}:{who}:{int(timezone.now().timestamp() // 60)}"
    cache.add(key, 0, timeout=120)
    try:
        return cache.incr(key) > limit
    except ValueError:  # the key expired between add and incr
        return False

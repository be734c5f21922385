"""The abuse controls community writes share (docs/comments.md#abuse, docs/reviews.md#abuse): a
new account without a confirmed email waits before writing, and posting limits per user and per IP
address, counted by models_app/rate_limits.over_limit (in Redis when REDIS_URL is set)."""

from datetime import timedelta

from allauth.account.models import EmailAddress
from django.utils import timezone

from models_app import rate_limits


def too_new_to_write(user, min_age_seconds: int) -> bool:
    """True for an account younger than `min_age_seconds` that has no confirmed email address."""
    young = timezone.now() - user.date_joined < timedelta(seconds=min_age_seconds)
    return young and not EmailAddress.objects.filter(user=user, verified=True).exists()


def client_ip(request) -> str:
    """The address the request came from, as the web server saw it (the download limit uses the same)."""
    return request.META.get("REMOTE_ADDR", "") if request is not None else ""


def over_posting_limits(scope: str, user, ip: str | None, *, per_user: int, per_ip: int) -> bool:
    """Count one more write in `scope` by `user` and by `ip` this minute; True when either is past its
    limit (0: that limit is off). Both counters move even when the first is already over, so a
    user switching accounts behind one address is still held by the address's count."""
    over_user = rate_limits.over_limit(f"{scope}-user", user.id, per_user)
    over_ip = bool(ip) and rate_limits.over_limit(f"{scope}-ip", ip, per_ip)
    return over_user or over_ip

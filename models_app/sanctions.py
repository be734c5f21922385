"""May this person write (upload, comment, review)? Answered by checks a higher app registers.

moderation mutes and suspends people (docs/moderation.md#actions-and-the-audit-log), but the apps whose
services write content sit below it and never import it. moderation registers a check here when it
starts (its AppConfig.ready), the way billing.purchases takes handlers: a check takes a user and
returns a sentence saying why they may not write, or "" when they may.
"""

from django.core.exceptions import PermissionDenied

WRITE_CHECKS: list = []
# Checks of the same form asked when someone signs in (community's account adapter): a suspension.
LOGIN_CHECKS: list = []


def register_write_check(check):
    """Add `check(user) -> str` once."""
    if check not in WRITE_CHECKS:
        WRITE_CHECKS.append(check)
    return check


def write_refusal(user) -> str:
    """Why `user` may not write now, or "" (anonymous people are refused elsewhere)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    for check in WRITE_CHECKS:
        reason = check(user)
        if reason:
            return reason
    return ""


def check_may_write(user) -> None:
    """Raise PermissionDenied with the reason when `user` is muted or suspended."""
    reason = write_refusal(user)
    if reason:
        raise PermissionDenied(reason)


def register_login_check(check):
    """Add `check(user) -> str` once: a non-empty sentence refuses the sign-in."""
    if check not in LOGIN_CHECKS:
        LOGIN_CHECKS.append(check)
    return check


def login_refusal(user) -> str:
    """Why `user` may not sign in now, or ""."""
    for check in LOGIN_CHECKS:
        reason = check(user)
        if reason:
            return reason
    return ""

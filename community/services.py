"""Writes for the community app: API keys (issue 6), later comments, ratings, follows and tips."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

import billing
from billing.selectors import FREE_MAX_API_KEYS

from .models import ApiKey

# The free tier's cap: enough for every tool a person runs, and a leaked session can't mint keys without
# end. A plan may allow more (billing.entitlements(user).max_api_keys, docs/billing.md#entitlements).
MAX_ACTIVE_API_KEYS = FREE_MAX_API_KEYS


@transaction.atomic
def create_api_key(*, user, name: str, scope: str = ApiKey.Scope.WRITE) -> tuple[ApiKey, str]:
    """A new API key for `user`, read-only or read-and-write (`scope`). Returns the row and the raw
    key, which is stored only as a hash: the caller shows it once and then it is gone. Not
    idempotent by design: each call is a new key."""
    if scope not in ApiKey.Scope.values:
        raise ValidationError(gettext("A key's access is either “read” or “write”."))
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError(gettext("Give the key a name, so you know later which tool uses it."))
    if len(name) > 100:
        raise ValidationError(gettext("A key's name can be at most 100 characters."))
    # Lock the user's row so two requests at once can't both pass the cap.
    get_user_model().objects.select_for_update().filter(id=user.id).first()
    active = ApiKey.objects.filter(user=user, revoked_at=None).count()
    limit = billing.entitlements(user).max_api_keys
    if active >= limit:
        raise ValidationError(
            gettext(
                "You already have %(count)d active API keys, the most allowed; "
                "revoke one you no longer use, then create a new one."
            )
            % {"count": limit}
        )
    return ApiKey.create(user=user, name=name, scope=scope)


def revoke_api_key(*, key: ApiKey) -> ApiKey:
    """Revoke a key: from now on every request carrying it is refused (auth.user_for_api_key skips
    revoked keys on each request, nothing is cached). Revoking twice keeps the first date."""
    ApiKey.objects.filter(id=key.id, revoked_at=None).update(revoked_at=timezone.now())
    key.refresh_from_db(fields=["revoked_at"])
    return key

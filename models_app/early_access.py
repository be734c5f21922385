"""Paid early access (docs/billing.md#paid-early-access): who is offered what during a version's
early-access window, the one-time Checkout that buys a grant, and the purchase handler billing calls
when Stripe confirms the payment (registered in apps.py; billing never imports models_app)."""

import logging

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from billing import services as billing_services
from billing import stripe_api

from .models import EarlyAccessGrant, ModelVersion, PublishStatus

log = logging.getLogger(__name__)

KIND = "early_access"


def offers(version: ModelVersion) -> dict:
    """What unlocks `version` before its deadline: members (of a tier with the perk) and/or a price.
    The price is offered only when billing is configured; without keys nothing offers to pay."""
    for_sale = bool(version.early_access_price) and stripe_api.is_configured()
    return {
        "members": version.early_access_members,
        "price": version.early_access_price if for_sale else 0,
        "currency": version.early_access_currency,
    }


def start_unlock(*, user, version: ModelVersion, success_url: str, cancel_url: str) -> str:
    """The Stripe Checkout URL where `user` buys early access to `version`. Refuses a version that is
    not in early access, not for sale, not published, or already open to this user."""
    from .downloads import has_early_access

    if not stripe_api.is_configured():
        raise ValidationError(_("Payments are not configured on this hub."))
    published = PublishStatus.PUBLISHED
    if version.status != published or version.model.status != published or not version.in_early_access():
        raise ValidationError(_("This version is not in early access."))
    if not version.early_access_price:
        raise ValidationError(_("Early access to this version is not for sale."))
    if has_early_access(user, version):
        raise ValidationError(_("You already have early access to this version."))
    return billing_services.start_purchase(
        user=user,
        name=_("Early access: %(model)s %(version)s")
        % {"model": version.model.name, "version": version.name},
        amount=version.early_access_price,
        currency=version.early_access_currency,
        metadata={
            "kind": KIND,
            "version_id": version.id,
            "creator_id": version.model.owner_id,
            "reference": f"{KIND}:{version.id}",
            "description": f"Early access to version {version.id}",
        },
        success_url=success_url,
        cancel_url=cancel_url,
    )


def grant_purchase(user, metadata: dict, session: dict) -> None:
    """Billing's purchase handler for kind=early_access: the buyer gets an EarlyAccessGrant. Idempotent
    (a grant already there stays as it is); an unknown version or a deleted buyer grants nothing, the
    payment itself is in the ledger either way."""
    try:
        version_id = int(metadata.get("version_id"))
    except (TypeError, ValueError):
        log.warning("early access: session %s names no version", session.get("id"))
        return
    if user is None or not isinstance(user, get_user_model()):
        return
    version = ModelVersion.objects.filter(id=version_id).first()
    if version is None:
        log.warning("early access: session %s names unknown version %s", session.get("id"), version_id)
        return
    try:
        with transaction.atomic():
            EarlyAccessGrant.objects.get_or_create(
                version=version, user=user, defaults={"reason": f"bought ({session.get('id', '')})"[:120]}
            )
    except IntegrityError:  # granted meanwhile by a concurrent delivery
        pass


def revoke_purchase(user, metadata: dict, session: dict) -> None:
    """Billing's reversal handler for kind=early_access: the buyer's money for this version was all
    refunded or disputed, so the grant a purchase made goes. A grant the creator gave by hand stays."""
    try:
        version_id = int(metadata.get("version_id"))
    except (TypeError, ValueError):
        return
    deleted, _rows = EarlyAccessGrant.objects.filter(
        version_id=version_id, user=user, reason__startswith="bought ("
    ).delete()
    if deleted:
        log.info("early access: took back user %s's grant to version %s (refunded)", user.pk, version_id)

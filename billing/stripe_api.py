"""The only module that talks to the `stripe` library (docs/billing.md#stripe).

Tests fake Stripe's servers at the library's HTTP client (stripe.default_http_client); everything on our
side runs for real.
"""

import stripe
from django.conf import settings


class BadSignature(Exception):
    """The webhook body is not what Stripe signed with our secret (or is too old, or unsigned)."""


def is_configured() -> bool:
    """Billing works only with both API keys; without them nothing offers to pay."""
    return bool(settings.STRIPE_SECRET_KEY and settings.STRIPE_PUBLISHABLE_KEY)


def verify_event(payload: bytes, signature: str | None) -> dict:
    """The event in a webhook body, verified with STRIPE_WEBHOOK_SECRET by the library (HMAC-SHA256 of
    "timestamp.body", timestamp within Stripe's 5-minute tolerance). Raises BadSignature otherwise."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret or not signature:
        raise BadSignature("no signature or no webhook secret")
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret)
    except (ValueError, stripe.SignatureVerificationError) as error:
        raise BadSignature(str(error)) from error
    return event.to_dict()


def list_subscriptions():
    """Every subscription in the Stripe account (all statuses), page after page, as plain dicts."""
    pages = stripe.Subscription.list(api_key=settings.STRIPE_SECRET_KEY, status="all", limit=100)
    for subscription in pages.auto_paging_iter():
        yield subscription.to_dict()

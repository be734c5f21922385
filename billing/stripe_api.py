"""The only module that talks to the `stripe` library (docs/billing.md#stripe).

Tests fake Stripe's servers at the library's HTTP client (stripe.default_http_client); everything on our
side runs for real.
"""

import stripe
from django.conf import settings


class StripeUnavailable(Exception):
    """Stripe refused or could not be reached; the user can try again later."""


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


def create_checkout_session(
    *,
    price_id: str,
    user_id: int,
    email: str,
    customer_id: str,
    metadata: dict,
    success_url: str,
    cancel_url: str,
) -> str:
    """A Stripe Checkout session subscribing our user to one price; returns the URL to send them to.
    client_reference_id is our user id (the webhook links the customer by it); the subscription carries
    the user id too, for subscription events that arrive before checkout.session.completed."""
    options = {"customer": customer_id} if customer_id else ({"customer_email": email} if email else {})
    session = stripe.checkout.Session.create(
        api_key=settings.STRIPE_SECRET_KEY,
        mode="subscription",
        line_items=[{"price": price_id, "quantity": 1}],
        client_reference_id=str(user_id),
        metadata=metadata,
        subscription_data={"metadata": {"user_id": str(user_id)}},
        success_url=success_url,
        cancel_url=cancel_url,
        **options,
    )
    return session.url


def create_portal_session(*, customer_id: str, return_url: str) -> str:
    """A Stripe customer portal session (change plan, cancel, invoices); returns its URL."""
    session = stripe.billing_portal.Session.create(
        api_key=settings.STRIPE_SECRET_KEY, customer=customer_id, return_url=return_url
    )
    return session.url


def create_payment_session(
    *,
    name: str,
    amount: int,
    currency: str,
    user_id: int,
    email: str,
    customer_id: str,
    metadata: dict,
    success_url: str,
    cancel_url: str,
) -> str:
    """A one-time Stripe Checkout session (mode=payment) for `amount` minor units of `currency`, named
    `name` on Stripe's page; returns its URL. client_reference_id is our user; metadata names what is
    bought (the webhook hands it to the purchase handler of metadata.kind)."""
    options = {"customer": customer_id} if customer_id else ({"customer_email": email} if email else {})
    session = stripe.checkout.Session.create(
        api_key=settings.STRIPE_SECRET_KEY,
        mode="payment",
        line_items=[
            {
                "price_data": {"currency": currency, "unit_amount": amount, "product_data": {"name": name}},
                "quantity": 1,
            }
        ],
        client_reference_id=str(user_id),
        metadata=metadata,
        payment_intent_data={"metadata": metadata},
        success_url=success_url,
        cancel_url=cancel_url,
        **options,
    )
    return session.url

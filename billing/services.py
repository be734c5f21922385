"""Every billing write: plans, the Stripe event store and what each event changes (docs/billing.md).

Each function runs in one transaction. A webhook event is stored once by its Stripe id and processed in
the same transaction as the insert, so a replay (Stripe retries, or an attacker re-sending a signed body
within the tolerance) finds the row and changes nothing.
"""

import datetime
import logging
import unicodedata

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from . import purchases, stripe_api
from .models import MAX_TIP_MESSAGE, Customer, LedgerEntry, Plan, StripeEvent, Subscription, Tip
from .money import decimal_places, format_money, from_major, parse_money
from .selectors import live_subscriptions

log = logging.getLogger(__name__)

# Stripe's terminal subscription statuses: nothing comes after them, whatever order events arrive in.
FINAL_STATUSES = {Subscription.Status.CANCELED, Subscription.Status.INCOMPLETE_EXPIRED}
KNOWN_STATUSES = set(Subscription.Status.values)


# --- Plans.


def create_plan(
    *,
    name: str,
    stripe_price_id: str,
    amount: int,
    currency: str,
    interval: str,
    upload_limit_bytes: int = 0,
    max_private_collections: int = 0,
    max_api_keys: int = 0,
    early_access: bool = False,
) -> Plan:
    """A new active plan. Refuses a bad amount, currency or interval and a price id already used."""
    name, stripe_price_id, currency = name.strip(), stripe_price_id.strip(), currency.strip().lower()
    if not name:
        raise ValidationError(_("A plan needs a name."))
    if not stripe_price_id.startswith("price_"):
        raise ValidationError(_("A Stripe price id starts with price_."))
    if not isinstance(amount, int) or amount <= 0:
        raise ValidationError(_("The amount is a positive whole number of minor units (500 = 5.00)."))
    if len(currency) != 3 or not currency.isalpha() or not currency.isascii():
        raise ValidationError(_("The currency is a three-letter ISO code, such as usd or eur."))
    if interval not in Plan.Interval.values:
        raise ValidationError(_("The interval is month or year."))
    if min(upload_limit_bytes, max_private_collections, max_api_keys) < 0:
        raise ValidationError(_("Limits cannot be negative."))
    with transaction.atomic():
        if Plan.objects.filter(stripe_price_id=stripe_price_id).exists():
            raise ValidationError(_("A plan already uses the price %(price)s.") % {"price": stripe_price_id})
        return Plan.objects.create(
            name=name,
            stripe_price_id=stripe_price_id,
            amount=amount,
            currency=currency,
            interval=interval,
            upload_limit_bytes=upload_limit_bytes,
            max_private_collections=max_private_collections,
            max_api_keys=max_api_keys,
            early_access=early_access,
        )


# --- Checkout and the customer portal.


def start_checkout(*, user, plan: Plan, success_url: str, cancel_url: str) -> str:
    """The Stripe Checkout URL where `user` subscribes to `plan`. Writes nothing: the subscription exists
    for us only when Stripe's webhook says so. Refuses an inactive plan and a user who already has a live
    subscription (they change plans in the customer portal instead)."""
    if not plan.active:
        raise ValidationError(_("This plan is no longer offered."))
    if live_subscriptions(user).exists():
        raise ValidationError(_("You already have a membership; change it from “Manage membership”."))
    customer = Customer.objects.filter(user=user).first()
    try:
        return stripe_api.create_checkout_session(
            price_id=plan.stripe_price_id,
            user_id=user.id,
            email=user.email,
            customer_id=customer.stripe_customer_id if customer else "",
            metadata={"kind": "subscription", "plan_id": str(plan.id), "price": plan.stripe_price_id},
            success_url=success_url,
            cancel_url=cancel_url,
        )
    except stripe_api.stripe.StripeError as error:
        log.warning("billing: Checkout refused for user %s: %s", user.id, error)
        raise stripe_api.StripeUnavailable(str(error)) from error


def start_purchase(
    *, user, name: str, amount: int, currency: str, metadata: dict, success_url: str, cancel_url: str
) -> str:
    """The Stripe Checkout URL for a one-time payment (early access, tips). `metadata` must name the
    `kind` (a registered purchase handler) and the `creator_id` owed. Writes nothing: the webhook does."""
    if not isinstance(amount, int) or amount <= 0:
        raise ValidationError(_("The amount is a positive whole number of minor units (500 = 5.00)."))
    if purchases.handler_for(str(metadata.get("kind"))) is None:
        raise ValidationError(f"no purchase handler for {metadata.get('kind')!r}")
    customer = Customer.objects.filter(user=user).first()
    try:
        return stripe_api.create_payment_session(
            name=name,
            amount=amount,
            currency=currency,
            user_id=user.id,
            email=user.email,
            customer_id=customer.stripe_customer_id if customer else "",
            metadata={key: str(value) for key, value in metadata.items()},
            success_url=success_url,
            cancel_url=cancel_url,
        )
    except stripe_api.stripe.StripeError as error:
        log.warning("billing: one-time Checkout refused for user %s: %s", user.id, error)
        raise stripe_api.StripeUnavailable(str(error)) from error


def open_portal(*, user, return_url: str) -> str:
    """The Stripe customer portal URL for `user`; ValidationError if they never paid through Stripe."""
    customer = Customer.objects.filter(user=user).first()
    if customer is None:
        raise ValidationError(_("You have no membership to manage yet."))
    try:
        return stripe_api.create_portal_session(
            customer_id=customer.stripe_customer_id, return_url=return_url
        )
    except stripe_api.stripe.StripeError as error:
        log.warning("billing: portal refused for user %s: %s", user.id, error)
        raise stripe_api.StripeUnavailable(str(error)) from error


# --- Tips (docs/billing.md#tips).

TIP_KIND = "tip"
# Tips go from 1.00 to 1000.00 of the currency (1 to 1000 of a zero-decimal one such as JPY).
MIN_TIP_MAJOR, MAX_TIP_MAJOR = 1, 1000
# Line breaks are kept; other control characters and the bidirectional overrides (which can make a
# message read backwards around the payer's name) are refused.
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def tip_bounds(currency: str) -> tuple[int, int]:
    """The smallest and largest tip in minor units of `currency`."""
    return from_major(MIN_TIP_MAJOR, currency), from_major(MAX_TIP_MAJOR, currency)


def clean_tip_message(message: str) -> str:
    """The message as it will be stored: CRLF as LF (browsers send CRLF), trimmed; ValidationError when
    it is too long or holds control characters."""
    message = (message or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(message) > MAX_TIP_MESSAGE:
        raise ValidationError(
            _("The message is %(length)d characters long; at most %(max)d are allowed.")
            % {"length": len(message), "max": MAX_TIP_MESSAGE}
        )
    for char in message:
        if char in _BIDI_CONTROLS or (unicodedata.category(char) == "Cc" and char not in "\n\t"):
            raise ValidationError(_("The message contains control characters; please remove them."))
    return message


def start_tip(
    *, user, creator, amount_text: str, currency: str, message: str, success_url: str, cancel_url: str
) -> str:
    """The Stripe Checkout URL where `user` tips `creator` the amount they typed (major units). Refuses
    tipping oneself, an unknown or inactive creator, an amount that is not one or is outside the bounds,
    and a bad message; writes nothing (the Tip comes with the webhook, through record_tip)."""
    if not stripe_api.is_configured():
        raise ValidationError(_("Payments are not configured on this hub."))
    if creator is None or not creator.is_active:
        raise ValidationError(_("This person cannot receive tips."))
    if creator.pk == user.pk:
        raise ValidationError(_("You cannot tip yourself."))
    currency = (currency or "").strip().lower()
    low, high = tip_bounds(currency)
    try:
        amount = parse_money(amount_text, currency)
    except ValueError:
        raise ValidationError(
            _("Enter the amount as a number, such as 5 or 12.50.")
            if decimal_places(currency)
            else _("Enter the amount as a whole number, such as 500.")
        ) from None
    if not low <= amount <= high:
        raise ValidationError(
            _("A tip is from %(min)s to %(max)s.")
            % {"min": format_money(low, currency), "max": format_money(high, currency)}
        )
    message = clean_tip_message(message)
    metadata = {"kind": TIP_KIND, "creator_id": creator.pk, "reference": TIP_KIND, "description": "Tip"}
    if message:  # Stripe allows 500 characters a metadata value; the message has at most 280
        metadata["message"] = message
    return start_purchase(
        user=user,
        name=_("Tip for %(name)s") % {"name": creator.get_username()},
        amount=amount,
        currency=currency,
        metadata=metadata,
        success_url=success_url,
        cancel_url=cancel_url,
    )


def record_tip(user, metadata: dict, session: dict) -> Tip | None:
    """The purchase handler of kind "tip" (registered in apps.py): one Tip per paid Checkout session,
    inside the webhook's transaction. A replay keeps the one row; a deleted payer is None (the tip shows
    as "Someone"); a creator who no longer exists gets no Tip (the ledger row is there either way)."""
    creator = _user_by_id(metadata.get("creator_id"))
    if creator is None or not session.get("id"):
        log.warning("billing: tip %s names no known creator", session.get("id"))
        return None
    message = str(metadata.get("message") or "")[:MAX_TIP_MESSAGE]
    try:
        with transaction.atomic():
            tip, _created = Tip.objects.get_or_create(
                stripe_session_id=session["id"],
                defaults={
                    "payer": user,
                    "creator": creator,
                    "amount": int(session["amount_total"]),
                    "currency": str(session["currency"]).lower(),
                    "message": message,
                    "payment_intent_id": session.get("payment_intent") or "",
                },
            )
    except IntegrityError:  # recorded meanwhile by a concurrent delivery of another event
        tip = Tip.objects.get(stripe_session_id=session["id"])
    return tip


# --- The event store.


def record_event(event: dict) -> bool:
    """Store a verified Stripe event and apply it, once. Returns False for a replay (already stored).

    The insert and the processing share one transaction: if processing fails, the event is not stored
    and Stripe's retry will try again. Two deliveries racing each other meet at the unique constraint."""
    try:
        with transaction.atomic():
            stored = StripeEvent.objects.create(
                stripe_id=event["id"],
                type=event["type"],
                created=int(event["created"]),
                payload=event,
            )
            handler = HANDLERS.get(stored.type)
            if handler is not None:
                handler(event["data"]["object"], created=stored.created)
            stored.processed_at = timezone.now()
            stored.save(update_fields=["processed_at"])
    except IntegrityError:
        if StripeEvent.objects.filter(stripe_id=event["id"]).exists():
            return False
        raise
    return True


# --- Subscriptions.


def _user_for_customer(customer_id: str | None):
    if not customer_id:
        return None
    row = Customer.objects.filter(stripe_customer_id=customer_id).select_related("user").first()
    return row.user if row else None


def _user_by_id(value):
    try:
        return get_user_model().objects.filter(pk=int(value)).first()
    except (TypeError, ValueError):
        return None


def _stamp(seconds) -> datetime.datetime | None:
    return datetime.datetime.fromtimestamp(int(seconds), tz=datetime.UTC) if seconds else None


def _period_end(sub: dict):
    """current_period_end is on the subscription in older API versions, on its items in newer ones."""
    if sub.get("current_period_end"):
        return _stamp(sub["current_period_end"])
    ends = [item.get("current_period_end") for item in (sub.get("items") or {}).get("data", [])]
    ends = [end for end in ends if end]
    return _stamp(max(ends)) if ends else None


def _price_id(sub: dict) -> str | None:
    for item in (sub.get("items") or {}).get("data", []):
        price = item.get("price") or {}
        if price.get("id"):
            return price["id"]
    return None


def apply_subscription(sub: dict, *, created: int) -> Subscription:
    """Bring our row in line with a Stripe subscription object seen at time `created` (an event's
    `created`, or now for the nightly reconcile). Ordering rule (docs/billing.md#event-order): an object
    older than the newest one applied is ignored, and a final status (canceled, incomplete_expired) is
    never replaced. Safe to run twice with the same object."""
    customer_id = sub.get("customer") or ""
    if isinstance(customer_id, dict):
        customer_id = customer_id.get("id", "")
    status = sub.get("status")
    if status not in KNOWN_STATUSES:
        raise ValidationError(f"unknown subscription status {status!r}")
    plan = Plan.objects.filter(stripe_price_id=_price_id(sub)).first()
    user = _user_for_customer(customer_id) or _user_by_id((sub.get("metadata") or {}).get("user_id"))
    row = Subscription.objects.select_for_update().filter(stripe_subscription_id=sub["id"]).first()
    if row is None:
        try:
            with transaction.atomic():
                return Subscription.objects.create(
                    stripe_subscription_id=sub["id"],
                    stripe_customer_id=customer_id,
                    user=user,
                    plan=plan,
                    status=status,
                    current_period_end=_period_end(sub),
                    cancel_at_period_end=bool(sub.get("cancel_at_period_end")),
                    last_event_created=created,
                )
        except IntegrityError:  # created meanwhile by a concurrent event: apply the rule to that row
            row = Subscription.objects.select_for_update().get(stripe_subscription_id=sub["id"])
    if created < row.last_event_created or row.status in FINAL_STATUSES and status not in FINAL_STATUSES:
        log.info("billing: ignored an older state of %s (%s)", row.stripe_subscription_id, status)
        return row
    row.status = status
    row.plan = plan
    row.user = row.user or user
    row.stripe_customer_id = customer_id or row.stripe_customer_id
    row.current_period_end = _period_end(sub)
    row.cancel_at_period_end = bool(sub.get("cancel_at_period_end"))
    row.last_event_created = created
    row.save()
    return row


def _subscription_id_of_invoice(invoice: dict) -> str | None:
    """The invoice's subscription: a top-level field in older API versions, under parent in newer ones."""
    sub = invoice.get("subscription")
    if not sub:
        details = (invoice.get("parent") or {}).get("subscription_details") or {}
        sub = details.get("subscription")
    return sub.get("id") if isinstance(sub, dict) else sub


def _on_subscription_event(sub: dict, *, created: int) -> None:
    apply_subscription(sub, created=created)


def _on_payment_failed(invoice: dict, *, created: int) -> None:
    """A failed renewal: the subscription is past_due (perks stay until the period ends while Stripe
    retries). Only a strictly newer event changes the row, so a stale failure never undoes a later
    recovery; the customer.subscription.updated event Stripe also sends carries the same state."""
    sub_id = _subscription_id_of_invoice(invoice)
    if not sub_id:
        return
    row = Subscription.objects.select_for_update().filter(stripe_subscription_id=sub_id).first()
    if row is None or created <= row.last_event_created or row.status in FINAL_STATUSES:
        return
    if row.status in (Subscription.Status.ACTIVE, Subscription.Status.TRIALING):
        row.status = Subscription.Status.PAST_DUE
        row.last_event_created = created
        row.save(update_fields=["status", "last_event_created", "updated_at"])


# --- Checkout.


def _on_checkout_completed(session: dict, *, created: int) -> None:
    """client_reference_id names our user: remember their Stripe customer, attach subscriptions that
    arrived first, and for a one-time payment (tips, early access: metadata names what is bought and the
    creator owed) write the ledger payment."""
    user = _user_by_id(session.get("client_reference_id"))
    customer_id = session.get("customer") or ""
    if user is not None and customer_id:
        # One customer per user: Checkout must reuse it (customer=...). A second one is logged, not linked.
        known = Customer.objects.filter(Q(user=user) | Q(stripe_customer_id=customer_id)).first()
        if known is None:
            Customer.objects.create(user=user, stripe_customer_id=customer_id)
        elif (known.user_id, known.stripe_customer_id) != (user.id, customer_id):
            log.warning("billing: %s is not linked to user %s (has %s)", customer_id, user.id, known)
        Subscription.objects.filter(stripe_customer_id=customer_id, user__isnull=True).update(user=user)
    if session.get("mode") == "payment" and session.get("payment_status") == "paid":
        metadata = session.get("metadata") or {}
        creator = metadata.get("creator_id")
        LedgerEntry.objects.create(
            kind=LedgerEntry.Kind.PAYMENT,
            user=user,
            stripe_customer_id=customer_id,
            creator_id=int(creator) if creator and str(creator).isdigit() else None,
            amount=int(session["amount_total"]),
            currency=session["currency"],
            stripe_object_id=session["id"],
            payment_intent_id=session.get("payment_intent") or "",
            description=str(metadata.get("description") or metadata.get("kind") or "")[:255],
            reference=str(metadata.get("reference") or "")[:100],
        )
        handler = purchases.handler_for(str(metadata.get("kind") or ""))
        if handler is not None:
            handler(user, metadata, session)


# --- The ledger.


def _on_invoice_paid(invoice: dict, *, created: int) -> None:
    """A subscription payment: a positive ledger row owed to the hub. A free invoice (trial) adds nothing."""
    amount = int(invoice.get("amount_paid") or 0)
    if amount <= 0:
        return
    customer_id = invoice.get("customer") or ""
    plan_name = ""
    sub_id = _subscription_id_of_invoice(invoice)
    if sub_id:
        sub = Subscription.objects.filter(stripe_subscription_id=sub_id).select_related("plan").first()
        plan_name = sub.plan.name if sub and sub.plan else ""
    LedgerEntry.objects.create(
        kind=LedgerEntry.Kind.PAYMENT,
        user=_user_for_customer(customer_id),
        stripe_customer_id=customer_id,
        amount=amount,
        currency=invoice["currency"],
        stripe_object_id=invoice["id"],
        payment_intent_id=invoice.get("payment_intent") or "",
        description=(f"Subscription: {plan_name}" if plan_name else "Subscription")[:255],
    )


def _payment_of(payment_intent_id: str) -> LedgerEntry | None:
    if not payment_intent_id:
        return None
    return LedgerEntry.objects.filter(
        kind=LedgerEntry.Kind.PAYMENT, payment_intent_id=payment_intent_id
    ).first()


def _lock_payer(user) -> None:
    """Serialise ledger writes about one payer: a refund's amount depends on the rows already written."""
    if user is not None:
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()


def _on_charge_refunded(charge: dict, *, created: int) -> None:
    """A refund, negative. Stripe's charge carries the cumulative amount_refunded, so the new row is what
    is not yet recorded for this charge: partial refunds add up exactly, in any order."""
    payment = _payment_of(charge.get("payment_intent") or "")
    customer_id = charge.get("customer") or ""
    user = payment.user if payment else _user_for_customer(customer_id)
    _lock_payer(user)
    recorded = -(
        LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND, stripe_object_id=charge["id"]).aggregate(
            total=Sum("amount")
        )["total"]
        or 0
    )
    new = int(charge.get("amount_refunded") or 0) - recorded
    if new <= 0:
        return
    LedgerEntry.objects.create(
        kind=LedgerEntry.Kind.REFUND,
        user=user,
        stripe_customer_id=customer_id,
        creator_id=payment.creator_id if payment else None,
        amount=-new,
        currency=charge["currency"],
        stripe_object_id=charge["id"],
        payment_intent_id=charge.get("payment_intent") or "",
        description=f"Refund of {payment.stripe_object_id}" if payment else "Refund",
        reference=payment.reference if payment else "",
    )
    _purchase_follows_money(payment)


def _dispute_recorded(dispute_id: str) -> int:
    return (
        LedgerEntry.objects.filter(kind=LedgerEntry.Kind.DISPUTE, stripe_object_id=dispute_id).aggregate(
            total=Sum("amount")
        )["total"]
        or 0
    )


def _write_dispute(dispute: dict, *, net: int, description: str) -> None:
    """Bring the dispute's rows to `net` (its whole effect on the ledger) with one new row, if needed."""
    payment = _payment_of(dispute.get("payment_intent") or "")
    _lock_payer(payment.user if payment else None)
    change = net - _dispute_recorded(dispute["id"])
    if change == 0:
        return
    LedgerEntry.objects.create(
        kind=LedgerEntry.Kind.DISPUTE,
        user=payment.user if payment else None,
        stripe_customer_id=payment.stripe_customer_id if payment else "",
        creator_id=payment.creator_id if payment else None,
        amount=change,
        currency=dispute["currency"],
        stripe_object_id=dispute["id"],
        payment_intent_id=dispute.get("payment_intent") or "",
        description=description[:255],
        reference=payment.reference if payment else "",
    )
    _purchase_follows_money(payment)


def _purchase_follows_money(payment: LedgerEntry | None) -> None:
    """After a refund or dispute row: take back what the payment bought when none of the payer's money
    for the same thing (its reference; else this payment) is left, give it again when some is (a
    dispute won). Only kinds that registered `on_reversed` take part (docs/billing.md#refunds-and-disputes)."""
    if payment is None or payment.user is None:
        return
    stored = StripeEvent.objects.filter(
        type="checkout.session.completed", payload__data__object__id=payment.stripe_object_id
    ).first()
    if stored is None:  # a subscription's invoice: perks follow the subscription's status instead
        return
    session = stored.payload["data"]["object"]
    metadata = session.get("metadata") or {}
    kind = str(metadata.get("kind") or "")
    on_reversed = purchases.reversal_handler_for(kind)
    if on_reversed is None:
        return
    same = (
        {"reference": payment.reference}
        if payment.reference
        else {"payment_intent_id": payment.payment_intent_id}
    )
    left = LedgerEntry.objects.filter(user=payment.user, **same).aggregate(total=Sum("amount"))["total"] or 0
    if left <= 0:
        on_reversed(payment.user, metadata, session)
    else:
        purchases.handler_for(kind)(payment.user, metadata, session)


def _on_dispute_created(dispute: dict, *, created: int) -> None:
    """A chargeback: the disputed amount leaves, negative, owed by the same creator as the payment.
    If the dispute's closing arrived first, it already settled the dispute's rows: nothing to do."""
    closed = StripeEvent.objects.filter(
        type="charge.dispute.closed", payload__data__object__id=dispute["id"]
    ).exists()
    if not closed:
        reason = dispute.get("reason") or "unknown reason"
        _write_dispute(dispute, net=-int(dispute["amount"]), description=f"Dispute ({reason})")


def _on_dispute_closed(dispute: dict, *, created: int) -> None:
    """A won dispute gives the money back (the dispute's rows net to zero: a positive row); a lost one
    keeps it withdrawn (written now if the opening event never came)."""
    won = dispute.get("status") == "won"
    net = 0 if won else -int(dispute["amount"])
    _write_dispute(dispute, net=net, description="Dispute won" if won else "Dispute lost")


HANDLERS = {
    "checkout.session.completed": _on_checkout_completed,
    "customer.subscription.created": _on_subscription_event,
    "customer.subscription.updated": _on_subscription_event,
    "customer.subscription.deleted": _on_subscription_event,
    "invoice.paid": _on_invoice_paid,
    "invoice.payment_failed": _on_payment_failed,
    "charge.refunded": _on_charge_refunded,
    "charge.dispute.created": _on_dispute_created,
    "charge.dispute.closed": _on_dispute_closed,
}

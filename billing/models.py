"""Plans, Stripe customers and subscriptions, the Stripe event store and the append-only ledger.

billing is the bottom layer: it knows users (AUTH_USER_MODEL) and nothing about content; a creator owed
money is a plain user id. Money is always an integer in the currency's minor unit (cents) plus a
lower-case ISO currency code, never a float (docs/billing.md#money).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Plan(models.Model):
    """A premium tier sold as one Stripe recurring price. Its perks are explicit fields, read only through
    `billing.entitlements(user)` (docs/billing.md#entitlements)."""

    class Interval(models.TextChoices):
        MONTH = "month", _("monthly")
        YEAR = "year", _("yearly")

    name = models.CharField(max_length=100, help_text=_("The tier's name, shown on the pricing page."))
    stripe_price_id = models.CharField(max_length=255, unique=True, help_text=_("Stripe's price id, price_…"))
    amount = models.PositiveIntegerField(help_text=_("Price in the currency's minor unit (500 = 5.00)."))
    currency = models.CharField(max_length=3, help_text=_("ISO code, lower case: usd, eur…"))
    interval = models.CharField(max_length=5, choices=Interval.choices)
    active = models.BooleanField(default=True, help_text=_("Inactive plans are not offered any more."))
    # Perks: a plan never gives less than the free tier (entitlements take the larger value).
    upload_limit_bytes = models.BigIntegerField(default=0, help_text=_("Largest upload; 0 = as free."))
    max_private_collections = models.PositiveIntegerField(default=0, help_text=_("0 = as free."))
    max_api_keys = models.PositiveIntegerField(default=0, help_text=_("0 = as free."))
    early_access = models.BooleanField(default=False, help_text=_("May open early-access versions."))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["amount", "name"]

    def __str__(self):
        return f"{self.name} ({self.amount} {self.currency}/{self.interval})"


class Customer(models.Model):
    """Which Stripe customer a user is. Made by checkout.session.completed (client_reference_id)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stripe_customer"
    )
    stripe_customer_id = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.stripe_customer_id


class Subscription(models.Model):
    """Our copy of a Stripe subscription. Only events at least as new as `last_event_created` change it,
    and a canceled/incomplete_expired subscription is final (docs/billing.md#event-order)."""

    class Status(models.TextChoices):
        INCOMPLETE = "incomplete", _("incomplete")
        INCOMPLETE_EXPIRED = "incomplete_expired", _("expired before payment")
        TRIALING = "trialing", _("trial")
        ACTIVE = "active", _("active")
        PAST_DUE = "past_due", _("payment overdue")
        CANCELED = "canceled", _("canceled")
        UNPAID = "unpaid", _("unpaid")
        PAUSED = "paused", _("paused")

    # The user is unknown while the subscription's events arrive before checkout.session.completed.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="subscriptions",
    )
    # Null when the subscription's price is no plan of ours: it gives no perks.
    plan = models.ForeignKey(
        Plan, null=True, blank=True, on_delete=models.PROTECT, related_name="subscriptions"
    )
    stripe_subscription_id = models.CharField(max_length=255, unique=True)
    stripe_customer_id = models.CharField(max_length=255, db_index=True)
    status = models.CharField(max_length=20, choices=Status.choices)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    # The Stripe `created` time (seconds) of the newest event applied: older events are ignored.
    last_event_created = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.stripe_subscription_id} ({self.status})"


class StripeEvent(models.Model):
    """Every verified webhook event, stored once by its Stripe id; a replay finds the row and stops."""

    stripe_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    created = models.BigIntegerField(help_text=_("Stripe's `created`, seconds since the epoch."))
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.type} {self.stripe_id}"


class LedgerIsAppendOnly(Exception):
    """A ledger row was about to be changed or deleted; corrections are new rows (docs/billing.md#ledger)."""


class LedgerQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise LedgerIsAppendOnly("ledger rows are never updated; append a correcting row")

    def delete(self):
        raise LedgerIsAppendOnly("ledger rows are never deleted; append a correcting row")


class LedgerEntry(models.Model):
    """One movement of money, signed: payments positive, refunds and disputes negative. Rows are only
    ever added: save() refuses an existing row, delete() and queryset update()/delete() refuse."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", _("payment")
        REFUND = "refund", _("refund")
        DISPUTE = "dispute", _("dispute")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The payer. SET_NULL: a deleted account leaves the money trail (the Stripe customer id stays).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ledger_entries",
    )
    stripe_customer_id = models.CharField(max_length=255, blank=True)
    # The creator owed this money (a tip, an early-access purchase), as a plain user id; None = the hub.
    creator_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    amount = models.BigIntegerField(help_text=_("Signed, in the currency's minor unit."))
    currency = models.CharField(max_length=3)
    # The Stripe object this row records (in_…, cs_…, ch_…, dp_…) and the payment it belongs to (pi_…),
    # which links a refund or dispute back to its payment.
    stripe_object_id = models.CharField(max_length=255, db_index=True)
    payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    description = models.CharField(max_length=255, blank=True)
    # What the money was for, as the buyer's Checkout metadata named it ("goal:12", "tip"), copied to the
    # refunds and disputes of that payment: a goal's progress is the sum of its reference's rows.
    reference = models.CharField(max_length=100, blank=True, db_index=True, db_default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "ledger entries"

    def __str__(self):
        return f"{self.kind} {self.amount} {self.currency} ({self.stripe_object_id})"

    def save(self, *args, **kwargs):
        if self.pk is not None or kwargs.get("force_update"):
            raise LedgerIsAppendOnly("ledger rows are never updated; append a correcting row")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerIsAppendOnly("ledger rows are never deleted; append a correcting row")


MAX_TIP_MESSAGE = 280


class Tip(models.Model):
    """A tip one user paid another (docs/billing.md#tips), made by the purchase handler of kind "tip"
    when Stripe confirms the Checkout. The money itself is the ledger's payment row (reference "tip");
    this row keeps who, to whom and the message shown on the creator's page."""

    # SET_NULL: a deleted payer's tip stays on the creator's page, as "Someone".
    payer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="tips_given"
    )
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tips")
    amount = models.PositiveIntegerField(help_text=_("In the currency's minor unit (500 = 5.00)."))
    currency = models.CharField(max_length=3)
    message = models.CharField(max_length=MAX_TIP_MESSAGE, blank=True)
    stripe_session_id = models.CharField(max_length=255, unique=True)
    # Links the tip to its ledger rows: refunds and disputes carry the same payment intent.
    payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["creator", "-created_at"], name="billing_tip_creator_recent")]

    def __str__(self):
        return f"tip {self.amount} {self.currency} to {self.creator_id} ({self.stripe_session_id})"

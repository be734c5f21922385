"""What a user may do: `entitlements(user)`, the one answer every app reads (docs/billing.md#entitlements)."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import OuterRef, Q, Subquery, Sum
from django.utils import timezone

from .models import LedgerEntry, Plan, Subscription, Tip

FREE_TIER = "free"
# The free tier's API keys (community's MAX_ACTIVE_API_KEYS is this number); the free upload limit and
# private collections are settings (MAX_UPLOAD_SIZE, FREE_MAX_PRIVATE_COLLECTIONS).
FREE_MAX_API_KEYS = 20
# Statuses that keep the perks while the paid period runs. past_due: Stripe is still retrying the card.
ENTITLED_STATUSES = (Subscription.Status.ACTIVE, Subscription.Status.TRIALING, Subscription.Status.PAST_DUE)


@dataclass(frozen=True)
class Entitlements:
    """The perks of one user right now. `tier` is a plan's name, or "free"."""

    tier: str
    early_access: bool
    upload_limit_bytes: int
    max_private_collections: int
    max_api_keys: int
    # The names of the tiers (plans) the user has live now; empty on the free tier.
    tiers: frozenset[str] = frozenset()

    @property
    def is_member(self) -> bool:
        return self.tier != FREE_TIER


def free_entitlements() -> Entitlements:
    return Entitlements(
        tier=FREE_TIER,
        early_access=False,
        upload_limit_bytes=settings.MAX_UPLOAD_SIZE,
        max_private_collections=settings.FREE_MAX_PRIVATE_COLLECTIONS,
        max_api_keys=FREE_MAX_API_KEYS,
    )


def live_subscriptions(user):
    """`user`'s subscriptions that give perks now: an entitled status, a plan of ours and a paid period
    that has not ended. A lapsed one (canceled, unpaid, incomplete_expired, period over) is not here."""
    return Subscription.objects.filter(
        user=user,
        status__in=ENTITLED_STATUSES,
        plan__isnull=False,
        current_period_end__gt=timezone.now(),
    ).select_related("plan")


def tier_names() -> list[str]:
    """The tiers on offer now (active plans' names; a monthly and a yearly plan of one name are one
    tier), for creators choosing who their early access is open to."""
    return sorted(set(Plan.objects.filter(active=True).values_list("name", flat=True)))


def member_ids(user_ids) -> set[int]:
    """Which of these users have a live subscription now: one query for a list (comment authors)."""
    return set(
        Subscription.objects.filter(
            user_id__in=list(user_ids),
            status__in=ENTITLED_STATUSES,
            plan__isnull=False,
            current_period_end__gt=timezone.now(),
        ).values_list("user_id", flat=True)
    )


def entitlements(user) -> Entitlements:
    """The perks of `user` (anonymous users and users without a live subscription get the free tier).
    With several live subscriptions each perk is the most generous one and the tier is the dearest plan's
    name. Read on every call, never cached: a lapse takes the perks away at once."""
    free = free_entitlements()
    if user is None or not getattr(user, "is_authenticated", False):
        return free
    plans = [s.plan for s in live_subscriptions(user)]
    if not plans:
        return free
    dearest = max(plans, key=lambda p: (p.amount * (12 if p.interval == "month" else 1), p.id))
    return Entitlements(
        tier=dearest.name,
        early_access=any(p.early_access for p in plans),
        upload_limit_bytes=max([free.upload_limit_bytes] + [p.upload_limit_bytes for p in plans]),
        max_private_collections=max(
            [free.max_private_collections] + [p.max_private_collections for p in plans]
        ),
        max_api_keys=max([free.max_api_keys] + [p.max_api_keys for p in plans]),
        tiers=frozenset(p.name for p in plans),
    )


def earnings(creator_id: int, *, since=None) -> dict[str, int]:
    """What the ledger says `creator_id` is owed, all time (or from `since` on), per currency in minor
    units (payments minus refunds and disputes; docs/billing.md#ledger). Currencies are never added
    together."""
    rows = LedgerEntry.objects.filter(creator_id=creator_id)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    rows = rows.values("currency").annotate(total=Sum("amount")).order_by("currency")
    return {row["currency"]: int(row["total"]) for row in rows}


def totals_by_reference(references) -> dict[str, dict[str, int]]:
    """For each reference ("goal:12"), what its ledger rows add up to per currency, refunds and disputes
    included: {"goal:12": {"usd": 4200}}. One query for a list of references; missing ones are absent."""
    rows = (
        LedgerEntry.objects.filter(reference__in=list(references))
        .values("reference", "currency")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    totals: dict[str, dict[str, int]] = {}
    for row in rows:
        totals.setdefault(row["reference"], {})[row["currency"]] = int(row["total"])
    return totals


def month_start(now=None):
    """The first instant of the current month in UTC, the month export_payouts uses."""
    now = (now or timezone.now()).astimezone(datetime.UTC)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def earnings_rows(creator_id: int):
    """The ledger rows owed to `creator_id`, newest first: payments, and refunds and disputes negative."""
    return LedgerEntry.objects.filter(creator_id=creator_id).order_by("-created_at", "-id")


def recent_tips(creator_id: int, limit: int = 10) -> list[Tip]:
    """The newest tips to `creator_id` that still hold money: the ledger rows of their payment (the
    payment, its refunds and disputes) add up to more than zero, so a wholly refunded or disputed tip
    is gone and a partly refunded one stays. One query."""
    net = (
        LedgerEntry.objects.filter(payment_intent_id=OuterRef("payment_intent_id"))
        .order_by()
        .values("payment_intent_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return list(
        Tip.objects.filter(creator_id=creator_id)
        .annotate(net=Subquery(net))
        # Without a payment intent nothing can refund it by reference: the tip stays.
        .filter(Q(payment_intent_id="") | Q(net__gt=0))
        .select_related("payer")
        .order_by("-created_at", "-id")[:limit]
    )

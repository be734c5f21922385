"""What the hub owes each creator for a month, summed from the ledger (docs/billing.md#payouts)."""

import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Sum

from .models import LedgerEntry


def month_bounds(month: str) -> tuple[datetime.datetime, datetime.datetime]:
    """[start, end) in UTC of "YYYY-MM"; ValidationError for anything else."""
    try:
        start = datetime.datetime.strptime(month, "%Y-%m").replace(tzinfo=datetime.UTC)
    except ValueError:
        raise ValidationError(f"The month is YYYY-MM, such as 2026-11, not {month!r}.") from None
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return start, end


def payouts(month: str) -> list[dict]:
    """One row per creator and currency with ledger rows in `month` (payments minus refunds and
    disputes): creator_id, username ("" for a deleted account), currency, amount (minor units, exact)."""
    start, end = month_bounds(month)
    sums = (
        LedgerEntry.objects.filter(creator_id__isnull=False, created_at__gte=start, created_at__lt=end)
        .values("creator_id", "currency")
        .annotate(amount=Sum("amount"))
        .order_by("creator_id", "currency")
    )
    rows = list(sums)
    names = dict(
        get_user_model().objects.filter(pk__in={r["creator_id"] for r in rows}).values_list("pk", "username")
    )
    return [
        {
            "creator_id": r["creator_id"],
            "username": names.get(r["creator_id"], ""),
            "currency": r["currency"],
            "amount": int(r["amount"]),
        }
        for r in rows
    ]

"""Crowdfunding goals (docs/billing.md#crowdfunding-goals): a creator opens a goal on a model, supporters
contribute through a one-time Stripe Checkout, and the purchase handler billing calls when Stripe
confirms a payment (registered in apps.py) marks the goal reached and opens the version it unlocks.

A goal's progress is never stored: it is the ledger's sum for the reference "goal:<id>", which billing
copies onto the refunds and disputes of each payment, so those lower it by themselves."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import money, stripe_api
from billing import services as billing_services
from billing.models import LedgerEntry
from billing.selectors import totals_by_reference

from .models import (
    MAX_GOAL_DESCRIPTION_LENGTH,
    MAX_GOAL_TARGET,
    MAX_GOAL_TITLE_LENGTH,
    AIModel,
    FundingGoal,
    ModelVersion,
    PublishStatus,
)

log = logging.getLogger(__name__)

KIND = "goal"
MIN_DAYS, MAX_DAYS = 1, 90
# The form computes the deadline from a number of days a moment before the service checks it.
DEADLINE_GRACE = timedelta(minutes=5)
# A contribution is 1.00 to 10,000.00 in the goal's currency (1 to 10,000 in a zero-decimal one).
MIN_CONTRIBUTION_MAJOR, MAX_CONTRIBUTION_MAJOR = 1, 10_000
# How long a reached or ended goal stays on the model page.
SHOWN_AFTER_CLOSING = timedelta(days=30)


def goal_currency() -> str:
    """The currency new goals are in: the hub's BILLING_CURRENCY (tips use it too)."""
    return settings.BILLING_CURRENCY.lower()


def contribution_bounds(currency: str) -> tuple[int, int]:
    """The smallest and largest contribution, in minor units."""
    return money.from_major(MIN_CONTRIBUTION_MAJOR, currency), money.from_major(
        MAX_CONTRIBUTION_MAJOR, currency
    )


def _check_owner(user, model: AIModel) -> None:
    if not (user.is_authenticated and model.owner_id == user.id):
        raise PermissionDenied(_("Only the creator of this model can manage its goals."))


def early_access_versions(model: AIModel):
    """The versions a goal on `model` may unlock: published and still in early access."""
    return model.versions.filter(
        status=PublishStatus.PUBLISHED, early_access_ends_at__gt=timezone.now()
    ).order_by("-created_at", "-id")


def _clean_text(title: str, description: str) -> tuple[str, str]:
    title, description = (title or "").strip(), (description or "").replace("\r\n", "\n").strip()
    if not title:
        raise ValidationError(_("Give the goal a title."))
    if len(title) > MAX_GOAL_TITLE_LENGTH:
        raise ValidationError(_("The title is at most %(max)d characters.") % {"max": MAX_GOAL_TITLE_LENGTH})
    if len(description) > MAX_GOAL_DESCRIPTION_LENGTH:
        raise ValidationError(
            _("The description is at most %(max)d characters.") % {"max": MAX_GOAL_DESCRIPTION_LENGTH}
        )
    return title, description


# --- The creator's side.


def open_goal(
    *, user, model: AIModel, title: str, description: str, target: int, deadline, unlocks_version=None
) -> FundingGoal:
    """Open a goal on `model` (its creator only). `target` is in minor units of goal_currency();
    `deadline` 1 to 90 days ahead; `unlocks_version` a published version of the same model in early
    access. A goal still open but past its deadline is closed as ended first; an open one refuses."""
    _check_owner(user, model)
    title, description = _clean_text(title, description)
    if isinstance(target, bool) or not isinstance(target, int) or not 0 < target <= MAX_GOAL_TARGET:
        raise ValidationError(
            _("The target is more than 0 and at most %(max)s.")
            % {"max": money.format_money(MAX_GOAL_TARGET, goal_currency())}
        )
    now = timezone.now()
    if not now + timedelta(days=MIN_DAYS) - DEADLINE_GRACE <= deadline <= now + timedelta(days=MAX_DAYS):
        raise ValidationError(
            _("The deadline is %(min)d to %(max)d days from now.") % {"min": MIN_DAYS, "max": MAX_DAYS}
        )
    with transaction.atomic():
        model = AIModel.objects.select_for_update().get(id=model.id)  # one goal opened at a time
        if model.status in (PublishStatus.DELETED, PublishStatus.ARCHIVED):
            raise ValidationError(_("A goal can't be opened on a deleted or archived model."))
        if unlocks_version is not None:
            version_id = getattr(unlocks_version, "id", unlocks_version)
            unlocks_version = early_access_versions(model).filter(id=version_id).first()
            if unlocks_version is None:
                raise ValidationError(
                    _("The version a goal unlocks must be a published version of this model in early access.")
                )
        current = FundingGoal.objects.filter(model=model, status=FundingGoal.Status.OPEN).first()
        if current is not None:
            if not current.has_ended(now):
                raise ValidationError(
                    _("This model already has an open goal; cancel it or wait for its deadline.")
                )
            current.status = FundingGoal.Status.ENDED
            current.save(update_fields=["status"])
        try:
            with transaction.atomic():
                return FundingGoal.objects.create(
                    model=model,
                    title=title,
                    description=description,
                    target=target,
                    currency=goal_currency(),
                    deadline=deadline,
                    unlocks_version=unlocks_version,
                )
        except IntegrityError:  # one_open_goal_per_model: opened meanwhile
            raise ValidationError(
                _("This model already has an open goal; cancel it or wait for its deadline.")
            ) from None


def update_goal(*, user, goal: FundingGoal, title: str, description: str) -> FundingGoal:
    """Change an open goal's title and description. Its target, deadline and version stay: supporters
    contributed to those."""
    _check_owner(user, goal.model)
    title, description = _clean_text(title, description)
    with transaction.atomic():
        goal = FundingGoal.objects.select_for_update().get(id=goal.id)
        if goal.status != FundingGoal.Status.OPEN:
            raise ValidationError(_("Only an open goal can be changed."))
        goal.title, goal.description = title, description
        goal.save(update_fields=["title", "description"])
    return goal


def cancel_goal(*, user, goal: FundingGoal) -> FundingGoal:
    """Cancel an open goal: it takes no more contributions and unlocks nothing. What supporters already
    paid stays in the ledger (refunds are made from Stripe's dashboard, and lower the total)."""
    _check_owner(user, goal.model)
    with transaction.atomic():
        goal = FundingGoal.objects.select_for_update().get(id=goal.id)
        if goal.status != FundingGoal.Status.OPEN:
            raise ValidationError(_("Only an open goal can be canceled."))
        goal.status = FundingGoal.Status.CANCELED
        goal.save(update_fields=["status"])
    return goal


# --- Supporters.


def start_contribution(
    *, user, goal: FundingGoal, amount_text: str, success_url: str, cancel_url: str
) -> str:
    """The Stripe Checkout URL where `user` contributes `amount_text` (typed in major units) to `goal`.
    Refuses a goal that is reached, canceled or past its deadline, an amount outside the bounds, and the
    creator funding their own goal. Writes nothing: the webhook records the payment."""
    if not stripe_api.is_configured():
        raise ValidationError(_("Payments are not configured on this hub."))
    model = goal.model
    if user.is_authenticated and model.owner_id == user.id:
        raise ValidationError(_("You can't contribute to your own goal."))
    if model.status != PublishStatus.PUBLISHED or not goal.accepts_contributions():
        raise ValidationError(_("This goal no longer takes contributions."))
    low, high = contribution_bounds(goal.currency)
    try:
        amount = money.parse_money(amount_text, goal.currency)
    except ValueError:
        amount = None
    if amount is None or not low <= amount <= high:
        raise ValidationError(
            _("Enter an amount from %(min)s to %(max)s.")
            % {"min": money.format_money(low, goal.currency), "max": money.format_money(high, goal.currency)}
        )
    return billing_services.start_purchase(
        user=user,
        name=_("Contribution: %(goal)s (%(model)s)") % {"goal": goal.title, "model": model.name},
        amount=amount,
        currency=goal.currency,
        metadata={
            "kind": KIND,
            "goal_id": goal.id,
            "creator_id": model.owner_id,
            "reference": goal.reference,
            "description": f"Contribution to goal {goal.id}",
        },
        success_url=success_url,
        cancel_url=cancel_url,
    )


def reach_if_funded(user, metadata: dict, session: dict) -> None:
    """Billing's purchase handler for kind=goal, run in the webhook's transaction after the ledger row.
    Re-reads the goal's total from the ledger; an open goal at or over its target before its deadline
    becomes reached and its version opens to everyone. Idempotent: a reached goal stays reached (even if
    refunds later bring the total below), and a replay finds nothing to change."""
    try:
        goal_id = int(metadata.get("goal_id"))
    except (TypeError, ValueError):
        log.warning("goals: session %s names no goal", session.get("id"))
        return
    goal = FundingGoal.objects.select_for_update().filter(id=goal_id).first()
    if goal is None:
        log.warning("goals: session %s names unknown goal %s", session.get("id"), goal_id)
        return
    now = timezone.now()
    if not goal.accepts_contributions(now):
        return  # reached, canceled or ended: the payment is in the ledger, nothing else changes
    raised = totals_by_reference([goal.reference]).get(goal.reference, {}).get(goal.currency, 0)
    if raised < goal.target:
        return
    goal.status, goal.reached_at = FundingGoal.Status.REACHED, now
    goal.save(update_fields=["status", "reached_at"])
    if goal.unlocks_version_id:
        _open_to_everyone(goal.unlocks_version_id, now)


def _open_to_everyone(version_id: int, now) -> None:
    """End the version's early access now: every path (the download endpoint, the CivitAI API's
    availability and earlyAccessEndsAt, the HF API's gated) reads early_access_ends_at, so this is the
    one change. The window becomes 0 days, so saving the version's edit form keeps it open."""
    version = ModelVersion.objects.select_for_update().filter(id=version_id).first()
    if version is None or not version.in_early_access(now):
        return
    version.early_access_ends_at = now
    version.early_access_days = 0
    version.save(update_fields=["early_access_ends_at", "early_access_days", "updated_at"])


# --- Reading.


@dataclass(frozen=True)
class Progress:
    raised: int  # minor units in the goal's currency: payments minus refunds and disputes
    supporters: int  # payers whose contributions, net of refunds and disputes, are above zero
    percent: int  # of the target, rounded down; may pass 100

    @property
    def bar_value(self) -> int:
        return max(0, self.raised)


def progress(goal: FundingGoal) -> Progress:
    """The goal's progress from the ledger in one query (its reference's rows grouped by payer)."""
    rows = (
        LedgerEntry.objects.filter(reference=goal.reference, currency=goal.currency)
        .values("user_id", "stripe_customer_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    # A payer is their user (refunds and disputes carry the payment's user), else their Stripe customer.
    by_payer: dict[tuple, int] = {}
    for row in rows:
        payer = ("user", row["user_id"]) if row["user_id"] else ("customer", row["stripe_customer_id"])
        by_payer[payer] = by_payer.get(payer, 0) + int(row["total"])
    totals = list(by_payer.values())
    raised = sum(totals)
    return Progress(
        raised=raised,
        supporters=sum(1 for total in totals if total > 0),
        percent=max(0, raised) * 100 // goal.target if goal.target else 0,
    )


def goal_to_show(model: AIModel) -> FundingGoal | None:
    """The goal the model page shows: the newest one that is open, or reached or ended less than 30 days
    ago. Canceled goals are not shown. One query."""
    goal = (
        FundingGoal.objects.filter(model=model)
        .exclude(status=FundingGoal.Status.CANCELED)
        .select_related("unlocks_version")
        .first()
    )
    if goal is None:
        return None
    if goal.status == FundingGoal.Status.OPEN and not goal.has_ended():
        return goal
    closed_at = goal.reached_at or goal.deadline
    return goal if closed_at >= timezone.now() - SHOWN_AFTER_CLOSING else None

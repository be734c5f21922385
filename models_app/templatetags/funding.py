"""{% funding_goal_panel model %}: a model's crowdfunding goal on its page, with its progress from the
ledger (docs/billing.md#crowdfunding-goals). Two queries: the goal, then its ledger rows by payer."""

from django import template
from django.utils import timezone

from billing import stripe_api

from .. import funding

register = template.Library()


@register.inclusion_tag("models_app/_funding_goal.html", takes_context=True)
def funding_goal_panel(context, model):
    goal = funding.goal_to_show(model)
    if goal is None:
        return {"show": False}
    user = context["request"].user
    is_owner = user.is_authenticated and model.owner_id == user.id
    version = goal.unlocks_version
    open_to_pay = goal.accepts_contributions() and stripe_api.is_configured()
    return {
        "show": True,
        "goal": goal,
        "model": model,
        "progress": funding.progress(goal),
        "now": timezone.now(),
        "ended": goal.has_ended(),
        "unlocks": version if version is not None and version.status == "published" else None,
        "is_owner": is_owner,
        "signed_in": user.is_authenticated,
        # Nothing offers to pay without billing keys, nor to the goal's own creator.
        "can_contribute": open_to_pay and user.is_authenticated and not is_owner,
        "offer_login": open_to_pay and not user.is_authenticated,
        # Back from Stripe's Checkout: the payment counts once its webhook has arrived.
        "just_paid": context["request"].GET.get("contributed") == str(goal.id),
        "csrf_token": context.get("csrf_token"),
        "request": context["request"],
    }

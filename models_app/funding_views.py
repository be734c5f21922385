"""Crowdfunding goals' pages (docs/billing.md#crowdfunding-goals): the creator's goal form and cancel
button, and the supporters' contribute button. Thin: funding.py decides."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing import stripe_api
from billing.views import off_to_stripe

from . import funding, selectors
from .forms import GoalForm, GoalTextForm
from .models import FundingGoal, PublishStatus


def _own_model(request, pk: int):
    """A model the caller owns: 404 when they may not see it, 403 when it is someone else's."""
    model = get_object_or_404(selectors.visible_models(request.user), pk=pk)
    if model.owner_id != request.user.id:
        raise PermissionDenied(_("Only the creator of this model can manage its goals."))
    return model


@login_required
def goal_form(request, pk: int):
    """Open a goal, or change the text of the open one (its target, deadline and version stay)."""
    model = _own_model(request, pk)
    goal = FundingGoal.objects.filter(model=model, status=FundingGoal.Status.OPEN).first()
    if goal is not None and goal.has_ended():
        goal = None  # ended: the next goal replaces it (funding.open_goal closes it)
    data = request.POST if request.method == "POST" else None
    if goal is not None:
        form = GoalTextForm(data, initial={"title": goal.title, "description": goal.description})
    else:
        form = GoalForm(data, currency=funding.goal_currency(), versions=funding.early_access_versions(model))
    if data is not None and form.is_valid():
        fields = form.cleaned_data
        try:
            if goal is not None:
                funding.update_goal(
                    user=request.user, goal=goal, title=fields["title"], description=fields["description"]
                )
            else:
                funding.open_goal(
                    user=request.user,
                    model=model,
                    title=fields["title"],
                    description=fields["description"],
                    target=fields["target"],
                    deadline=timezone.now() + timedelta(days=fields["days"]),
                    unlocks_version=fields["unlocks_version"],
                )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The goal is saved.") if goal else _("The goal is open."))
            return redirect(model)
    return render(request, "models_app/goal_form.html", {"form": form, "model": model, "goal": goal})


@require_POST
@login_required
def cancel_goal(request, pk: int, goal_id: int):
    model = _own_model(request, pk)
    goal = get_object_or_404(FundingGoal, pk=goal_id, model=model)
    try:
        funding.cancel_goal(user=request.user, goal=goal)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _(
                "The goal is canceled. Contributions already made stay in the ledger as they are; "
                "refund them from Stripe if you want to give them back."
            ),
        )
    return redirect(model)


@require_POST
@login_required
def contribute(request, pk: int, goal_id: int):
    """Off to a one-time Stripe Checkout (303); the webhook records the payment. 404 without billing keys
    or for a goal on a model the viewer may not see; a refusal (ended, bad amount) is a message."""
    if not stripe_api.is_configured():
        raise Http404("billing is not configured")
    goal = get_object_or_404(
        FundingGoal.objects.select_related("model"),
        pk=goal_id,
        model_id=pk,
        model__status=PublishStatus.PUBLISHED,
    )
    page = request.build_absolute_uri(goal.model.get_absolute_url())
    return off_to_stripe(
        request,
        lambda: funding.start_contribution(
            user=request.user,
            goal=goal,
            amount_text=request.POST.get("amount", ""),
            success_url=f"{page}?contributed={goal.id}#goal",
            cancel_url=f"{page}#goal",
        ),
        goal.model,
    )

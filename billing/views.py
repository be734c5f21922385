"""The Stripe webhook and the pricing page (docs/billing.md)."""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from . import selectors, services, stripe_api
from .models import Customer, Plan

log = logging.getLogger(__name__)


@csrf_exempt  # Stripe signs the body instead; the signature is checked before anything is read
@require_POST
def webhook(request):
    """POST /billing/webhook/: a bad or missing signature is a 400 and nothing is stored; a verified
    event is stored once and applied (a replay answers 200 and changes nothing)."""
    try:
        event = stripe_api.verify_event(request.body, request.headers.get("Stripe-Signature"))
    except stripe_api.BadSignature as error:
        log.warning("billing: refused a webhook: %s", error)
        return JsonResponse({"detail": "Bad signature."}, status=400)
    if not all(key in event for key in ("id", "type", "created", "data")):
        return JsonResponse({"detail": "Not a Stripe event."}, status=400)
    try:
        services.record_event(event)
    except (ValidationError, KeyError, TypeError, ValueError) as error:
        log.warning("billing: could not apply %s: %s", event.get("id"), error)
        return JsonResponse({"detail": "Malformed event."}, status=400)
    return HttpResponse(status=200)


@require_GET
def pricing(request):
    """/pricing/: the active plans when billing is configured; otherwise a page saying it is not."""
    configured = stripe_api.is_configured()
    plans = Plan.objects.filter(active=True) if configured else Plan.objects.none()
    perks = selectors.entitlements(request.user)
    context = {
        "configured": configured,
        "plans": plans,
        "perks": perks,
        "can_manage": configured
        and request.user.is_authenticated
        and Customer.objects.filter(user=request.user).exists(),
        "returned": request.GET.get("checkout") in ("success", "canceled") and request.GET["checkout"],
    }
    return render(request, "billing/pricing.html", context)


def _configured_or_404():
    if not stripe_api.is_configured():
        raise Http404("billing is not configured")


@require_POST
@login_required
def checkout(request, plan_id: int):
    """POST /billing/checkout/<plan>/: off to Stripe Checkout (303). Nothing is written here; the webhook
    records the subscription when Stripe confirms it."""
    _configured_or_404()
    plan = get_object_or_404(Plan, pk=plan_id, active=True)
    pricing_url = request.build_absolute_uri(reverse("billing:pricing"))
    try:
        url = services.start_checkout(
            user=request.user,
            plan=plan,
            success_url=f"{pricing_url}?checkout=success",
            cancel_url=f"{pricing_url}?checkout=canceled",
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("billing:pricing")
    except stripe_api.StripeUnavailable:
        messages.error(request, _("Stripe could not start the payment; please try again in a moment."))
        return redirect("billing:pricing")
    return HttpResponseRedirect(url, status=303)


@require_POST
@login_required
def portal(request):
    """POST /billing/portal/: off to Stripe's customer portal (change plan, cancel, invoices)."""
    _configured_or_404()
    try:
        url = services.open_portal(
            user=request.user, return_url=request.build_absolute_uri(reverse("billing:pricing"))
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("billing:pricing")
    except stripe_api.StripeUnavailable:
        messages.error(request, _("Stripe could not open the portal; please try again in a moment."))
        return redirect("billing:pricing")
    return HttpResponseRedirect(url, status=303)

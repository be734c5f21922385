"""The Stripe webhook, the pricing page, tips and the earnings page (docs/billing.md)."""

import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
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


def off_to_stripe(request, start, back, *, unavailable: str = ""):
    """Every "pay" and "manage" button: `start()` returns the Stripe URL, answered with a 303. A refusal
    (a ValidationError) or Stripe being unreachable is a message on `back` (a URL, a name or a model)
    instead; nothing is written either way. `unavailable`: the sentence for the second case."""
    try:
        url = start()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(back)
    except stripe_api.StripeUnavailable:
        messages.error(
            request, unavailable or _("Stripe could not start the payment; please try again in a moment.")
        )
        return redirect(back)
    return HttpResponseRedirect(url, status=303)


@require_POST
@login_required
def checkout(request, plan_id: int):
    """POST /billing/checkout/<plan>/: off to Stripe Checkout (303). Nothing is written here; the webhook
    records the subscription when Stripe confirms it."""
    _configured_or_404()
    plan = get_object_or_404(Plan, pk=plan_id, active=True)
    pricing_url = request.build_absolute_uri(reverse("billing:pricing"))
    return off_to_stripe(
        request,
        lambda: services.start_checkout(
            user=request.user,
            plan=plan,
            success_url=f"{pricing_url}?checkout=success",
            cancel_url=f"{pricing_url}?checkout=canceled",
        ),
        "billing:pricing",
    )


@require_POST
@login_required
def portal(request):
    """POST /billing/portal/: off to Stripe's customer portal (change plan, cancel, invoices)."""
    _configured_or_404()
    return off_to_stripe(
        request,
        lambda: services.open_portal(
            user=request.user, return_url=request.build_absolute_uri(reverse("billing:pricing"))
        ),
        "billing:pricing",
        unavailable=_("Stripe could not open the portal; please try again in a moment."),
    )


def _back(request) -> str:
    """The page the tip form was on (the creator's profile, which billing does not know: the form says
    where it is), as a path on this site; the home page otherwise."""
    back = request.POST.get("next", "")
    if back.startswith("/") and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return urlsplit(back).path
    return "/"


@require_POST
@login_required
def tip(request, username: str):
    """POST /billing/tip/<username>/: off to a one-time Stripe Checkout (303); the Tip comes with the
    webhook. 404 without billing keys; a refusal (yourself, a bad amount or message) is a message on the
    page the form was on. A preset button sends `preset`, the custom field `amount`."""
    _configured_or_404()
    creator = get_user_model().objects.filter(username=username).first()
    back = _back(request)
    page = request.build_absolute_uri(back)
    return off_to_stripe(
        request,
        lambda: services.start_tip(
            user=request.user,
            creator=creator,
            amount_text=request.POST.get("preset") or request.POST.get("amount", ""),
            currency=settings.BILLING_CURRENCY,
            message=request.POST.get("message", ""),
            success_url=f"{page}?tipped=1",
            cancel_url=page,
        ),
        back,
    )


EARNINGS_PER_PAGE = 50


@require_GET
@login_required
def earnings(request):
    """/billing/earnings/: what the signed-in user is owed (all time and this month, per currency) and
    the ledger rows behind it, newest first. Works with or without keys: it only reads the ledger."""
    rows = selectors.earnings_rows(request.user.id)
    return render(
        request,
        "billing/earnings.html",
        {
            "total": sorted(selectors.earnings(request.user.id).items()),
            "this_month": sorted(selectors.earnings(request.user.id, since=selectors.month_start()).items()),
            "page_obj": Paginator(rows, EARNINGS_PER_PAGE).get_page(request.GET.get("page")),
        },
    )

"""The Stripe webhook and the pricing page (docs/billing.md)."""

import json
import logging

from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from . import services, stripe_api
from .models import Plan

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
        services.record_event(json.loads(json.dumps(event)))
    except (ValidationError, KeyError, TypeError, ValueError) as error:
        log.warning("billing: could not apply %s: %s", event.get("id"), error)
        return JsonResponse({"detail": "Malformed event."}, status=400)
    return HttpResponse(status=200)


@require_GET
def pricing(request):
    """/pricing/: the active plans when billing is configured; otherwise a page saying it is not."""
    configured = stripe_api.is_configured()
    plans = Plan.objects.filter(active=True) if configured else Plan.objects.none()
    return render(request, "billing/pricing.html", {"configured": configured, "plans": plans})

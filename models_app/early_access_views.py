"""POST /models/<pk>/versions/<version_id>/unlock: buy early access (docs/billing.md#paid-early-access)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing import stripe_api

from . import early_access
from .models import ModelVersion, PublishStatus


@require_POST
@login_required
def unlock(request, pk: int, version_id: int):
    """Off to a one-time Stripe Checkout (303); the grant comes with the webhook. 404 without billing
    keys or for a version the viewer may not see; a refusal (not for sale, already open) is a message."""
    if not stripe_api.is_configured():
        raise Http404("billing is not configured")
    version = get_object_or_404(
        ModelVersion.objects.select_related("model"),
        pk=version_id,
        model_id=pk,
        status=PublishStatus.PUBLISHED,
        model__status=PublishStatus.PUBLISHED,
    )
    page = request.build_absolute_uri(version.model.get_absolute_url())
    try:
        url = early_access.start_unlock(
            user=request.user,
            version=version,
            success_url=f"{page}?unlocked={version.id}",
            cancel_url=page,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(version.model)
    except stripe_api.StripeUnavailable:
        messages.error(request, _("Stripe could not start the payment; please try again in a moment."))
        return redirect(version.model)
    return HttpResponseRedirect(url, status=303)

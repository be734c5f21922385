"""POST /models/<pk>/versions/<version_id>/unlock: buy early access (docs/billing.md#paid-early-access)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST

from billing import stripe_api
from billing.views import off_to_stripe

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
    return off_to_stripe(
        request,
        lambda: early_access.start_unlock(
            user=request.user,
            version=version,
            success_url=f"{page}?unlocked={version.id}",
            cancel_url=page,
        ),
        version.model,
    )

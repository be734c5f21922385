"""{% early_access_panel version %}: the countdown and the unlock options on the model page
(docs/billing.md#paid-early-access)."""

from django import template
from django.utils import timezone

from .. import early_access
from ..downloads import early_access_of
from ..page_batch import per_version

register = template.Library()


@register.inclusion_tag("models_app/_early_access.html", takes_context=True)
def early_access_panel(context, version):
    user = context["request"].user
    if not version.in_early_access():
        return {"show": False}
    return {
        "show": True,
        "version": version,
        "now": timezone.now(),
        "offers": early_access.offers(version),
        # The grants of every version of the page in one query, on the first (models_app/page_batch.py).
        "has_access": per_version(
            context, version, "early_access", lambda versions: early_access_of(user, versions)
        ),
        "signed_in": user.is_authenticated,
        "csrf_token": context.get("csrf_token"),
    }

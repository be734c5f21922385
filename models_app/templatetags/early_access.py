"""{% early_access_panel version %}: the countdown and the unlock options on the model page
(docs/billing.md#paid-early-access)."""

from django import template
from django.utils import timezone

from .. import early_access
from ..downloads import has_early_access

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
        "has_access": has_early_access(user, version),
        "signed_in": user.is_authenticated,
        "csrf_token": context.get("csrf_token"),
    }

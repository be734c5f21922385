"""{% tips_panel person %}: the tip form and the recent tips on a person's profile (docs/billing.md#tips).
community only includes it; what it offers is decided here, in billing."""

from django import template
from django.conf import settings

from .. import stripe_api
from ..money import format_money, from_major
from ..selectors import recent_tips

register = template.Library()

# The preset buttons, in major units of BILLING_CURRENCY.
PRESETS = ("3", "5", "10")


@register.inclusion_tag("billing/_tips.html", takes_context=True)
def tips_panel(context, person):
    request = context["request"]
    viewer = request.user
    configured = stripe_api.is_configured()
    is_self = viewer.is_authenticated and viewer.pk == person.pk
    if not configured or is_self:
        offer = ""
    else:
        offer = "form" if viewer.is_authenticated else "login"
    currency = settings.BILLING_CURRENCY
    return {
        "person": person,
        "offer": offer,
        "is_self": is_self,
        "configured": configured,
        "tipped": offer == "form" and request.GET.get("tipped") == "1",
        "tips": recent_tips(person.pk),
        "presets": [(value, format_money(from_major(int(value), currency), currency)) for value in PRESETS],
        "currency": currency.upper(),
        "next": request.path,
        "csrf_token": context.get("csrf_token"),
    }

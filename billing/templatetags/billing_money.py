from django import template

from ..money import format_money

register = template.Library()


@register.simple_tag
def money(amount, currency):
    """{% money plan.amount plan.currency %} → "5.00 USD" (docs/billing.md#money)."""
    return format_money(int(amount), str(currency))

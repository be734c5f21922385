from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from ..selectors import entitlements

register = template.Library()


@register.simple_tag
def member_badge(person):
    """{% member_badge user %}: a "Member" badge naming the tier, or nothing (docs/billing.md#entitlements).
    One query per call: for lists (comments), use selectors.member_ids() once instead."""
    perks = entitlements(person)
    if not perks.is_member:
        return ""
    return format_html(
        '<span class="badge ok" data-testid="member-badge" title="{}">{}</span>',
        _("Member: %(tier)s") % {"tier": perks.tier},
        _("Member"),
    )

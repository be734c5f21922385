"""{% notification_bell %}: the header's bell with the unread count (docs/notifications.md#the-bell).
One query for a logged-in visitor, none for anyone else."""

from django import template

from .. import notifications

register = template.Library()


@register.inclusion_tag("community/notifications/_bell.html", takes_context=True)
def notification_bell(context):
    user = context["request"].user
    if not user.is_authenticated:
        return {"show": False}
    count = notifications.unread_count(user, cap=notifications.BELL_CAP)
    return {
        "show": True,
        "count": count,
        "over": count > notifications.BELL_CAP,
        "cap": notifications.BELL_CAP,
    }

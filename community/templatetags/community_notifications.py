"""{% notification_bell %}: the header's bell with the unread count (docs/notifications.md#the-bell).
One query for a logged-in visitor (none on a kept model page, whose own-state query reads the count),
none for anyone else; the bell's HTML is rendered once per count
(models_app/rendered_once.py)."""

from django import template

from models_app.rendered_once import RenderedOnce

from .. import notifications

register = template.Library()

_bell = RenderedOnce("community/notifications/_bell.html")


@register.simple_tag(takes_context=True)
def notification_bell(context):
    user = context["request"].user
    if not user.is_authenticated:
        return ""
    # A kept model page's header has the count already (notifications.viewer_unread).
    count = context.get("viewer_unread")
    if count is None:
        count = notifications.unread_count(user, cap=notifications.BELL_CAP)
    cap = notifications.BELL_CAP
    return _bell.render((count, cap), {"count": count, "over": count > cap, "cap": cap})

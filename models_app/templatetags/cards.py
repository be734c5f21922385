"""{% model_card card %}: a model card, rendered once per distinct content.

Lists show the same cards again and again (the home page, the first page of a sort, popular searches),
and the template engine spends about 60 µs on each. The card's HTML depends only on the card's own
fields (the template sees no request or user), so it is remembered keyed by exactly those fields:
any change to a count or a name gives a new key, and nothing stale is ever shown.
"""

from django import template
from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from models_app.selectors import ModelCard

register = template.Library()

MAX_REMEMBERED = 4096
_remembered: dict[tuple, str] = {}


def _key(card: ModelCard) -> tuple:
    return (
        card.id, card.name, card.slug, card.type, card.nsfw_level, card.blurred, card.status, card.creator,
        card.download_count, card.thumbs_up_count, card.like_count, card.comment_count,
        card.preview_image_id, tuple(card.base_models), get_language(),
    )  # fmt: skip


@register.simple_tag
def model_card(card: ModelCard) -> SafeString:
    key = _key(card)
    html = _remembered.get(key)
    if html is None:
        html = get_template("models_app/_model_card.html").render({"model": card})
        if len(_remembered) >= MAX_REMEMBERED:
            _remembered.clear()  # a simple bound; the cards in view come back at once
        _remembered[key] = html
    return mark_safe(html)  # noqa: S308 (rendered by the autoescaping template above)

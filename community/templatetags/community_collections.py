"""{% collection_buttons "model" model %}: the heart ("Add to favourites", with the like count on
models) and the "Save to collection" picker, on model and image pages (docs/collections.md).
Templates are not imports, so models_app's and resources' templates may load this."""

from django import template

from .. import collections

register = template.Library()


@register.inclusion_tag("community/collections/_buttons.html", takes_context=True)
def collection_buttons(context, item_type: str, target):
    request = context["request"]
    user = request.user
    key = {"model": "model", "version": "version", "image": "image"}[item_type]
    favourite, mine = collections.picker(user, {key: target})
    return {
        "item_type": item_type,
        "item_id": target.id,
        "like_count": getattr(target, "like_count", None) if item_type == "model" else None,
        "favourite": favourite,
        "collections": [{"c": c, "holds": holds} for c, holds in mine],
        "next": request.get_full_path(),
        "user": user,
        "csrf_token": context.get("csrf_token"),
    }

"""{% collection_buttons "model" model %}: the heart ("Add to favourites", with the like count on
models) and the "Save to collection" picker, on model and image pages (docs/collections.md).
Templates are not imports, so models_app's and resources' templates may load this.

The HTML is rendered once per distinct content (models_app/rendered_once.py): keyed by everything it
shows, and remembered without the request's CSRF token, which is put in after."""

from django import template

from models_app.rendered_once import RenderedOnce

from .. import collections

register = template.Library()

_buttons = RenderedOnce("community/collections/_buttons.html")


@register.simple_tag(takes_context=True)
def collection_buttons(context, item_type: str, target):
    request = context["request"]
    user = request.user
    key = {"model": "model", "version": "version", "image": "image"}[item_type]
    collects = context.get("viewer_collects")  # a kept model page's (collections.viewer_collects)
    if collects is not None and not collects:
        favourite, mine = False, []
    else:
        favourite, mine = collections.picker(user, {key: target})
    like_count = getattr(target, "like_count", None) if item_type == "model" else None
    shown = tuple((c.id, c.name, holds) for c, holds in mine)
    next_path = request.get_full_path()
    signed_in = user.is_authenticated
    return _buttons.render(
        (item_type, target.id, like_count, favourite, shown, next_path, signed_in),
        {
            "item_type": item_type,
            "item_id": target.id,
            "like_count": like_count,
            "favourite": favourite,
            "collections": [{"id": id, "name": name, "holds": holds} for id, name, holds in shown],
            "next": next_path,
            "signed_in": signed_in,
        },
        csrf_token=context.get("csrf_token", ""),
    )

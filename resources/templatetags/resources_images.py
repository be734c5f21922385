"""Images on models_app's pages: a version's examples and the "Images made with this model" gallery.
A template tag, not an import, so models_app stays below resources (docs/images.md#model-page)."""

from django import template
from django.contrib.auth.models import AnonymousUser

from models_app import preferences

from .. import images

register = template.Library()


@register.inclusion_tag("resources/images/_gallery.html")
def example_gallery(version, model):
    """The creator's example images of `version`."""
    return {
        "images": list(images.example_images([version.id])),
        "nsfw": model.nsfw,
        "testid": "example-image",
    }


@register.inclusion_tag("resources/images/_made_with.html", takes_context=True)
def made_with_gallery(context, model):
    """Other people's images linked to the model's published versions, newest first (at most 24)."""
    request = context.get("request")
    user = getattr(request, "user", None) or AnonymousUser()
    found = images.images_made_with(user, model=model)
    if request is None or not preferences.show_mature(request):
        found = found.exclude(nsfw=True)  # as lists hide mature models (models_app.preferences)
    shown = list(found.select_related("owner")[:24])
    first_version = next(iter(context.get("versions") or []), None)
    return {"images": shown, "model": model, "version": first_version, "user": user}

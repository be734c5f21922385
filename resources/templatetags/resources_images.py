"""Images on models_app's pages: a version's examples and the "Images made with this model" gallery.
A template tag, not an import, so models_app stays below resources (docs/images.md#model-page).

Both follow the viewer's content levels (models_app.preferences): images above them are left out, or
shown blurred with a reveal control when the viewer chose blurring; the model's creator and moderators
see every image."""

from django import template
from django.contrib.auth.models import AnonymousUser

from models_app import preferences, selectors
from models_app.page_batch import per_version

from .. import images

register = template.Library()


def _for_viewer(context, found, model) -> list:
    """The images this page's viewer sees, each marked `blurred` or not."""
    request = context.get("request")
    user = getattr(request, "user", None) or AnonymousUser()
    if request is not None and selectors.can_manage(user, model):
        shown = list(found)
        for image in shown:
            image.blurred = False
        return shown
    browsing = preferences.browsing(request) if request is not None else preferences.Browsing(1)
    revealed = context.get("revealed_level") or 0  # "Show it" on the warning: up to the model's level
    shown = []
    for image in found:
        image.blurred = browsing.blurs(image.nsfw_level) and image.nsfw_level > revealed
        if browsing.shows(image.nsfw_level) or image.blurred or image.nsfw_level <= revealed:
            shown.append(image)
    return shown


@register.inclusion_tag("resources/images/_gallery.html", takes_context=True)
def example_gallery(context, version, model):
    """The creator's example images of `version`."""
    return {
        # Every version's examples in one query, on the first version of the page.
        "images": _for_viewer(
            context, per_version(context, version, "examples", images.examples_by_version), model
        ),
        "testid": "example-image",
    }


@register.inclusion_tag("resources/images/_made_with.html", takes_context=True)
def made_with_gallery(context, model):
    """Other people's images linked to the model's published versions, newest first (at most 24)."""
    request = context.get("request")
    user = getattr(request, "user", None) or AnonymousUser()
    found = images.images_made_with(user, model=model)
    shown = _for_viewer(context, found.select_related("owner")[:48], model)[:24]
    first_version = next(iter(context.get("versions") or []), None)
    return {"images": shown, "model": model, "version": first_version, "user": user}

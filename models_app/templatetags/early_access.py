"""{% early_access_panel version %}: the countdown and the unlock options on the model page
(docs/billing.md#paid-early-access)."""

from django import template
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from .. import early_access, page_cache
from ..downloads import early_access_of
from ..models import ModelVersion
from ..page_batch import per_version

register = template.Library()

# A version's panel is a part of the model page kept for signed-in viewers (models_app/page_cache.py,
# registered in apps.py): drawn for each of them, since their grants and memberships decide what it
# offers, and its countdown moves.
PANEL_PART = "models_app.early_access_panel"


@register.simple_tag(takes_context=True)
def early_access_panel(context, version):
    request = context["request"]
    if not version.in_early_access():
        return ""
    # The grants of every version of the page in one query, on the first (models_app/page_batch.py).
    has_access = per_version(
        context, version, "early_access", lambda versions: early_access_of(request.user, versions)
    )
    panel = _panel(request.user, version, has_access, context.get("csrf_token"))
    page_cache.note_part(request, PANEL_PART, version.id, panel)
    return panel


def _panel(user, version, has_access: bool, csrf_token) -> str:
    context = {
        "show": True,
        "version": version,
        "now": timezone.now(),
        "offers": early_access.offers(version),
        "has_access": has_access,
        "signed_in": user.is_authenticated,
        "csrf_token": csrf_token,
    }
    return mark_safe(render_to_string("models_app/_early_access.html", context))  # noqa: S308 - a rendered template


def draw_panels(request, model, version_ids: list[int], csrf_token: str) -> dict[int, str]:
    """The panels of these versions for request.user on the kept model page (PANEL_PART), all of
    them: their versions in one query, then what opens them to this viewer (early_access_of)."""
    versions = list(ModelVersion.objects.filter(model_id=model.id, id__in=version_ids))
    for version in versions:
        version.model = model  # early_access_of asks whether the viewer manages it
    has_access = early_access_of(request.user, versions)
    # One whose early access ended since the page was kept shows nothing, as on a page built now.
    return {
        version.id: _panel(request.user, version, has_access[version.id], csrf_token)
        if version.in_early_access()
        else ""
        for version in versions
    }

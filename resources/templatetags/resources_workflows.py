"""{% workflow_panel version %} on the model page of a Workflows model (templates are not imports, so
models_app's template may load this without models_app importing resources)."""

from django import template
from django.core.cache import cache
from django.utils.safestring import mark_safe

from ..workflow_svg import RENDER_VERSION, render_svg
from ..workflows import resolve_models, workflow_of

register = template.Library()


@register.inclusion_tag("resources/workflows/_panel.html")
def workflow_panel(version):
    """The graph and the lists of a version's workflow file (version.visible_files, as the page shows)."""
    model_file, workflow = workflow_of(getattr(version, "visible_files", None) or [])
    if workflow is None:
        return {"workflow": None}
    # The drawing depends only on the stored bytes (the layout is parsed from them) and this code:
    # a 10,000-node graph takes about half a second to draw here, so it is drawn once per file content.
    key = f"workflow-svg:{RENDER_VERSION}:{model_file.blob.sha256 if model_file.blob_id else model_file.id}"
    svg = cache.get(key)
    if svg is None:
        svg = str(render_svg(workflow["layout"]))
        cache.set(key, svg, 24 * 3600)
    summary = {**workflow["summary"], "models": resolve_models(workflow["summary"]["models"])}
    # mark_safe: the cached text is render_svg's output, in which every workflow string was escaped.
    return {"workflow": {"summary": summary, "svg": mark_safe(svg)}, "file": model_file}  # noqa: S308

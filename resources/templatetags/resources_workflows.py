"""{% workflow_panel version %} on the model page of a Workflows model (templates are not imports, so
models_app's template may load this without models_app importing resources)."""

from django import template

from ..workflow_svg import render_svg
from ..workflows import resolve_models, workflow_of

register = template.Library()


@register.inclusion_tag("resources/workflows/_panel.html")
def workflow_panel(version):
    """The graph and the lists of a version's workflow file (version.visible_files, as the page shows)."""
    model_file, workflow = workflow_of(getattr(version, "visible_files", None) or [])
    if workflow is None:
        return {"workflow": None}
    summary = {**workflow["summary"], "models": resolve_models(workflow["summary"]["models"])}
    return {"workflow": {"summary": summary, "svg": render_svg(workflow["layout"])}, "file": model_file}

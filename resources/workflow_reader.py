"""The upload pipeline's reader for ComfyUI workflows (registered in apps.ResourcesConfig.ready).

models_app.processing calls it for every stored upload; it answers only for workflow files: any file
of a Workflows model (or of file type Workflow) must be a workflow (.json, or a PNG/WebP carrying
one), and a `.json` elsewhere that happens to be a workflow gets its summary too.
"""

from models_app.models import FileType, ModelType
from models_app.processing import FileRejected

from .workflows import WorkflowRejected, parse_workflow, read_workflow_text

_WORKFLOW_CARRIERS = {".json", ".png", ".webp"}


def read_workflow(*, model_file, f, size: int, kind: str) -> dict:
    """{"workflow": {"summary", "layout"}} for a workflow file, {} for anything else; raises
    FileRejected with the reason when a file that must be a workflow is not one."""
    extension = model_file.extension
    if extension not in _WORKFLOW_CARRIERS or kind != "unknown":
        return {}
    required = model_file.type == FileType.WORKFLOW or (
        model_file.version.model.type == ModelType.WORKFLOWS and model_file.type != FileType.IMAGE
    )
    if not required and extension != ".json" and model_file.type != FileType.IMAGE:
        return {}
    try:
        text = read_workflow_text(f)
        if text is None:
            if required:
                raise WorkflowRejected(
                    "This image carries no ComfyUI workflow (no `workflow` or `prompt` text)."
                )
            return {}
        parsed = parse_workflow(text)
    except WorkflowRejected as exc:
        if required:
            raise FileRejected(str(exc)) from None
        return {}
    return {"workflow": {"summary": parsed["summary"], "layout": parsed["layout"]}}


def detect_workflow(*, path) -> str | None:
    """processing.TYPE_DETECTORS: "Workflows" for a local file that is a ComfyUI workflow."""
    if path.suffix.lower() not in _WORKFLOW_CARRIERS:
        return None
    try:
        with path.open("rb") as f:
            text = read_workflow_text(f)
        if text is None:
            return None
        parse_workflow(text)
    except (WorkflowRejected, OSError):
        return None
    return ModelType.WORKFLOWS

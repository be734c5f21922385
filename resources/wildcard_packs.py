"""Wildcard packs on the hub: the upload reader that stores a file's lists, and which lists a viewer may use.

The reader runs in the worker through models_app.processing.CONTENT_READERS (registered in
ResourcesConfig.ready): a bad pack ends `rejected` with the sentence from resources.wildcards.
"""

from django.http import Http404

from models_app import selectors
from models_app.models import FileStatus, FileType, ModelType, ModelVersion, PublishStatus
from models_app.processing import FileRejected

from . import wildcards

PACK_EXTENSIONS = (".txt", ".json", ".yaml", ".yml", ".zip")
MAX_PACKS = 10  # versions combined in one expansion


def read_wildcard_file(*, model_file, f, size, kind) -> dict:
    """The content reader: {"wildcards": {...}} for a Wildcards model's pack file, else {}."""
    if model_file.version.model.type != ModelType.WILDCARDS or model_file.type == FileType.IMAGE:
        return {}
    if model_file.extension not in PACK_EXTENSIONS:
        return {}
    cap = wildcards.MAX_ZIP_BYTES if kind == "zip" else wildcards.MAX_FILE_BYTES
    if size > cap:
        raise FileRejected(f"This wildcard file is {size:,} bytes; the limit is {cap:,}.")
    try:
        lists = wildcards.read_pack(f.read(cap + 1), model_file.name)
    except wildcards.WildcardError as exc:
        raise FileRejected(str(exc)) from None
    return {
        "wildcards": {
            "lists": lists,
            "list_count": len(lists),
            "value_count": sum(len(v) for v in lists.values()),
        }
    }


def detect_wildcards(*, path) -> str | None:
    """processing.TYPE_DETECTORS: "Wildcards" for a local file that reads as a wildcard pack."""
    if path.suffix.lower() not in PACK_EXTENSIONS:
        return None
    try:
        if path.stat().st_size > wildcards.MAX_ZIP_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    return ModelType.WILDCARDS if wildcards.looks_like_wildcards(data, path.name) else None


def version_lists(version: ModelVersion) -> dict[str, list[str]]:
    """The lists of a version's ready files, merged (a version may hold several .txt files)."""
    files = version.files.filter(status=FileStatus.READY).order_by("id")
    return wildcards.merge([f.metadata["wildcards"]["lists"] for f in files if "wildcards" in f.metadata])


def visible_pack(user, version_id) -> ModelVersion:
    """A Wildcards version this viewer may see (the rules of the other version endpoints), else 404."""
    try:
        version_id = int(version_id)
    except (TypeError, ValueError):
        raise Http404 from None
    if not 0 < version_id < 2**31:
        raise Http404
    version = (
        ModelVersion.objects.select_related("model")
        .filter(id=version_id, model__in=selectors.visible_models(user))
        .first()
    )
    if version is None or not selectors.visible_versions(user, version.model).filter(id=version.id).exists():
        raise Http404
    if version.model.type != ModelType.WILDCARDS:
        raise Http404
    return version


def published_packs(*, query: str = "", limit: int = 20) -> list[dict]:
    """Published wildcard packs by name, for the try-it box's "add packs" picker."""
    versions = (
        ModelVersion.objects.select_related("model")
        .filter(
            model__type=ModelType.WILDCARDS,
            model__status=PublishStatus.PUBLISHED,
            status=PublishStatus.PUBLISHED,
        )
        .order_by("model__name", "id")
    )
    if query:
        versions = versions.filter(model__name__icontains=query[:100])
    return [
        {"version_id": v.id, "model_id": v.model_id, "model_name": v.model.name, "version_name": v.name}
        for v in versions[:limit]
    ]

"""Link the resources an image names to hub versions (docs/image-metadata.md#linking-images-to-versions).

`resolve(resources)` takes genmeta's list, [{kind, name, hash, weight}], and returns it with
`resolved: {model_id, version_id, sha256} | None` and `matched_by` ("AutoV1", "AutoV2", "AutoV3",
"SHA256", "BLAKE3", "modelVersionId", "filename" or None) on each entry. The rules per hash length
and kind are those of the docs; the hash lookup rules (normalising, the empty-file AutoV1, what counts as a findable
version, oldest published first) are models_app.downloads' own. Embedded hashes are claims: they only
point at versions, they never change what a stored file is. One query for the whole list.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import F, Q

from models_app.downloads import EMPTY_AUTOV1, findable_versions, normalize_hash
from models_app.models import FileStatus, FileType, ModelFile, ModelVersion

MAX_RESOURCES = 100  # entries looked up per call; the rest come back unresolved
# ComfyUI loaders name files; only names with a model file's extension are looked up by name.
_MODEL_EXTENSIONS = (".safetensors", ".ckpt", ".pt", ".pth", ".bin", ".gguf", ".sft")


def _hash_keys(kind: str, value: str) -> list[str]:
    """Which stored hashes a claimed hash of this length is compared with, in order of preference."""
    n = len(value)
    if n == 8:
        return [] if value == EMPTY_AUTOV1 else ["AutoV1"]
    if n == 10:
        return ["AutoV2"]
    if n == 12:  # LoRAs: AutoV3 first (A1111); embeddings: SHA256 first (TI hashes are file hashes)
        return ["SHA256", "AutoV3"] if kind == "embedding" else ["AutoV3", "SHA256"]
    if n == 64:
        return ["SHA256", "AutoV3", "BLAKE3"]
    return []


def _filter(key: str, value: str) -> Q:
    return {
        "AutoV1": lambda: Q(blob__autov1=value),
        "AutoV2": lambda: Q(blob__sha256__startswith=value),
        "AutoV3": lambda: Q(blob__autov3=value) if len(value) == 64 else Q(blob__autov3__startswith=value),
        "SHA256": lambda: Q(blob__sha256=value) if len(value) == 64 else Q(blob__sha256__startswith=value),
        "BLAKE3": lambda: Q(blob__blake3=value),
    }[key]()


def _matches(key: str, value: str, row: dict) -> bool:
    stored = {
        "AutoV1": row["blob__autov1"],
        "AutoV2": row["blob__sha256"],
        "AutoV3": row["blob__autov3"],
        "SHA256": row["blob__sha256"],
        "BLAKE3": row["blob__blake3"],
    }[key] or ""
    return stored == value if key in ("AutoV1", "BLAKE3") else stored.startswith(value)


def _filename(name) -> str | None:
    if not isinstance(name, str):
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return base if base.lower().endswith(_MODEL_EXTENSIONS) and len(base) <= 255 else None


def resolve(resources: list[dict], *, user=None) -> list[dict]:
    """Each resource with `resolved` and `matched_by` added (copies; the input is not changed).

    Only versions `user` may find are linked (models_app.downloads.findable_versions; None means an
    anonymous visitor: published versions of published models, never deleted ones), only through
    files that are ready and are not example images. Several matches: the oldest published version,
    then the lowest id. A resource without a hash is looked up by file name only when its name is a
    model file name (ComfyUI loaders); that match is weak and says so (`matched_by: "filename"`).
    """
    out = [{**r, "resolved": None, "matched_by": None} for r in resources]
    wanted: list[tuple[int, list[tuple[str, str]]]] = []
    by_name: dict[int, str] = {}
    by_version: dict[int, int] = {}
    condition = Q()
    for i, r in enumerate(out[:MAX_RESOURCES]):
        value = normalize_hash(r.get("hash"))
        keys = [(k, value) for k in _hash_keys(str(r.get("kind")), value)] if value else []
        if keys:
            wanted.append((i, keys))
            for key, v in keys:
                condition |= _filter(key, v)
        elif isinstance(version_id := r.get("civitai_version_id"), int) and 0 < version_id < 2**31:
            by_version[i] = version_id
            condition |= Q(version_id=version_id)
        elif not r.get("hash") and (filename := _filename(r.get("name"))):
            by_name[i] = filename
            condition |= Q(name__iexact=filename)
    if not (wanted or by_name or by_version):
        return out
    versions = findable_versions(user or AnonymousUser(), ModelVersion.objects.all())
    rows = list(
        ModelFile.objects.filter(condition, status=FileStatus.READY, blob__isnull=False, version__in=versions)
        .exclude(type=FileType.IMAGE)
        .order_by(F("version__published_at").asc(nulls_last=True), "version_id", "-is_primary", "id")
        .values(
            "name",
            "version_id",
            "version__model_id",
            "blob__sha256",
            "blob__autov1",
            "blob__autov3",
            "blob__blake3",
        )[: 20 * MAX_RESOURCES]
    )

    def link(i: int, row: dict, how: str) -> None:
        out[i]["resolved"] = {
            "model_id": row["version__model_id"],
            "version_id": row["version_id"],
            "sha256": row["blob__sha256"],
        }
        out[i]["matched_by"] = how

    for i, keys in wanted:
        for key, value in keys:
            row = next((row for row in rows if _matches(key, value, row)), None)
            if row is not None:
                link(i, row, key)
                break
    for i, version_id in by_version.items():  # its primary file when it has one
        row = next((row for row in rows if row["version_id"] == version_id), None)
        if row is not None:
            link(i, row, "modelVersionId")
    for i, filename in by_name.items():
        row = next((row for row in rows if row["name"].lower() == filename.lower()), None)
        if row is not None:
            link(i, row, "filename")
    return out

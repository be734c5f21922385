"""The catalog seen as Hugging Face Hub model repos (docs/hf-api.md). Plain functions; the views
in views.py parse requests and render what these return.

- A model is the repo `<owner username>/<model slug>`.
- Each version is a commit whose id is sha1(f"version:{id}"): 40 lowercase hex that never changes,
  which the client's cache and its offline shortcut rely on.
- `main` is the latest published version the caller may see. A version's name is also a tag when
  it is a safe ref name (`v1.0`); anything with a `/` (`refs/pr/1`) is an unknown revision.
- A revision's files are its downloadable files (downloads.DOWNLOADABLE), example images under
  `images/`, and a generated README.md model card unless the creator uploaded one.
"""

import hashlib
import json
import re
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.text import slugify

from models_app import downloads, selectors
from models_app.dates import iso_z
from models_app.models import (
    AIModel,
    ContentBlob,
    FileFormat,
    FileType,
    ModelFile,
    ModelType,
    ModelVersion,
    PublishStatus,
    UsageControl,
)
from models_app.text import clean_filename
from resources.models import Image, ImageStatus

# First path segments that belong to the hub's own pages, APIs and files (hub/urls.py), plus the
# Hub's own prefixes. `/<namespace>/<name>/resolve/...` can't reach the HF view for these, so a
# user with such a name has no repos rather than repos whose files can't be downloaded.
RESERVED_NAMESPACES = frozenset(
    {
        "accounts", "admin", "api", "collections", "datasets", "docs", "files", "healthz", "images", "login",
        "logout", "media", "models", "new", "organizations", "posts", "preferences", "search", "settings",
        "spaces", "static", "tag", "tags", "user", "users",
    }
)  # fmt: skip

COMMIT = re.compile(r"[0-9a-f]{40}")
# Ref names git and the Hub accept without quoting problems; version names outside this are reachable
# by their commit id only.
TAG_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
NOT_TAGS = {"main", "refs", "head"}

README = "README.md"
IMAGES_DIR = "images"

# Model type -> the tag and pipeline the Hub uses for such repos.
TYPE_TAGS = {
    ModelType.CHECKPOINT: "checkpoint",
    ModelType.TEXTUAL_INVERSION: "textual-inversion",
    ModelType.HYPERNETWORK: "hypernetwork",
    ModelType.AESTHETIC_GRADIENT: "aesthetic-gradient",
    ModelType.LORA: "lora",
    ModelType.LOCON: "lycoris",
    ModelType.DORA: "dora",
    ModelType.CONTROLNET: "controlnet",
    ModelType.POSES: "poses",
    ModelType.UPSCALER: "upscaler",
    ModelType.MOTION_MODULE: "motion-module",
    ModelType.VAE: "vae",
    ModelType.WILDCARDS: "wildcards",
    ModelType.WORKFLOWS: "workflows",
    ModelType.DETECTION: "detection",
    ModelType.OTHER: "other",
}
PIPELINES = {
    **dict.fromkeys(
        [
            ModelType.CHECKPOINT,
            ModelType.TEXTUAL_INVERSION,
            ModelType.HYPERNETWORK,
            ModelType.AESTHETIC_GRADIENT,
            ModelType.LORA,
            ModelType.LOCON,
            ModelType.DORA,
            ModelType.CONTROLNET,
        ],
        "text-to-image",
    ),  # fmt: skip
    ModelType.MOTION_MODULE: "text-to-video",
    ModelType.UPSCALER: "image-to-image",
}
FORMAT_TAGS = {
    FileFormat.SAFETENSOR: "safetensors",
    FileFormat.GGUF: "gguf",
    FileFormat.DIFFUSERS: "diffusers",
}
NSFW_TAG = "not-for-all-audiences"
# get_type_display() rebuilds its choices dict on every call: a list of 100 cards calls it 100 times.
TYPE_LABELS = dict(ModelType.choices)

DISABLED_MESSAGE = "Access to this resource is disabled."  # the exact text the client recognises


class HubError(Exception):
    """An answer the HF client turns into the right exception (docs/hf-api.md#errors): the status, the
    X-Error-Code and X-Error-Message headers, and X-Repo-Commit where a revision was resolved."""

    def __init__(self, status: int, message: str, *, code: str | None = None, commit: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.commit = commit


def _label(text: str) -> str:
    """Text from the URL made safe for a header and a message (no newlines, ASCII only)."""
    return quote(text[:300], safe="/@+:,=")


def repo_not_found(repo: str) -> HubError:
    return HubError(
        404,
        f"Repository Not Found for {_label(repo)}: no such model, or you may not see it.",
        code="RepoNotFound",
    )


def revision_not_found(revision: str) -> HubError:
    return HubError(404, f"Invalid rev id: {_label(revision)}", code="RevisionNotFound")


def entry_not_found(path: str, commit: str) -> HubError:
    return HubError(404, f"Entry not found: {_label(path)}", code="EntryNotFound", commit=commit)


# --- Repos and revisions.


def repo_id(model: AIModel) -> str:
    return f"{model.owner.username}/{model.slug}"


def find_repo(user, namespace: str, name: str) -> AIModel:
    """The model behind `namespace/name` that `user` may see; raises RepoNotFound otherwise (drafts
    of others included, so nobody learns they exist). Usernames and slugs match case-insensitively,
    as on the Hub, an exact match first."""
    repo = f"{namespace}/{name}" if namespace else name
    if not namespace or namespace.lower() in RESERVED_NAMESPACES or len(namespace) > 150 or len(name) > 200:
        raise repo_not_found(repo)
    candidates = selectors.visible_models(user).filter(owner__username__iexact=namespace, slug__iexact=name)
    models = sorted(candidates, key=lambda m: (m.owner.username != namespace or m.slug != name, m.id))
    if not models:  # renamed: the old repo id keeps working (docs/editing.md)
        models = list(
            selectors.visible_models(user)
            .filter(owner__username__iexact=namespace, former_slugs__slug__iexact=name)
            .order_by("-former_slugs__created_at", "-id")[:1]
        )
    if not models:
        raise repo_not_found(repo)
    return models[0]


def commit_id(version: ModelVersion | int) -> str:
    """The version's commit id: stable, and 40 lowercase hex as the client's cache requires."""
    version_id = version if isinstance(version, int) else version.id
    return hashlib.sha1(f"version:{version_id}".encode()).hexdigest()


def tag_name(version: ModelVersion) -> str | None:
    """The version's name as a tag, when it is a safe ref name."""
    name = version.name
    if not TAG_NAME.fullmatch(name) or name.lower() in NOT_TAGS or COMMIT.fullmatch(name):
        return None
    if ".." in name or name.endswith(".lock"):
        return None
    return name


def _newest(versions: list[ModelVersion]) -> ModelVersion:
    return max(versions, key=lambda v: (v.published_at or v.created_at, v.id))


def main_version(versions: list[ModelVersion]) -> ModelVersion | None:
    """The latest published version; for a creator or moderator whose model has none published
    yet, their newest version (so they can try a draft with the client before publishing)."""
    published = [v for v in versions if v.status == PublishStatus.PUBLISHED]
    if published or not versions:
        return _newest(published) if published else None
    return _newest(versions)


def resolve_revision(user, model: AIModel, revision: str) -> ModelVersion:
    """The version a revision names: `main`, a commit id, or a tag. Raises RevisionNotFound."""
    if not revision or "/" in revision or len(revision) > 200:
        raise revision_not_found(revision)
    versions = list(selectors.visible_versions(user, model))
    if revision == "main":
        found = main_version(versions)
    elif COMMIT.fullmatch(revision):
        found = next((v for v in versions if commit_id(v) == revision), None)
    else:
        found = next((v for v in versions if tag_name(v) == revision), None)
    if found is None:
        raise revision_not_found(revision)
    return found


def main_versions(model_ids: list[int]) -> dict[int, ModelVersion]:
    """The `main` version of each of these (published) models, in one query that reads only those
    (as _newest picks: the latest published, by publication or creation date, then id)."""
    published = ModelVersion.objects.filter(status=PublishStatus.PUBLISHED)
    newest = published.filter(model_id=OuterRef("model_id")).order_by(
        Coalesce("published_at", "created_at").desc(), "-id"
    )
    versions = published.filter(model_id__in=model_ids, id=Subquery(newest.values("id")[:1]))
    return {version.model_id: version for version in versions.select_related("base_model")}


# --- A revision's files.


def git_blob_oid(data: bytes) -> str:
    """What `git hash-object` prints for these bytes: the `oid` of a file kept in git itself."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The Git LFS pointer file a model file would have in a git repo (docs/hf-api.md#json)."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


@dataclass(frozen=True)
class RepoFile:
    """One file of a revision: a stored file (served like a Git LFS object, its SHA-256 known), or
    the generated model card, whose bytes are `content`."""

    path: str
    size: int
    oid: str  # the git blob id: of the LFS pointer for stored files, of the bytes for the card
    sha256: str | None = None  # lowercase
    model_file: ModelFile | None = None
    content: bytes | None = None
    blob: ContentBlob | None = None  # the bytes served: an example image's copy without GPS EXIF

    @property
    def pointer_size(self) -> int:
        return len(lfs_pointer(self.sha256, self.size))

    @property
    def etag(self) -> str:
        """`"<sha256>"` for stored files, the git blob id for the card, as the Hub sends them."""
        return f'"{self.sha256 or self.oid}"'

    @property
    def counts_as_download(self) -> bool:
        return self.model_file is not None and self.model_file.type != FileType.IMAGE


def served_images(model_files: list[ModelFile]) -> dict[int, ContentBlob]:
    """The served blob of each example image among the files (resources.Image, by its upload)."""
    ids = [f.id for f in model_files if f.type == FileType.IMAGE]
    if not ids:
        return {}
    # A moved image not yet stripped (resources 0003) is left out until the sweep stored its copy.
    images = Image.objects.filter(
        source_file_id__in=ids, status=ImageStatus.READY, blob__isnull=False, stripped=True
    )
    return {image.source_file_id: image.blob for image in images.select_related("blob")}


def _stored_files(
    model_files: list[ModelFile], served: dict[int, ContentBlob] | None = None
) -> list[RepoFile]:
    files, taken = [], set()
    if served is None:
        served = served_images(model_files)
    for model_file in sorted(model_files, key=lambda f: f.id):
        if model_file.type == FileType.IMAGE and model_file.id not in served:
            continue
        name = clean_filename(model_file.name)
        path = f"{IMAGES_DIR}/{name}" if model_file.type == FileType.IMAGE else name
        if path in taken:  # two uploads with one name: both stay reachable
            stem, dot, ext = path.rpartition(".")
            path = f"{stem}-{model_file.id}.{ext}" if dot else f"{path}-{model_file.id}"
        taken.add(path)
        blob = served.get(model_file.id) or model_file.blob
        sha = blob.sha256.lower()
        files.append(
            RepoFile(
                path=path,
                size=blob.size,
                oid=git_blob_oid(lfs_pointer(sha, blob.size)),
                sha256=sha,
                model_file=model_file,
                blob=blob,
            )
        )
    return files


def repo_files(
    version: ModelVersion,
    model_files: list[ModelFile] | None = None,
    served: dict[int, ContentBlob] | None = None,
) -> list[RepoFile]:
    """The files of the revision `version`, sorted by path. `model_files` are its downloadable files
    and `served` the blobs of its example images (served_images) when the caller already fetched them."""
    if model_files is None:
        model_files = downloads.downloadable_files(version)
    files = _stored_files(model_files, served)
    if not any(f.path == README for f in files):
        content = model_card(version, files).encode()
        files.append(RepoFile(path=README, size=len(content), oid=git_blob_oid(content), content=content))
    return sorted(files, key=lambda f: f.path)


def stored_files_by_version(versions: list[ModelVersion]) -> dict[int, list[ModelFile]]:
    """The downloadable files of several versions, in one query."""
    by_version: dict[int, list[ModelFile]] = {v.id: [] for v in versions}
    files = ModelFile.objects.filter(downloads.DOWNLOADABLE, version__in=versions).select_related("blob")
    for model_file in files:
        by_version[model_file.version_id].append(model_file)
    return by_version


def find_file(files: list[RepoFile], path: str, commit: str) -> RepoFile:
    """The file at `path`, looked up in the revision's own file table only (never on disk), so `..`
    and other junk is simply not found."""
    found = next((f for f in files if f.path == path), None)
    if found is None:
        raise entry_not_found(path, commit)
    return found


def directories(files: list[RepoFile]) -> set[str]:
    dirs = set()
    for f in files:
        parts = f.path.split("/")[:-1]
        dirs.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    return dirs


def tree(files: list[RepoFile], path: str, *, recursive: bool) -> list[tuple[str, RepoFile | None]] | None:
    """The entries under `path` ("" is the root) as (path, file), where file is None for a
    directory: direct children, or everything below with `recursive`. None when `path` is not a
    directory of the revision."""
    dirs = directories(files)
    if path and path not in dirs:
        return None
    prefix = f"{path}/" if path else ""

    def wanted(entry: str) -> bool:
        return entry.startswith(prefix) and (recursive or "/" not in entry[len(prefix) :])

    entries = [(d, None) for d in sorted(dirs) if wanted(d)] + [(f.path, f) for f in files if wanted(f.path)]
    return sorted(entries, key=lambda entry: entry[0])


def tree_oid(version: ModelVersion, path: str) -> str:
    """A stable 40-hex id for a directory of a revision."""
    return hashlib.sha1(f"tree:{version.id}:{path}".encode()).hexdigest()


# --- What the Hub says about a repo.


def repo_tags(model_type: str, tags: list[str], *, nsfw: bool, formats=()) -> list[str]:
    values = [TYPE_TAGS.get(model_type, "other")]
    values += [FORMAT_TAGS[f] for f in formats if f in FORMAT_TAGS]
    if model_type in PIPELINES:
        values.append(PIPELINES[model_type])
    values += list(tags)
    if nsfw:
        values.append(NSFW_TAG)
    return list(dict.fromkeys(values))


def version_tags(version: ModelVersion, files: list[RepoFile]) -> list[str]:
    model = version.model
    formats = sorted({f.model_file.format for f in files if f.model_file is not None})
    return repo_tags(model.type, list(model.tag_names), nsfw=model.nsfw, formats=formats)


def gated(version: ModelVersion) -> bool | str:
    """ "manual" while early access restricts downloads to people with a grant, "auto" when logging in
    is enough, else False (the Hub's values)."""
    if version.in_early_access():
        return "manual"
    if version.model.require_login:
        return "auto"
    return False


def disabled(version: ModelVersion) -> bool:
    return version.usage_control != UsageControl.DOWNLOAD or PublishStatus.ARCHIVED in (
        version.status,
        version.model.status,
    )


def card_data(version: ModelVersion, files: list[RepoFile]) -> dict:
    """The model card's metadata (its YAML header, and `cardData` in the API)."""
    model = version.model
    data: dict = {"tags": version_tags(version, files)}
    pipeline = PIPELINES.get(model.type)
    if pipeline:
        data["pipeline_tag"] = pipeline
    if model.license:
        data["license"] = "other"  # the Hub wants one of its licence ids; the name says which
        data["license_name"] = slugify(model.license) or "other"
    if version.trained_words:
        data["instance_prompt"] = ", ".join(version.trained_words)
    return data


def _yaml(data: dict) -> str:
    """A YAML mapping of strings and lists of strings; JSON strings are valid YAML scalars."""
    lines = []
    for key, value in data.items():
        if isinstance(value, list):
            lines.append(f"{key}:")
            lines += [f"- {json.dumps(item, ensure_ascii=False)}" for item in value]
        else:
            lines.append(f"{key}: {json.dumps(value, ensure_ascii=False)}")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def model_card(version: ModelVersion, files: list[RepoFile]) -> str:
    """The README.md of a revision: metadata header, description, the version's facts, the files
    with their SHA-256, and the licence. Built from the rows only, so it is the same on every request."""
    model = version.model
    lines = ["---", _yaml(card_data(version, files)), "---", "", f"# {model.name}", ""]
    if model.description.strip():
        lines += [model.description.strip(), ""]
    lines += [
        f"## Version {version.name}",
        "",
        f"- Type: {TYPE_LABELS.get(model.type, model.type)}",
        f"- Base model: {version.base_model.name}",
        f"- Creator: {model.owner.username}",
    ]
    if version.published_at:
        lines.append(f"- Published: {iso_z(version.published_at)}")
    if version.trained_words:
        lines.append("- Trigger words: " + ", ".join(f"`{w}`" for w in version.trained_words))
    if version.description.strip():
        lines += ["", version.description.strip()]
    stored = [f for f in files if f.model_file is not None]
    if stored:
        lines += ["", "## Files", "", "| File | Bytes | SHA-256 |", "|---|---|---|"]
        lines += [f"| {_cell(f.path)} | {f.size} | `{f.sha256}` |" for f in stored]
    permissions = [
        ("Use without crediting the creator", model.allow_no_credit),
        ("Share merges and derivatives", model.allow_derivatives),
        ("Share derivatives under a different license", model.allow_different_license),
        ("Sell generated images", model.allow_commercial_images),
        ("Run on paid generation services", model.allow_commercial_rent),
        ("Sell the model or merges of it", model.allow_commercial_sell),
    ]
    lines += ["", "## License", ""]
    if model.license:
        lines += [f"License: {model.license}", ""]
    lines += [f"- {what}: {'yes' if allowed else 'no'}" for what, allowed in permissions]
    lines += ["", f"Published on {settings.SITE_NAME}.", ""]
    return "\n".join(lines)


def check_file_access(user, version: ModelVersion, commit: str) -> None:
    """The download gates (downloads.check_download_allowed) as the HF client understands them:
    login required or early access → GatedRepo; archived or downloads disabled → disabled."""
    try:
        downloads.check_download_allowed(user, version)
    except downloads.DownloadRefused as refused:
        if refused.status == 404:
            raise repo_not_found(repo_id(version.model)) from None
        if refused.status == 410 or (
            refused.status == 401 and version.usage_control != UsageControl.DOWNLOAD
        ):
            raise HubError(403, DISABLED_MESSAGE, commit=commit) from None
        message = refused.body.get("message") or refused.body.get("error") or "Access denied"
        status = 401 if not user.is_authenticated else 403
        raise HubError(status, message, code="GatedRepo", commit=commit) from None

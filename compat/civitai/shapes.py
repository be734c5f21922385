"""CivitAI's API objects built from the hub's rows (docs/civitai-api.md#objects): plain functions, no queries.

The views in views.py load the rows with everything these functions read already prefetched
(selectors.api_models), so a page of models costs the same few queries whatever its size. Clients
of CivitAI's API are strict in different ways, so every key is always sent (null when unknown), dates
go through models_app.dates.iso_z, hashes are UPPERCASE, and URLs are absolute.
"""

import json
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.utils.text import slugify

from models_app import downloads
from models_app.dates import iso_z
from models_app.levels import IMAGE_LEVEL_NAMES, is_mature
from models_app.models import (
    AIModel,
    FileStatus,
    FileType,
    ModelFile,
    ModelVersion,
    PublishStatus,
    ScanStatus,
)
from models_app.selectors import can_manage
from models_app.text import clean_filename
from resources import images as resources_images
from resources.image_views import image_path
from resources.models import Image

# The model types one strict client accepts (docs/civitai-api.md#enums); anything else is sent as "Other".
EMITTED_MODEL_TYPES = (
    "Checkpoint", "TextualInversion", "Hypernetwork", "AestheticGradient", "LORA", "LoCon", "DoRA",
    "Controlnet", "Poses", "Upscaler", "MotionModule", "VAE", "Wildcards", "Workflows", "Other",
)  # fmt: skip
FILE_TYPES = (
    "Model", "Text Encoder", "Vision Encoder", "Pruned Model", "Negative", "Training Data", "VAE",
    "Config", "Archive", "UNet", "Diffusion Model", "CLIPVision", "ControlNet", "Workflow", "Upscaler",
    "Enhancement LoRA", "Other",
)  # fmt: skip
BASE_MODEL_TYPES = ("Standard", "Inpainting", "Refiner", "Pix2Pix")

# NSFW levels are bit flags (PG=1, PG13=2, R=4, X=8, XXX=16, Blocked=32): models_app/levels.py.
LEVEL_NAMES = IMAGE_LEVEL_NAMES

SCAN_RESULTS = {
    ScanStatus.PENDING: "Pending",
    ScanStatus.SCANNING: "Pending",
    ScanStatus.CLEAN: "Success",
    ScanStatus.QUARANTINED: "Danger",
    ScanStatus.ERROR: "Error",
    ScanStatus.NOT_SCANNED: "Error",  # refused before its scan finished; never offered to tools
}
VERSION_STATUSES = {
    PublishStatus.DRAFT: "Draft",
    PublishStatus.PUBLISHED: "Published",
    PublishStatus.UNPUBLISHED: "Unpublished",
    PublishStatus.ARCHIVED: "Published",  # archiving is the model's mode on CivitAI, not a status
    # Taken down by moderators (docs/moderation.md): only its creator and moderators are answered.
    PublishStatus.HIDDEN: "UnpublishedViolation",
    PublishStatus.REMOVED: "UnpublishedViolation",
}

# AIR (urn:air:{ecosystem}:{type}:{source}:{modelId}@{versionId}): the type word for each model type.
AIR_TYPES = {
    "Checkpoint": "checkpoint", "TextualInversion": "embedding", "LORA": "lora", "LoCon": "lycoris",
    "DoRA": "dora", "Hypernetwork": "hypernet", "AestheticGradient": "ag", "VAE": "vae",
    "Controlnet": "controlnet", "Upscaler": "upscaler", "MotionModule": "motion",
}  # fmt: skip
# The ecosystem is the root family of the base model; names not listed become their own slug.
AIR_ECOSYSTEMS = {
    "SD 1.4": "sd1", "SD 1.5": "sd1", "SD 1.5 LCM": "sd1", "SD 1.5 Hyper": "sd1",
    "SD 2.0": "sd2", "SD 2.0 768": "sd2", "SD 2.1": "sd2", "SD 2.1 768": "sd2", "SD 2.1 Unclip": "sd2",
    "SDXL 0.9": "sdxl", "SDXL 1.0": "sdxl", "SDXL 1.0 LCM": "sdxl", "SDXL Turbo": "sdxl",
    "SDXL Lightning": "sdxl", "SDXL Hyper": "sdxl", "SDXL Distilled": "sdxl", "Pony": "sdxl",
    "Illustrious": "sdxl", "NoobAI": "sdxl", "Playground v2": "sdxl",
    "SD 3": "sd3", "SD 3.5": "sd3", "SD 3.5 Large": "sd3", "SD 3.5 Large Turbo": "sd3", "SD 3.5 Medium": "sd3",
    "Flux.1 S": "flux1", "Flux.1 D": "flux1", "Flux.1 Krea": "flux1", "Flux.1 Kontext": "flux1",
}  # fmt: skip

MAX_VERSION_IMAGES = 10
# Sent as an image's BlurHash when none was computed (images processed before the hub computed one):
# the BlurHash of a plain mid-grey picture, valid for every decoder.
PLACEHOLDER_BLURHASH = "LHEyb[~qfQ~q~qxufQxufQfQfQfQ"


@dataclass(frozen=True)
class Viewer:
    """Who asked and where: the user decides which files show, the origin makes URLs absolute."""

    user: object
    origin: str  # "https://hub.example", from the request (proxy headers honoured by Django)
    levels: int | None = None  # a list's browsing mask: example images above it are left out

    def is_privileged(self, model: AIModel) -> bool:
        """The model's creator or a moderator: they also see files that failed their checks."""
        return can_manage(self.user, model)


def emitted_type(model_type: str) -> str:
    return model_type if model_type in EMITTED_MODEL_TYPES else "Other"


def nsfw_level(row) -> int:
    return int(row.nsfw_level)


def air(model: AIModel, version: ModelVersion) -> str:
    """The version's AI resource name. The source is this hub (its site name), not "civitai": the ids
    are the hub's, and a client resolving the AIR must come here."""
    model_type = emitted_type(model.type)
    if model_type == "Upscaler":
        ecosystem = "other"
    else:
        name = version.base_model.name
        ecosystem = AIR_ECOSYSTEMS.get(name) or slugify(name.replace(".", "")) or "other"
    air_type = AIR_TYPES.get(model_type, model_type.lower())
    source = slugify(settings.SITE_NAME) or "hub"
    return f"urn:air:{ecosystem}:{air_type}:{source}:{model.id}@{version.id}"


def is_archived(model: AIModel, version: ModelVersion | None = None) -> bool:
    return PublishStatus.ARCHIVED in (model.status, version.status if version else None)


def download_url(viewer: Viewer, version: ModelVersion, query: dict | None = None) -> str:
    url = f"{viewer.origin}/api/download/models/{version.id}"
    return f"{url}?{urlencode(query)}" if query else url


# --- Files


def shown_files(version: ModelVersion, viewer: Viewer, model: AIModel) -> list[ModelFile]:
    """The version's files as tools see them: stored and hashed model files (example images are
    listed as images). Everyone sees the ready ones; the creator and moderators also see the ones
    the scans flagged, with their verdict."""
    privileged = viewer.is_privileged(model)
    return [
        f
        for f in version.files.all()
        if f.type != FileType.IMAGE and f.blob_id is not None and (privileged or f.status == FileStatus.READY)
    ]


def primary_file(files: list[ModelFile]) -> ModelFile | None:
    """The file marked primary, else the one the download endpoint would give without parameters."""
    marked = next((f for f in files if f.is_primary and f.is_downloadable), None)
    # A creator also sees their flagged files; a version with nothing downloadable still needs one.
    return (
        marked or downloads.pick_file([f for f in files if f.is_downloadable]) or downloads.pick_file(files)
    )


def _file_query(f: ModelFile, downloadable: list[ModelFile]) -> dict:
    """The download URL's query for a file that is not the primary one: CivitAI's
    type/format/size/fp when they lead the download endpoint to exactly this file, else its id."""
    query = {"type": f.type, "format": f.format}
    if f.size_variant:
        query["size"] = f.size_variant
    if f.fp:
        query["fp"] = f.fp
    choice = downloads.pick_file(
        downloadable, type=f.type, format=f.format, size=f.size_variant or None, fp=f.fp or None
    )
    if choice is not None and choice.id == f.id:
        return query
    return {"fileId": f.id}


def file_json(
    f: ModelFile, *, viewer: Viewer, version: ModelVersion, primary: ModelFile, downloadable
) -> dict:
    blob = f.blob
    virus = (f.metadata or {}).get("virus_scan") or {}
    is_primary = f.id == primary.id
    return {
        "id": f.id,
        "name": clean_filename(f.name),
        "type": f.type if f.type in FILE_TYPES else "Other",
        "sizeKB": blob.size / 1024,
        "metadata": {"format": f.format, "size": f.size_variant or None, "fp": f.fp or None},
        "pickleScanResult": SCAN_RESULTS[f.scan_status],
        "pickleScanMessage": f.scan_message or None,
        "virusScanResult": virus.get("result") or SCAN_RESULTS[f.scan_status],
        "virusScanMessage": virus.get("message") if virus.get("result") not in (None, "Success") else None,
        "scannedAt": iso_z(f.scanned_at),
        "hashes": blob.api_hashes(),
        "primary": is_primary,
        "downloadUrl": download_url(viewer, version, None if is_primary else _file_query(f, downloadable)),
    }


# --- Images


def version_images(version: ModelVersion) -> list[Image]:
    """The version's example images that finished processing, in upload order (views.py prefetches
    them as `example_links`)."""
    links = getattr(version, "example_links", None)
    if links is None:
        return list(resources_images.example_images([version.id]))
    return [link.image for link in links]


def image_url(viewer: Viewer, image: Image) -> str:
    """The image's bytes, shown inline at a stable address (resources.image_views.serve_image)."""
    return viewer.origin + image_path(image)


def image_meta(image: Image) -> dict | None:
    """The generation settings embedded in an image, as CivitAI's loose `meta` object, or None."""
    if isinstance(image.meta, dict):
        return image.meta
    if image.workflow or image.prompt_graph:
        graphs = {}
        for key, text in (("prompt", image.prompt_graph), ("workflow", image.workflow)):
            try:
                graphs[key] = json.loads(text) if text else None
            except (ValueError, RecursionError):
                graphs[key] = None
        return {"comfy": json.dumps(graphs)}
    return None


def media_kind(f: Image) -> str:
    """CivitAI's image `type`: "video" for an example clip (docs/video.md), else "image"."""
    return "video" if (f.mime_type or "").startswith("video/") else "image"


def version_image_json(
    f: Image, *, viewer: Viewer, model: AIModel, version: ModelVersion | None = None
) -> dict:
    meta = image_meta(f)
    return {
        "id": f.id,
        "url": image_url(viewer, f),
        # An example is at least as mature as its version and model (resources.images.effective_level).
        "nsfwLevel": max(f.nsfw_level, model.nsfw_level, version.nsfw_level if version else 1),
        "width": f.width,
        "height": f.height,
        "hash": f.blurhash or PLACEHOLDER_BLURHASH,
        "type": media_kind(f),
        "hasMeta": meta is not None,
        "onSite": False,
        "meta": meta,
    }


def image_json(f, *, viewer: Viewer, with_meta: bool) -> dict:
    """An item of /images, from a plain row (views.images_list: no model instances, whose building
    cost more than the page's queries): the image's columns, `username`, its post's version's and
    model's levels (`post_version_level`, `post_model_level`, None when not a version's example),
    `version_ids` (the public versions it is linked to) and `version` (the first of them: `id`,
    `model_id`, `base_model`, or None); `meta`, `workflow` and `prompt_graph` when `with_meta`."""
    version = f.version
    # As resources.images.effective_level: an example image is at least its version's and model's level.
    level = f.nsfw_level
    if f.post_version_level is not None:
        level = max(level, f.post_version_level, f.post_model_level)
    return {
        "id": f.id,
        "url": image_url(viewer, f),
        "hash": f.blurhash or PLACEHOLDER_BLURHASH,
        "width": f.width,
        "height": f.height,
        "type": media_kind(f),
        "nsfwLevel": LEVEL_NAMES[level],
        "nsfw": is_mature(level),
        "browsingLevel": level,
        "createdAt": iso_z(f.created_at),
        "postId": f.post_id,
        "username": f.username,
        "baseModel": version.base_model if version else None,
        "modelVersionIds": list(f.version_ids),
        "modelId": version.model_id if version else None,
        "modelVersionId": version.id if version else None,
        "stats": {
            "cryCount": 0,
            "laughCount": 0,
            "likeCount": 0,
            "dislikeCount": 0,
            "heartCount": 0,
            "commentCount": 0,
        },  # fmt: skip
        "meta": image_meta(f) if with_meta else None,
    }


# --- Versions and models


def version_json(
    version: ModelVersion,
    *,
    viewer: Viewer,
    model: AIModel,
    index: int,
    primary_file_only: bool = False,
) -> dict | None:
    """The version as a superset of CivitAI's two forms (inside modelVersions[] and standalone), or
    None when it has no file to offer (such versions are left out, as CivitAI does)."""
    files = shown_files(version, viewer, model)
    primary = primary_file(files)
    if primary is None:
        return None
    archived = is_archived(model, version)
    if primary_file_only:
        files = [primary]
    downloadable = [f for f in files if f.is_downloadable]
    in_early_access = version.in_early_access()
    model_summary = {"name": model.name, "type": emitted_type(model.type), "nsfw": model.nsfw, "poi": False}
    if archived:
        model_summary["mode"] = "Archived"
    published = version.status in (PublishStatus.PUBLISHED, PublishStatus.ARCHIVED)
    data = {
        "id": version.id,
        "modelId": model.id,
        "index": index,
        "name": version.name,
        "description": version.description_html or None,  # rendered when written (set_description)
        "baseModel": version.base_model.name,
        "baseModelType": "Standard",
        "status": VERSION_STATUSES[version.status],
        "availability": "EarlyAccess" if in_early_access else ("Public" if published else "Private"),
        "nsfwLevel": nsfw_level(version),
        "createdAt": iso_z(version.created_at),
        "updatedAt": iso_z(version.updated_at),
        "publishedAt": iso_z(version.published_at),
        "trainedWords": list(version.trained_words or []),
        "trainingStatus": None,
        "trainingDetails": None,
        "vaeId": None,
        "uploadType": "Created",
        "usageControl": version.usage_control,
        "earlyAccessConfig": {"timeframe": version.early_access_days} if version.early_access_days else {},
        "earlyAccessEndsAt": iso_z(version.early_access_ends_at) if in_early_access else None,
        # The older name of the same deadline, which some tools still read (docs/civitai-api.md).
        "earlyAccessDeadline": iso_z(version.early_access_ends_at) if in_early_access else None,
        "paidAccess": None,
        "supportsGeneration": False,
        "air": air(model, version),
        "stats": {
            "downloadCount": version.download_count,
            "thumbsUpCount": version.thumbs_up_count,
            "thumbsDownCount": version.thumbs_down_count,
        },
        "model": model_summary,
        "files": []
        if archived
        else [
            file_json(f, viewer=viewer, version=version, primary=primary, downloadable=downloadable)
            for f in files
        ],
        "images": [
            version_image_json(f, viewer=viewer, model=model, version=version)
            for f in version_images(version)
            if viewer.levels is None
            or max(f.nsfw_level, model.nsfw_level, version.nsfw_level) & viewer.levels
        ][:MAX_VERSION_IMAGES],
    }
    if not archived:
        data["downloadUrl"] = download_url(viewer, version)
    return data


def model_versions_json(model: AIModel, *, viewer: Viewer, primary_file_only: bool = False) -> list[dict]:
    """The model's versions (newest first) that have a file to offer."""
    versions = []
    for index, version in enumerate(model.versions.all()):
        data = version_json(
            version, viewer=viewer, model=model, index=index, primary_file_only=primary_file_only
        )
        if data is not None:
            versions.append(data)
    return versions


def model_json(model: AIModel, *, viewer: Viewer, primary_file_only: bool = False) -> dict:
    """A model with its versions, their files and example images. `model` comes from
    selectors.api_models (versions, files and blobs prefetched)."""
    votes = model.thumbs_up_count + model.thumbs_down_count
    data = {
        "id": model.id,
        "name": model.name,
        "description": model.description_html,  # a string, "" when empty: civitapy needs it
        "type": emitted_type(model.type),
        "poi": False,
        "nsfw": model.nsfw,
        "minor": False,
        "sfwOnly": False,
        "nsfwLevel": nsfw_level(model),
        "availability": "Public"
        if model.status in (PublishStatus.PUBLISHED, PublishStatus.ARCHIVED)
        else "Private",
        "allowNoCredit": model.allow_no_credit,
        "allowDerivatives": model.allow_derivatives,
        "allowDifferentLicense": model.allow_different_license,
        "allowCommercialUse": model.commercial_use,
        "userId": model.owner_id,
        "supportsGeneration": False,
        "cosmetic": None,
        "createdAt": iso_z(model.created_at),
        "publishedAt": iso_z(model.published_at),
        "updatedAt": iso_z(model.updated_at),
        "stats": {
            "downloadCount": model.download_count,
            "thumbsUpCount": model.thumbs_up_count,
            "thumbsDownCount": model.thumbs_down_count,
            "commentCount": model.comment_count,
            "tippedAmountCount": 0,
            "favoriteCount": model.like_count,
            "ratingCount": votes,
            "rating": round(model.rating * 5, 2)
            if votes
            else 0,  # the hub's 0-1 share of thumbs up, as stars
        },
        "creator": {"username": model.owner.username, "image": None},
        "tags": list(model.tag_names or []),
        "modelVersions": model_versions_json(model, viewer=viewer, primary_file_only=primary_file_only),
    }
    if is_archived(model):
        data["mode"] = "Archived"
    return data


def tombstone_json(version: ModelVersion) -> dict:
    """What by-hash answers for a version moderators removed (docs/moderation.md#tombstones): status
    "removed", the public facts a tool needs to identify the file it holds (names, hashes, trigger
    words, base model, the licence and permissions), and no download, images or description."""
    model = version.model
    files = version.files.exclude(type=FileType.IMAGE).filter(blob__isnull=False).select_related("blob")
    return {
        "id": version.id,
        "modelId": model.id,
        "name": version.name,
        "status": "removed",
        "availability": "Private",
        "baseModel": version.base_model.name,
        "trainedWords": list(version.trained_words or []),
        "publishedAt": iso_z(version.published_at),
        "model": {"name": model.name, "type": emitted_type(model.type)},
        "license": model.license or None,
        "allowNoCredit": model.allow_no_credit,
        "allowDerivatives": model.allow_derivatives,
        "allowDifferentLicense": model.allow_different_license,
        "allowCommercialUse": model.commercial_use,
        "files": [
            {
                "id": f.id,
                "name": clean_filename(f.name),
                "type": f.type if f.type in FILE_TYPES else "Other",
                "sizeKB": f.blob.size / 1024,
                "hashes": f.blob.api_hashes(),
                "downloadUrl": None,
            }
            for f in files
        ],
        "images": [],
        "downloadUrl": None,
    }

"""Every object the API sends, field by field, against docs/civitai-api.md#objects (what strict clients read)."""

import hashlib
import re

import pytest
from django.utils import timezone

from models_app import demo
from models_app.models import AIModel, FileType, ModelVersion, PublishStatus
from tests.models_app.test_downloads import follow

from .conftest import add_file, publish

pytestmark = pytest.mark.django_db

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

MODEL_KEYS = {
    "id", "name", "description", "type", "poi", "nsfw", "minor", "sfwOnly", "nsfwLevel", "availability",
    "allowNoCredit", "allowDerivatives", "allowDifferentLicense", "allowCommercialUse", "userId",
    "supportsGeneration", "cosmetic", "createdAt", "stats", "creator", "tags", "modelVersions",
}  # fmt: skip
VERSION_KEYS = {
    "id", "modelId", "index", "name", "description", "baseModel", "baseModelType", "status", "availability",
    "nsfwLevel", "createdAt", "updatedAt", "publishedAt", "trainedWords", "trainingStatus", "trainingDetails",
    "vaeId", "uploadType", "usageControl", "earlyAccessConfig", "earlyAccessEndsAt", "earlyAccessDeadline", "paidAccess",
    "supportsGeneration", "air", "stats", "model", "files", "images", "downloadUrl",
}  # fmt: skip
FILE_KEYS = {
    "id", "name", "type", "sizeKB", "metadata", "pickleScanResult", "pickleScanMessage", "virusScanResult",
    "virusScanMessage", "scannedAt", "hashes", "primary", "downloadUrl",
}  # fmt: skip
VERSION_IMAGE_KEYS = {
    "id",
    "url",
    "nsfwLevel",
    "width",
    "height",
    "hash",
    "type",
    "hasMeta",
    "onSite",
    "meta",
}
IMAGE_KEYS = {
    "id", "url", "hash", "width", "height", "type", "nsfwLevel", "nsfw", "browsingLevel", "createdAt", "postId",
    "username", "baseModel", "modelVersionIds", "stats", "meta",
}  # fmt: skip
BLURHASH = re.compile(r"^[0-9A-Za-z#$%*+,\-.:;=?@\[\]^_{|}~]{28}$")


def get(client, url, **kwargs):
    response = client.get(url, **kwargs)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()


def test_a_model_has_every_key_with_civitai_types(client, lora):
    data = get(client, f"/api/v1/models/{lora.model_id}")
    assert MODEL_KEYS <= set(data)
    model = lora.model
    assert data["id"] == model.id and data["name"] == "Tiny Watercolor" and data["type"] == "LORA"
    assert data["description"] == "<p>Soft <strong>washes</strong>.</p>"
    assert (data["poi"], data["nsfw"], data["minor"], data["sfwOnly"], data["nsfwLevel"]) == (
        False,
        False,
        False,
        False,
        1,
    )
    assert data["availability"] == "Public" and "mode" not in data
    assert data["allowCommercialUse"] == ["Image", "Rent"]
    assert (data["allowNoCredit"], data["allowDerivatives"], data["allowDifferentLicense"]) == (
        True,
        True,
        True,
    )
    assert data["userId"] == model.owner_id and data["creator"] == {"username": "alice", "image": None}
    assert ISO_Z.match(data["createdAt"])
    assert data["stats"]["downloadCount"] == 0 and {
        "thumbsUpCount",
        "thumbsDownCount",
        "commentCount",
        "tippedAmountCount",
    } <= set(data["stats"])
    assert data["tags"] == ["style", "watercolor"]
    [version] = data["modelVersions"]
    assert VERSION_KEYS <= set(version) and version["id"] == lora.id


def test_an_empty_description_is_an_empty_string_not_null(client, creator, run_on_commit):
    version = publish(creator, run_on_commit, name="Plain")
    assert get(client, f"/api/v1/models/{version.model_id}")["description"] == ""


def test_a_version_has_every_key_and_the_same_shape_inside_a_model_and_standalone(client, lora):
    standalone = get(client, f"/api/v1/model-versions/{lora.id}")
    inside = get(client, f"/api/v1/models/{lora.model_id}")["modelVersions"][0]
    assert VERSION_KEYS <= set(standalone)
    assert set(inside) == set(standalone)
    assert standalone["files"] == inside["files"] or len(standalone["files"]) == len(inside["files"])
    assert (standalone["modelId"], standalone["index"], standalone["name"]) == (lora.model_id, 0, "v1.0")
    assert standalone["baseModel"] == "SD 1.5" and standalone["baseModelType"] == "Standard"
    assert (standalone["status"], standalone["availability"]) == ("Published", "Public")
    assert standalone["trainedWords"] == ["tiny"] and standalone["nsfwLevel"] == 1
    for key in ("createdAt", "updatedAt", "publishedAt"):
        assert ISO_Z.match(standalone[key]), key
    assert standalone["usageControl"] == "Download" and standalone["uploadType"] == "Created"
    assert standalone["earlyAccessConfig"] == {} and standalone["earlyAccessEndsAt"] is None
    assert standalone["model"] == {"name": "Tiny Watercolor", "type": "LORA", "nsfw": False, "poi": False}
    assert standalone["air"] == f"urn:air:sd1:lora:model-hub:{lora.model_id}@{lora.id}"
    assert standalone["stats"] == {"downloadCount": 0, "thumbsUpCount": 0, "thumbsDownCount": 0}
    assert standalone["downloadUrl"] == f"http://testserver/api/download/models/{lora.id}"


def test_files_carry_exact_sizes_uppercase_hashes_scan_results_and_working_download_urls(client, lora):
    files = get(client, f"/api/v1/model-versions/{lora.id}")["files"]
    assert [f["name"] for f in files] == ["tiny.safetensors", "tiny-vae.safetensors"]  # no image here
    for data in files:
        assert set(data) == FILE_KEYS
        row = lora.files.select_related("blob").get(id=data["id"])
        assert data["sizeKB"] == row.blob.size / 1024 and data["sizeKB"] * 1024 == row.blob.size
        assert set(data["hashes"]) == {"AutoV1", "AutoV2", "AutoV3", "SHA256", "CRC32", "BLAKE3"}
        assert all(v == v.upper() for v in data["hashes"].values())
        assert data["hashes"]["SHA256"] == row.blob.sha256
        assert (data["pickleScanResult"], data["virusScanResult"]) == ("Success", "Success")
        assert data["pickleScanMessage"] is None and data["virusScanMessage"] is None
        assert ISO_Z.match(data["scannedAt"])
        assert data["metadata"]["format"] == "SafeTensor" and set(data["metadata"]) == {
            "format",
            "size",
            "fp",
        }
        assert isinstance(data["primary"], bool)
        # The downloadUrl gives exactly this file.
        redirect = client.get(data["downloadUrl"])
        assert redirect.status_code == 307
        body = follow(client, redirect["Location"])  # the hub's file URL, or S3's presigned one in CI
        assert hashlib.sha256(body).hexdigest().upper() == data["hashes"]["SHA256"]
    primary, vae = files
    assert primary["primary"] is True and primary["type"] == "Model"
    assert primary["downloadUrl"] == f"http://testserver/api/download/models/{lora.id}"
    assert vae["primary"] is False and vae["type"] == "VAE"
    assert vae["downloadUrl"].startswith(
        f"http://testserver/api/download/models/{lora.id}?type=VAE&format=SafeTensor"
    )


def test_a_file_the_type_and_format_cannot_single_out_is_named_by_its_id(client, lora, run_on_commit):
    twin = add_file(
        lora, run_on_commit, name="other-vae.safetensors", content=demo.tiny_vae() + b"", type=FileType.VAE
    )
    files = {f["name"]: f for f in get(client, f"/api/v1/model-versions/{lora.id}")["files"]}
    assert files["other-vae.safetensors"]["downloadUrl"].endswith(f"?fileId={twin.id}")


def test_version_images_and_the_images_list(client, lora):
    [image] = get(client, f"/api/v1/model-versions/{lora.id}")["images"]
    assert set(image) == VERSION_IMAGE_KEYS
    assert (image["width"], image["height"], image["type"], image["nsfwLevel"]) == (96, 64, "image", 1)
    assert BLURHASH.match(image["hash"]) and image["hasMeta"] is True and image["onSite"] is False
    assert image["meta"]["prompt"] == "a watercolor fox, <lora:tiny:0.8>"
    assert image["meta"]["negativePrompt"] == "lowres, bad hands"
    assert (
        image["meta"]["steps"],
        image["meta"]["sampler"],
        image["meta"]["cfgScale"],
        image["meta"]["seed"],
    ) == (20, "Euler a", 7.0, 123)
    assert image["url"].startswith("http://testserver/images/")
    assert client.get(image["url"]).status_code == 200

    items = get(client, "/api/v1/images?withMeta=true")["items"]
    [item] = items
    assert IMAGE_KEYS <= set(item)
    assert (
        item["id"] == image["id"]
        and item["hash"] == image["hash"]
        and item["url"].startswith("http://testserver/images/")
    )
    assert (item["nsfwLevel"], item["nsfw"], item["browsingLevel"]) == ("None", False, 1)
    assert (
        item["username"] == "alice" and item["baseModel"] == "SD 1.5" and item["modelVersionIds"] == [lora.id]
    )
    assert ISO_Z.match(item["createdAt"]) and item["meta"]["seed"] == 123
    assert get(client, "/api/v1/images")["items"][0]["meta"] is None


def test_an_archived_model_is_shown_without_files_or_download_urls(client, lora):
    AIModel.objects.filter(id=lora.model_id).update(status=PublishStatus.ARCHIVED)
    data = get(client, f"/api/v1/models/{lora.model_id}")
    assert data["mode"] == "Archived"
    [version] = data["modelVersions"]
    assert version["files"] == [] and "downloadUrl" not in version and version["model"]["mode"] == "Archived"
    assert get(client, f"/api/v1/model-versions/{lora.id}")["files"] == []
    assert get(client, "/api/v1/models")["items"] == []  # lists show published models only


def test_early_access_is_shown_with_its_deadline(client, creator, run_on_commit):
    version = publish(creator, run_on_commit, name="Soon", publish=False)
    ModelVersion.objects.filter(id=version.id).update(early_access_days=3)
    from models_app import services

    services.publish_version(version=ModelVersion.objects.get(id=version.id), by=creator)
    data = get(client, f"/api/v1/model-versions/{version.id}")
    assert data["availability"] == "EarlyAccess" and data["earlyAccessConfig"] == {"timeframe": 3}
    assert ISO_Z.match(data["earlyAccessEndsAt"])
    assert client.get(data["downloadUrl"]).status_code in (401, 403)  # shown, not downloadable
    ModelVersion.objects.filter(id=version.id).update(early_access_ends_at=timezone.now())
    data = get(client, f"/api/v1/model-versions/{version.id}")
    assert data["availability"] == "Public" and data["earlyAccessEndsAt"] is None


def test_types_civitai_does_not_know_are_sent_as_other(client, creator, run_on_commit):
    version = publish(creator, run_on_commit, name="Finder", type="Detection")
    data = get(client, f"/api/v1/models/{version.model_id}")
    assert data["type"] == "Other" and data["modelVersions"][0]["model"]["type"] == "Other"


def test_file_names_never_carry_a_path(client, lora):
    lora.files.filter(type=FileType.MODEL).update(name="../..\\evil\u202ename\r\n.safetensors")
    [primary, _] = get(client, f"/api/v1/model-versions/{lora.id}")["files"]
    assert "/" not in primary["name"] and "\\" not in primary["name"] and "\u202e" not in primary["name"]
    assert primary["name"] not in (".", "..", "")


def test_primary_file_only_leaves_the_other_files_out(client, lora):
    [version] = get(client, f"/api/v1/models/{lora.model_id}?primaryFileOnly=true")["modelVersions"]
    assert [f["name"] for f in version["files"]] == ["tiny.safetensors"]
    [item] = get(client, "/api/v1/models?primaryFileOnly=True")["items"]
    assert len(item["modelVersions"][0]["files"]) == 1
    assert len(get(client, "/api/v1/models")["items"][0]["modelVersions"][0]["files"]) == 2

"""Finding a version by a file hash, as A1111 extensions and download tools do (docs/hashes.md)."""

import datetime
from urllib.parse import quote

import pytest
from django.test import Client
from django.utils import timezone

from community.models import ApiKey
from models_app import demo, downloads
from models_app.models import ContentBlob, ModelVersion
from tests.factories import publish_model as publish

pytestmark = pytest.mark.django_db


def big_lora() -> bytes:
    """Just over 1 MiB, so AutoV1 hashes real bytes instead of being E3B0C442."""
    tensor = bytes((i * 7 + 3) % 251 for i in range(1_200_000))
    return demo.make_safetensors([("lora_unet_x.lora_down.weight", "F16", (600_000,), tensor)])


def lookup(client, value: str, **headers):
    return client.get(f"/api/v1/model-versions/by-hash/{value}", headers=headers)


@pytest.fixture
def version(creator, run_on_commit):
    return publish(creator, run_on_commit, content=big_lora(), filename="big.safetensors")


@pytest.fixture
def blob(version) -> ContentBlob:
    blob = version.files.get().blob
    assert blob.autov1 != downloads.EMPTY_AUTOV1 and blob.autov3
    return blob


def swapped(crc: str) -> str:
    return crc[6:8] + crc[4:6] + crc[2:4] + crc[0:2]


@pytest.mark.parametrize(
    "kind",
    ["SHA256", "AutoV2", "SHA256[:12]", "AutoV3[:12]", "AutoV3", "BLAKE3", "AutoV1", "CRC32", "CRC32 LE"],
)
def test_every_hash_kind_and_length_finds_the_version(client, version, blob, kind):
    value = {
        "SHA256": blob.sha256,
        "AutoV2": blob.autov2,
        "SHA256[:12]": blob.sha256[:12],
        "AutoV3[:12]": blob.autov3[:12],
        "AutoV3": blob.autov3,
        "BLAKE3": blob.blake3,
        "AutoV1": blob.autov1,
        "CRC32": blob.crc32,
        "CRC32 LE": swapped(blob.crc32),
    }[kind]
    response = lookup(client, value)
    assert response.status_code == 200, kind
    data = response.json()
    assert (data["id"], data["modelId"], data["name"], data["baseModel"]) == (
        version.id, version.model_id, "v1.0", "SD 1.5",
    )  # fmt: skip
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "s-maxage=3600" in response["Cache-Control"]


@pytest.mark.parametrize(
    "shape", [str.lower, lambda h: "0x" + h, lambda h: "0X" + h.lower(), lambda h: f"  {h}  "]
)
def test_lookups_ignore_case_a_0x_prefix_and_spaces(client, version, blob, shape):
    assert lookup(client, quote(shape(blob.sha256))).json()["id"] == version.id
    assert lookup(client, quote(shape(blob.autov2))).json()["id"] == version.id


def test_the_answer_lists_files_with_uppercase_hashes_and_absolute_download_urls(client, version, blob):
    data = lookup(client, blob.sha256).json()
    [file] = data["files"]
    assert file["name"] == "big.safetensors" and file["primary"] is True
    assert file["sizeKB"] == blob.size / 1024
    assert file["hashes"] == {
        "AutoV1": blob.autov1, "AutoV2": blob.sha256[:10], "SHA256": blob.sha256, "CRC32": blob.crc32,
        "BLAKE3": blob.blake3, "AutoV3": blob.autov3[:12],
    }  # fmt: skip
    assert all(v == v.upper() for v in file["hashes"].values())
    assert data["downloadUrl"] == f"http://testserver/api/download/models/{version.id}"
    assert client.get(data["downloadUrl"]).status_code == 307


def test_the_hash_of_every_small_file_is_refused(client, creator, run_on_commit):
    small = publish(creator, run_on_commit)  # under 1 MiB: its AutoV1 is E3B0C442
    assert small.files.get().blob.autov1 == "E3B0C442"
    for value in ("E3B0C442", "e3b0c442", "0xE3B0C442"):
        response = lookup(client, value)
        assert response.status_code == 404 and response.json() == {"error": "Model not found"}


@pytest.mark.parametrize(
    "junk",
    [
        "zzzzzzzz",
        "A" * 10240,
        "%00",
        "ABCDEF12%00",
        "%27%20OR%201%3D1%20--",
        "ABCDEF12'%3B%20DROP%20TABLE%20models_app_contentblob%3B--",
        "0x",
        "ABCDEF1",
        "ABCDEF1234567",
        "..%2F..%2Fetc%2Fpasswd",
        "%E2%80%AE%F0%9F%92%A9",
    ],
)
def test_junk_is_a_404_json_never_a_500(client, version, junk):
    response = lookup(client, junk)
    if (
        "%00" in junk
    ):  # refused for every URL before any view runs (hub.middleware); docs/hostile-input.md allows 400
        assert response.status_code == 400 and response.json()["error"]
        return
    assert response.status_code == 404
    assert response.json() == {"error": "Model not found"}


def test_an_unknown_hash_is_404(client, version):
    assert lookup(client, "0" * 64).status_code == 404
    assert downloads.find_version_by_hash(version.model.owner, "0" * 64) is None


def test_an_unpublished_version_is_found_only_by_its_creator_and_moderators(
    client, creator, fan, moderator, run_on_commit
):
    draft = publish(creator, run_on_commit, name="Secret", publish=False, content=big_lora())
    sha = draft.files.get().blob.sha256
    assert lookup(client, sha).status_code == 404
    client.force_login(fan)
    assert lookup(client, sha).status_code == 404
    for user in (creator, moderator):
        client.force_login(user)
        response = lookup(client, sha)
        assert response.status_code == 200 and response.json()["id"] == draft.id
        assert "private" in response["Cache-Control"]
    _, raw = ApiKey.create(user=creator, name="tool")
    assert lookup(Client(), sha, Authorization=f"Bearer {raw}").json()["id"] == draft.id
    assert lookup(Client(), f"{sha}?token={raw}").json()["id"] == draft.id
    # A bad key on this public endpoint means anonymous, not 401.
    assert lookup(Client(), sha, Authorization="Bearer hub_nope").status_code == 404


def test_several_matches_give_the_oldest_published_then_the_lowest_id(client, creator, fan, run_on_commit):
    first = publish(creator, run_on_commit, name="First", content=big_lora())
    second = publish(fan, run_on_commit, name="Copy", content=big_lora())
    sha = first.files.get().blob.sha256
    assert second.files.get().blob.sha256 == sha  # the re-upload shares the stored bytes
    assert lookup(client, sha).json()["id"] == first.id
    earlier = timezone.now() - datetime.timedelta(days=30)
    ModelVersion.objects.filter(id=second.id).update(published_at=earlier)
    assert lookup(client, sha).json()["id"] == second.id
    ModelVersion.objects.filter(id=first.id).update(published_at=earlier)
    assert lookup(client, sha).json()["id"] == first.id


# --- POST /api/v1/model-versions/by-hash and /by-hash/ids (SHA256 only, batches capped).


def post(client, path: str, body, **headers):
    import json

    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(
        f"/api/v1/model-versions/{path}", data=data, content_type="application/json", headers=headers
    )


def test_a_batch_of_hashes_gives_the_full_versions_found(client, version, blob, creator, run_on_commit):
    other = publish(creator, run_on_commit, name="Other")
    other_sha = other.files.get().blob.sha256
    response = post(client, "by-hash", [blob.sha256.lower(), other_sha, "0" * 64, blob.sha256])
    assert response.status_code == 200 and response["Access-Control-Allow-Origin"] == "*"
    items = response.json()
    assert isinstance(items, list) and [v["id"] for v in items] == sorted([version.id, other.id])
    assert all(v["files"] and v["downloadUrl"] and v["air"] for v in items)
    assert post(client, "by-hash", []).json() == []


def test_the_ids_batch_maps_hashes_to_version_and_model_ids(client, version, blob):
    response = post(client, "by-hash/ids", [blob.sha256, "F" * 64])
    assert response.json() == [
        {"modelVersionId": version.id, "modelId": version.model_id, "hash": blob.sha256}
    ]


def test_batches_are_capped_at_100_and_10000(client, version, blob):
    assert post(client, "by-hash", [blob.sha256] * 100).status_code == 200
    too_many = post(client, "by-hash", [blob.sha256] * 101)
    assert too_many.status_code == 400
    assert too_many.json()["error"].startswith("Request must include an array of SHA256 Hashes.")
    assert post(client, "by-hash/ids", [blob.sha256] * 10_000).json()[0]["modelVersionId"] == version.id
    assert post(client, "by-hash/ids", [blob.sha256] * 10_001).status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        "",
        "not json",
        "{}",
        '{"hashes": []}',
        "[1, 2]",
        '["abc"]',
        "[null]",
        '["' + "G" * 64 + '"]',
        "[[]]",
        "[" * 10_000,
    ],
)
def test_a_body_that_is_not_an_array_of_sha256_is_400(client, version, body):
    response = post(client, "by-hash", body)
    assert response.status_code == 400
    assert response.json()["error"].startswith("Request must include an array of SHA256 Hashes.")


def test_batches_find_drafts_only_for_their_creator(client, creator, run_on_commit):
    draft = publish(creator, run_on_commit, name="Secret", publish=False, content=big_lora())
    sha = draft.files.get().blob.sha256
    assert post(client, "by-hash", [sha]).json() == []
    assert post(client, "by-hash/ids", [sha]).json() == []
    _, raw = ApiKey.create(user=creator, name="tool")
    assert [v["id"] for v in post(Client(), "by-hash", [sha], Authorization=f"Bearer {raw}").json()] == [
        draft.id
    ]


def test_the_hash_of_an_example_image_names_no_version(client, version, run_on_commit):
    from models_app.models import FileType

    from .conftest import add_file, png

    image = add_file(version, run_on_commit, name="x.png", content=png(), type=FileType.IMAGE)
    assert lookup(client, image.blob.sha256).status_code == 404
    assert post(client, "by-hash", [image.blob.sha256]).json() == []

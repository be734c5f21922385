"""Resumable multipart uploads through the API, on local disk and (in CI) on the S3 server."""

import base64
import hashlib
import io
import os
import urllib.request

import pytest

from models_app.models import ContentBlob, FileStatus, ModelFile
from tests.factories import PASSWORD

from .conftest import PART

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("small_parts")]


def put_part(client, url: str, data: bytes):
    """PUT one part where the hub said to: its own endpoint (local disk) or a presigned S3 URL."""
    if url.startswith("http://testserver"):
        response = client.put(
            url.removeprefix("http://testserver"), data, content_type="application/octet-stream"
        )
        return response.status_code, response.headers.get("ETag")
    # urllib would label the body a form; say what it is, as browsers and S3 clients do.
    request = urllib.request.Request(
        url, data=data, method="PUT", headers={"Content-Type": "application/octet-stream"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.headers.get("ETag")


def start(client, version, name="big.safetensors", size=None, **extra):
    return client.post(
        "/api/hub/uploads",
        {"version_id": version.id, "filename": name, "size": size, **extra},
        content_type="application/json",
    )


def send_parts(client, file_id: int, payload: bytes, numbers=None):
    chunks = [payload[i : i + PART] for i in range(0, len(payload), PART)]
    for number in numbers or range(1, len(chunks) + 1):
        url = client.post(f"/api/hub/uploads/{file_id}/parts/{number}").json()["url"]
        status, etag = put_part(client, url, chunks[number - 1])
        assert status == 200 and etag


@pytest.fixture
def payload():
    return os.urandom(2 * PART + 12345)  # three parts, the last one short


def test_an_upload_in_parts_becomes_a_ready_file_with_the_right_sha256(
    client, creator, version, payload, run_on_commit
):
    client.force_login(creator)
    response = start(client, version, name="weights.txt", size=len(payload), type="Training Data")
    assert response.status_code == 201, response.json()
    file_id = response.json()["id"]
    assert response.json()["status"] == "uploading" and response.json()["uploadId"]
    send_parts(client, file_id, payload)
    with run_on_commit():
        response = client.post(f"/api/hub/uploads/{file_id}/complete")
    assert response.status_code == 200, response.json()
    model_file = ModelFile.objects.get(id=file_id)
    assert model_file.status == FileStatus.READY, model_file.status_message
    assert model_file.blob.sha256 == hashlib.sha256(payload).hexdigest().upper()
    assert model_file.size == len(payload)


def test_an_interrupted_upload_resumes_from_the_parts_already_sent(
    client, creator, version, payload, run_on_commit
):
    client.force_login(creator)
    file_id = start(client, version, name="resume.txt", size=len(payload), type="Training Data").json()["id"]
    send_parts(client, file_id, payload, numbers=[1])  # then the connection drops
    listed = client.get(f"/api/hub/uploads/{file_id}/parts").json()
    assert [(p["PartNumber"], p["Size"]) for p in listed] == [(1, PART)]
    send_parts(client, file_id, payload, numbers=[2, 3])  # the uploader asks what arrived, sends the rest
    with run_on_commit():
        assert client.post(f"/api/hub/uploads/{file_id}/complete").status_code == 200
    assert ModelFile.objects.get(id=file_id).blob.sha256 == hashlib.sha256(payload).hexdigest().upper()


def test_completing_with_a_part_missing_is_refused_and_nothing_is_processed(
    client, creator, version, payload
):
    client.force_login(creator)
    file_id = start(client, version, name="gap.txt", size=len(payload), type="Training Data").json()["id"]
    send_parts(client, file_id, payload, numbers=[1, 3])
    response = client.post(f"/api/hub/uploads/{file_id}/complete")
    assert response.status_code == 400
    assert "Parts 2" in response.json()["detail"] and "upload the file again" in response.json()["detail"]
    model_file = ModelFile.objects.get(id=file_id)
    assert model_file.status == FileStatus.REJECTED and model_file.blob is None


def test_a_file_over_the_size_limit_is_refused_before_any_byte_is_sent(client, creator, version, settings):
    settings.MAX_UPLOAD_SIZE = 10 * 1024**3
    client.force_login(creator)
    response = start(client, version, name="huge.safetensors", size=11 * 1024**3)
    assert response.status_code == 400
    assert "10 GiB" in response.json()["detail"] and "11 GiB" in response.json()["detail"]
    assert not ModelFile.objects.filter(name="huge.safetensors").exists()


def test_a_file_type_the_hub_does_not_accept_is_refused(client, creator, version):
    client.force_login(creator)
    response = start(client, version, name="setup.exe", size=100)
    assert response.status_code == 400 and "allowed" in response.json()["detail"]


def test_only_the_creator_can_upload_to_a_version(client, fan, version):
    client.force_login(fan)
    response = start(client, version, size=100)
    assert response.status_code in (403, 404)
    assert not ModelFile.objects.filter(name="big.safetensors").exists()


def test_another_user_cannot_touch_an_upload(client, creator, fan, version, payload):
    client.force_login(creator)
    file_id = start(client, version, name="mine.txt", size=len(payload), type="Training Data").json()["id"]
    client.force_login(fan)
    assert client.post(f"/api/hub/uploads/{file_id}/parts/1").status_code == 404
    assert client.post(f"/api/hub/uploads/{file_id}/complete").status_code == 404
    assert client.delete(f"/api/hub/uploads/{file_id}").status_code == 404


def test_anonymous_callers_are_asked_to_log_in(client, version):
    response = start(client, version, size=100)
    assert response.status_code in (401, 403)
    assert "detail" in response.json()


def test_a_forged_part_url_is_refused(client, creator, version, settings):
    if settings.S3_BUCKET:
        pytest.skip("on S3 the part URLs are S3's own presigned URLs")
    client.force_login(creator)
    start(client, version, name="x.txt", size=100, type="Training Data")
    response = client.put(
        "/api/hub/parts/not-a-real-token", b"x" * 10, content_type="application/octet-stream"
    )
    assert response.status_code == 403 and "expired" in response.json()["detail"]


def test_cancelling_an_upload_removes_it(client, creator, version, payload):
    client.force_login(creator)
    file_id = start(client, version, name="gone.txt", size=len(payload), type="Training Data").json()["id"]
    send_parts(client, file_id, payload, numbers=[1])
    assert client.delete(f"/api/hub/uploads/{file_id}").status_code == 204
    assert not ModelFile.objects.filter(id=file_id).exists()


def test_scripts_can_use_the_same_flow_with_basic_auth(client, creator, version, run_on_commit):
    auth = "Basic " + base64.b64encode(f"{creator.username}:{PASSWORD}".encode()).decode()
    payload = b"trigger words\n"
    response = client.post(
        "/api/hub/uploads",
        {"version_id": version.id, "filename": "notes.txt", "size": len(payload), "type": "Other"},
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )
    assert response.status_code == 201, response.json()
    file_id = response.json()["id"]
    url = client.post(f"/api/hub/uploads/{file_id}/parts/1", HTTP_AUTHORIZATION=auth).json()["url"]
    assert put_part(client, url, payload)[0] == 200
    with run_on_commit():
        response = client.post(f"/api/hub/uploads/{file_id}/complete", HTTP_AUTHORIZATION=auth)
    assert response.json()["status"] == "pending"  # queued; the worker runs after the commit
    files = client.get(f"/api/hub/versions/{version.id}/files", HTTP_AUTHORIZATION=auth).json()["files"]
    assert next(f for f in files if f["id"] == file_id)["status"] == "ready"


def test_the_same_bytes_uploaded_twice_become_one_blob_and_the_uploader_is_told(
    client, creator, version, run_on_commit
):
    client.force_login(creator)
    payload = b"same bytes " * 1000
    for name in ("a.txt", "b.txt"):
        file_id = start(client, version, name=name, size=len(payload), type="Other").json()["id"]
        send_parts(client, file_id, payload)
        with run_on_commit():
            client.post(f"/api/hub/uploads/{file_id}/complete")
    assert ContentBlob.objects.filter(sha256=hashlib.sha256(payload).hexdigest().upper()).count() == 1
    files = [
        f
        for f in client.get(f"/api/hub/versions/{version.id}/files").json()["files"]
        if f["name"] != "tiny.safetensors"
    ]
    assert [(f["name"], f["status"], f["duplicate"]) for f in files] == [
        ("a.txt", "ready", False),
        ("b.txt", "ready", True),
    ]
    assert "Identical to a file already on the hub" not in str(
        files
    )  # the page says it; the API has the flag


def test_the_version_files_endpoint_reports_progress_through_the_pipeline(client, creator, version):
    client.force_login(creator)
    start(client, version, name="later.txt", size=100, type="Training Data")
    files = client.get(f"/api/hub/versions/{version.id}/files").json()["files"]
    uploading = next(f for f in files if f["name"] == "later.txt")
    assert uploading["status"] == "uploading" and uploading["finished"] is False
    assert uploading["status_label"] == "Uploading"


def test_a_part_whose_body_ends_before_its_content_length_is_refused_and_not_kept(creator, version, settings):
    """A client that announces more bytes than it sends (a dropped connection, a lying header)."""
    if settings.S3_BUCKET:
        pytest.skip("the hub's own part store is only used on local storage")
    from models_app import storage

    upload_id = storage.start_multipart("uploads/short")
    with pytest.raises(ValueError, match="ended after 10 of 100 bytes"):
        storage.save_local_part(
            upload_id=upload_id, part_number=1, offset=0, stream=io.BytesIO(b"x" * 10), length=100
        )
    assert storage.list_parts(key="uploads/short", upload_id=upload_id) == []


def test_a_part_over_the_part_size_limit_is_refused(client, creator, version, settings):
    if settings.S3_BUCKET:
        pytest.skip("the hub's own part endpoint is only used on local storage")
    client.force_login(creator)
    file_id = start(client, version, name="fat.txt", size=100, type="Other").json()["id"]
    url = client.post(f"/api/hub/uploads/{file_id}/parts/1").json()["url"].removeprefix("http://testserver")
    response = client.put(url, b"x" * (2 * PART + 1), content_type="application/octet-stream")
    assert response.status_code == 413 and "exactly 100 bytes" in response.json()["detail"]


def test_a_version_whose_only_file_is_still_uploading_cannot_be_published(client, creator):
    from models_app import services

    model = services.create_model(owner=creator, name="Not yet", type="LORA")
    version = services.create_version(model=model, name="v1", base_model="SD 1.5")
    client.force_login(creator)
    start(client, version, name="slow.safetensors", size=10_000)
    response = client.post(f"/api/hub/versions/{version.id}/publish")
    assert response.status_code == 400 and "upload has finished" in response.json()["detail"]


def test_scripts_can_use_an_api_key_for_the_upload_api(client, creator, version):
    from community.models import ApiKey

    _, key = ApiKey.create(user=creator, name="script")
    response = client.post(
        "/api/hub/uploads",
        {"version_id": version.id, "filename": "notes.txt", "size": 10, "type": "Other"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 201
    bad = client.post(
        "/api/hub/uploads",
        {"version_id": version.id, "filename": "x.txt", "size": 10, "type": "Other"},
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer not-a-key",
    )
    assert bad.status_code in (401, 403) and bad.json()["detail"] == "Unauthorized"

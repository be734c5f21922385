"""Resuming an upload from another browser: the uploader asks the hub for an unfinished upload of the
same file (name and size) and gets the parts already stored, each with its MD5 (issue 12)."""

import hashlib
import os

import pytest

from models_app.models import FileStatus, ModelFile
from tests.factories import make_model

from .test_uploads import PART, put_part, send_parts, start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("small_parts")]


@pytest.fixture
def payload():
    return os.urandom(2 * PART + 777)  # three parts


def lookup(client, version, name, size):
    return client.get("/api/hub/uploads", {"version": version.id, "name": name, "size": size})


def test_an_unfinished_upload_is_found_by_name_and_size_with_its_parts_and_their_md5(
    client, creator, version, payload
):
    client.force_login(creator)
    file_id = start(client, version, name="resume.txt", size=len(payload), type="Training Data").json()["id"]
    send_parts(client, file_id, payload, numbers=[1, 3])

    response = lookup(client, version, "resume.txt", len(payload))
    assert response.status_code == 200
    [upload] = response.json()["uploads"]
    assert (upload["id"], upload["key"], upload["status"]) == (file_id, str(file_id), "uploading")
    assert upload["uploadId"] == ModelFile.objects.get(id=file_id).multipart_upload_id
    assert upload["part_size"] == PART and upload["uploaded_bytes"] == PART + 777
    parts = {p["PartNumber"]: p for p in upload["parts"]}
    assert sorted(parts) == [1, 3]
    assert parts[1]["ETag"].strip('"') == hashlib.md5(payload[:PART]).hexdigest()
    assert parts[3]["ETag"].strip('"') == hashlib.md5(payload[2 * PART :]).hexdigest()
    assert parts[3]["Size"] == 777


def test_another_size_another_name_or_a_finished_upload_is_not_offered(
    client, creator, version, payload, run_on_commit
):
    client.force_login(creator)
    file_id = start(client, version, name="done.txt", size=len(payload), type="Training Data").json()["id"]
    assert lookup(client, version, "done.txt", len(payload) + 1).json() == {"uploads": []}
    assert lookup(client, version, "other.txt", len(payload)).json() == {"uploads": []}
    send_parts(client, file_id, payload)
    with run_on_commit():
        assert client.post(f"/api/hub/uploads/{file_id}/complete").status_code == 200
    assert ModelFile.objects.get(id=file_id).status == FileStatus.READY
    assert lookup(client, version, "done.txt", len(payload)).json() == {"uploads": []}


def test_a_resumed_upload_replaces_a_part_that_differs_and_completes_with_the_new_bytes(
    client, creator, version, payload, run_on_commit
):
    """What the browser does when the MD5 of a stored part differs from its own file's: send it again."""
    client.force_login(creator)
    other = os.urandom(len(payload))  # another file with the same name and size
    file_id = start(client, version, name="same.txt", size=len(payload), type="Training Data").json()["id"]
    send_parts(client, file_id, other, numbers=[1])
    [upload] = lookup(client, version, "same.txt", len(payload)).json()["uploads"]
    [part] = upload["parts"]
    assert part["ETag"].strip('"') != hashlib.md5(payload[:PART]).hexdigest()
    send_parts(client, file_id, payload, numbers=[1, 2, 3])  # part 1 again, then the rest
    with run_on_commit():
        assert client.post(f"/api/hub/uploads/{file_id}/complete").status_code == 200
    assert ModelFile.objects.get(id=file_id).blob.sha256 == hashlib.sha256(payload).hexdigest().upper()


def test_only_the_creator_may_look_up_uploads(client, creator, fan, moderator, version, payload):
    client.force_login(creator)
    start(client, version, name="mine.txt", size=len(payload), type="Training Data")
    client.logout()
    response = lookup(client, version, "mine.txt", len(payload))
    assert response.status_code == 401 and "detail" in response.json()
    client.force_login(fan)
    assert lookup(client, version, "mine.txt", len(payload)).status_code == 404  # a draft: not confirmed
    client.force_login(moderator)  # moderators see the draft, but uploads are the creator's own
    assert lookup(client, version, "mine.txt", len(payload)).status_code == 403


def test_a_published_version_of_someone_else_is_403(client, creator, fan):
    version = make_model(creator).versions.get()
    client.force_login(fan)
    assert lookup(client, version, "tiny.safetensors", 100).status_code == 403


def test_bad_parameters_are_a_400_that_names_them(client, creator, version):
    client.force_login(creator)
    response = client.get("/api/hub/uploads", {"version": "x", "size": "-1"})
    assert response.status_code == 400
    assert set(response.json()) == {"version", "name", "size"}
    assert lookup(client, version, "x.txt", 10).status_code == 200
    assert client.get("/api/hub/uploads", {"version": 999999, "name": "a", "size": 1}).status_code == 404


def test_a_part_put_again_replaces_the_earlier_one(client, creator, version, payload):
    client.force_login(creator)
    file_id = start(client, version, name="again.txt", size=len(payload), type="Training Data").json()["id"]
    for data in (os.urandom(PART), payload[:PART]):
        url = client.post(f"/api/hub/uploads/{file_id}/parts/1").json()["url"]
        assert put_part(client, url, data)[0] == 200
    [upload] = lookup(client, version, "again.txt", len(payload)).json()["uploads"]
    assert [p["ETag"].strip('"') for p in upload["parts"]] == [hashlib.md5(payload[:PART]).hexdigest()]


def test_numbers_too_large_for_the_database_are_a_400_not_a_crash(client, creator, version):
    client.force_login(creator)
    huge = 10**30
    for params in (
        {"version": huge, "name": "a.txt", "size": 1},
        {"version": version.id, "name": "a", "size": huge},
    ):
        assert client.get("/api/hub/uploads", params).status_code == 400

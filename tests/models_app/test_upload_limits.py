"""Uploads can't fill the disk (issue 11): every part is held to the declared size, only the parts
that size needs can be signed, a user has only so many uploads open, a refused or cancelled upload
leaves no part behind, and a periodic sweep stops abandoned uploads and deletes their parts.

Runs on local disk and (in CI) on the S3 server; what storage still holds is read from storage itself:
S3's list of multipart uploads, or the parts folder on local disk.
"""

import os
import threading
import time
import urllib.parse
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from models_app import services, storage
from models_app.models import FileStatus, ModelFile
from models_app.tasks import sweep_abandoned_uploads
from tests.factories import make_model, make_user

from .test_uploads import PART, put_part, send_parts, start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("small_parts")]

DAY = 24 * 3600


def stored_parts(key: str, upload_id: str) -> list[int] | None:
    """The part numbers storage holds for an upload, or None when storage has no such upload at all."""
    if storage.is_s3():
        from django.conf import settings

        listed = storage.s3_client().list_multipart_uploads(Bucket=settings.S3_BUCKET, Prefix=key)
        if upload_id not in [u["UploadId"] for u in listed.get("Uploads", [])]:
            return None
        return [p["PartNumber"] for p in storage.list_parts(key=key, upload_id=upload_id)]
    folder = Path(storage.model_storage().path(f"{storage.MULTIPART_DIR}/{upload_id}"))
    if not folder.is_dir():
        return None
    return sorted(int(p.name.partition(".")[0]) for p in folder.iterdir() if p.name[0].isdigit())


def open_upload(client, version, *, name: str, size: int) -> ModelFile:
    response = start(client, version, name=name, size=size, type="Other")
    assert response.status_code == 201, response.json()
    return ModelFile.objects.get(id=response.json()["id"])


def sign(client, file_id: int, number: int):
    return client.post(f"/api/hub/uploads/{file_id}/parts/{number}")


def age(model_file: ModelFile, seconds: int) -> None:
    """Make an upload look untouched for `seconds`: its row, and on local disk its parts folder."""
    ModelFile.objects.filter(id=model_file.id).update(updated_at=timezone.now() - timedelta(seconds=seconds))
    if not storage.is_s3():
        age_local_folder(model_file.multipart_upload_id, seconds)


def age_local_folder(upload_id: str, seconds: int) -> None:
    then = time.time() - seconds
    os.utime(storage.model_storage().path(f"{storage.MULTIPART_DIR}/{upload_id}"), (then, then))


# --- Every part is exactly as long as the declared size says.


def test_the_part_endpoint_refuses_a_part_longer_than_the_declared_size_before_storing_a_byte(
    client, creator, version
):
    if storage.is_s3():
        pytest.skip("the hub's own part endpoint is only used on local storage")
    client.force_login(creator)
    upload = open_upload(client, version, name="one-byte.txt", size=1)
    url = sign(client, upload.id, 1).json()["url"].removeprefix("http://testserver")
    response = client.put(url, b"x" * (3 * 1024 * 1024), content_type="application/octet-stream")
    assert response.status_code == 413
    assert "must be exactly 1 byte" in response.json()["detail"]
    response = client.put(url, b"", content_type="application/octet-stream")
    assert response.status_code == 411
    assert stored_parts(upload.upload_key, upload.multipart_upload_id) == []


def test_the_part_endpoint_refuses_a_part_shorter_than_its_place_in_the_file_needs(client, creator, version):
    if storage.is_s3():
        pytest.skip("the hub's own part endpoint is only used on local storage")
    client.force_login(creator)
    upload = open_upload(client, version, name="two-parts.txt", size=PART + 10)
    url = sign(client, upload.id, 1).json()["url"].removeprefix("http://testserver")
    response = client.put(url, b"x" * 10, content_type="application/octet-stream")
    assert response.status_code == 400
    assert f"must be exactly {PART:,} bytes" in response.json()["detail"]
    assert stored_parts(upload.upload_key, upload.multipart_upload_id) == []


def test_a_part_longer_than_the_declared_size_allows_never_becomes_a_file_and_is_deleted(
    client, creator, version
):
    """On local disk the part endpoint refuses it outright. On S3 the signed length makes S3 refuse it;
    moto doesn't check signatures and stores it, so complete finds the wrong size and deletes it."""
    client.force_login(creator)
    upload = open_upload(client, version, name="liar.txt", size=PART + 100)  # parts of PART and 100
    send_parts(client, upload.id, os.urandom(PART), numbers=[1])
    status, _ = put_part(client, sign(client, upload.id, 2).json()["url"], os.urandom(PART))
    if storage.is_s3():
        assert status == 200  # moto; real S3 answers 403 to a length the signature does not cover
        assert stored_parts(upload.upload_key, upload.multipart_upload_id) == [1, 2]
    else:
        assert status == 413
    response = client.post(f"/api/hub/uploads/{upload.id}/complete")
    assert response.status_code == 400
    detail = response.json()["detail"]
    if storage.is_s3():
        assert f"part 2 should be 100 bytes, but {PART:,} bytes arrived" in detail
    assert "upload the file again" in detail
    assert stored_parts(upload.upload_key, upload.multipart_upload_id) is None
    assert not storage.model_storage().exists(upload.upload_key)
    files = client.get(f"/api/hub/versions/{version.id}/files").json()["files"]
    shown = next(f for f in files if f["id"] == upload.id)
    assert shown["status"] == "rejected" and shown["status_message"] == detail and shown["upload_id"] is None
    assert shown["scan_status"] == "not_scanned"  # final and consistent, never "pending" forever


def test_a_presigned_s3_part_url_signs_the_length_the_part_must_have(client, creator, version):
    if not storage.is_s3():
        pytest.skip("presigned URLs are S3's")
    client.force_login(creator)
    upload = open_upload(client, version, name="signed.txt", size=PART + 100)
    url = sign(client, upload.id, 2).json()["url"]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert "content-length" in query["X-Amz-SignedHeaders"][0].split(";")


def test_an_upload_keeps_the_part_size_it_was_told_when_the_setting_changes(
    client, creator, version, settings, run_on_commit
):
    client.force_login(creator)
    payload = os.urandom(PART + 5)
    response = start(client, version, name="steady.txt", size=len(payload), type="Other")
    assert response.json()["part_size"] == PART
    settings.UPLOAD_PART_SIZE = 2 * PART  # an operator changes it while the upload is under way
    send_parts(client, response.json()["id"], payload)
    with run_on_commit():
        response = client.post(f"/api/hub/uploads/{response.json()['id']}/complete")
    assert response.status_code == 200, response.json()
    assert ModelFile.objects.get(id=response.json()["id"]).status == FileStatus.READY


# --- Only the parts the declared size needs can be signed.


def test_only_the_parts_the_declared_size_needs_can_be_signed(client, creator, version):
    client.force_login(creator)
    three = open_upload(client, version, name="three.txt", size=2 * PART + 1)
    assert sign(client, three.id, 3).status_code == 200
    for number in (0, 4, 10_000, 2**40):
        response = sign(client, three.id, number)
        assert response.status_code == 400, number
        assert "it has parts 1 to 3" in response.json()["detail"]
    tiny = open_upload(client, version, name="tiny.txt", size=1)
    response = sign(client, tiny.id, 2)
    assert response.status_code == 400 and "it has only part 1" in response.json()["detail"]


def test_a_file_that_would_need_more_than_ten_thousand_parts_is_refused_at_the_start(
    client, creator, version, settings
):
    settings.UPLOAD_PART_SIZE = 1024
    client.force_login(creator)
    response = start(client, version, name="many.txt", size=10_001 * 1024, type="Other")
    assert response.status_code == 400 and "10,000 parts" in response.json()["detail"]
    assert not ModelFile.objects.filter(name="many.txt").exists()


# --- A user has only so many uploads open.


def test_a_user_can_have_only_so_many_uploads_open_at_once(client, creator, fan, version, settings):
    settings.MAX_OPEN_UPLOADS = 2
    client.force_login(creator)
    first = open_upload(client, version, name="a.txt", size=10)
    open_upload(client, version, name="b.txt", size=10)
    response = start(client, version, name="c.txt", size=10, type="Other")
    assert response.status_code == 400
    assert response.json()["detail"] == (
        "You already have 2 uploads in progress, the most the hub allows at once; finish or cancel one "
        "of them before starting 'c.txt'."
    )
    assert not ModelFile.objects.filter(name="c.txt").exists()
    assert client.delete(f"/api/hub/uploads/{first.id}").status_code == 204
    assert start(client, version, name="c.txt", size=10, type="Other").status_code == 201
    # Another creator's uploads are counted for them alone.
    client.force_login(fan)
    fans_version = make_model(fan, name="Fan's", publish=False).versions.get()
    assert start(client, fans_version, name="d.txt", size=10, type="Other").status_code == 201


def test_the_bytes_a_user_announces_across_open_uploads_are_capped(
    client, creator, version, settings, run_on_commit
):
    settings.MAX_OPEN_UPLOAD_BYTES = 1000
    client.force_login(creator)
    first = open_upload(client, version, name="six.txt", size=600)
    response = start(client, version, name="five.txt", size=500, type="Other")
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "already add up to 600 bytes" in detail and "1,000 bytes" in detail
    assert "Finish or cancel an upload first" in detail
    assert start(client, version, name="four.txt", size=400, type="Other").status_code == 201  # 1,000
    send_parts(client, first.id, os.urandom(600))
    with run_on_commit():
        assert client.post(f"/api/hub/uploads/{first.id}/complete").status_code == 200
    assert start(client, version, name="five.txt", size=500, type="Other").status_code == 201


@pytest.mark.django_db(transaction=True)
def test_uploads_started_at_the_same_moment_cannot_all_slip_under_the_cap(base_models, settings):
    settings.MAX_OPEN_UPLOADS = 1
    user = make_user("gus")
    version = make_model(user, publish=False).versions.get()
    barrier, outcomes = threading.Barrier(4), []

    def start_one(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            services.start_upload(version=version, by=user, filename=f"f{n}.txt", size=10, type="Other")
            outcomes.append("started")
        except ValidationError as exc:
            outcomes.append(exc.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=start_one, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.count("started") == 1, outcomes
    assert all("1 uploads in progress" in o for o in outcomes if o != "started")
    assert ModelFile.objects.filter(status=FileStatus.UPLOADING).count() == 1


# --- A refused or cancelled upload leaves no part behind.


def test_a_refused_complete_deletes_the_parts_says_why_and_the_file_can_be_sent_again(
    client, creator, version, run_on_commit
):
    client.force_login(creator)
    payload = os.urandom(2 * PART + 7)
    upload = open_upload(client, version, name="gap.txt", size=len(payload))
    send_parts(client, upload.id, payload, numbers=[1, 3])
    assert stored_parts(upload.upload_key, upload.multipart_upload_id) == [1, 3]
    response = client.post(f"/api/hub/uploads/{upload.id}/complete")
    assert response.status_code == 400
    assert response.json()["detail"] == (
        "Parts 2 of 'gap.txt' never arrived. The upload was stopped and its parts deleted; "
        "upload the file again."
    )
    assert stored_parts(upload.upload_key, upload.multipart_upload_id) is None
    # Uppy resuming the stopped upload is told why, not sent on.
    assert sign(client, upload.id, 2).json()["detail"] == response.json()["detail"]
    assert client.get(f"/api/hub/uploads/{upload.id}/parts").json()["detail"] == response.json()["detail"]
    again = open_upload(client, version, name="gap.txt", size=len(payload))
    send_parts(client, again.id, payload)
    with run_on_commit():
        assert client.post(f"/api/hub/uploads/{again.id}/complete").status_code == 200
    assert ModelFile.objects.get(id=again.id).status == FileStatus.READY


def test_cancelling_an_upload_deletes_its_parts_from_storage(client, creator, version):
    client.force_login(creator)
    upload = open_upload(client, version, name="gone.txt", size=2 * PART)
    send_parts(client, upload.id, os.urandom(2 * PART))
    assert stored_parts(upload.upload_key, upload.multipart_upload_id) == [1, 2]
    assert client.delete(f"/api/hub/uploads/{upload.id}").status_code == 204
    assert stored_parts(upload.upload_key, upload.multipart_upload_id) is None
    assert not ModelFile.objects.filter(id=upload.id).exists()
    assert client.delete(f"/api/hub/uploads/{upload.id}").status_code == 404


# --- The sweep stops abandoned uploads.


def test_the_sweep_stops_an_abandoned_upload_and_leaves_a_fresh_one_alone(client, creator, version):
    client.force_login(creator)
    old = open_upload(client, version, name="old.txt", size=2 * PART)
    fresh = open_upload(client, version, name="fresh.txt", size=2 * PART)
    for upload in (old, fresh):
        send_parts(client, upload.id, os.urandom(2 * PART), numbers=[1])
    age(old, 8 * DAY)
    age(fresh, 6 * DAY)

    assert sweep_abandoned_uploads() == 1

    assert stored_parts(old.upload_key, old.multipart_upload_id) is None
    assert stored_parts(fresh.upload_key, fresh.multipart_upload_id) == [1]
    files = {f["name"]: f for f in client.get(f"/api/hub/versions/{version.id}/files").json()["files"]}
    assert files["old.txt"]["status"] == "rejected" and files["old.txt"]["finished"] is True
    assert files["old.txt"]["scan_status"] == "not_scanned"
    assert files["old.txt"]["status_message"] == (
        "This upload was left unfinished for more than 7 days, so it was stopped and its parts "
        "deleted; upload the file again."
    )
    assert files["fresh.txt"]["status"] == "uploading"
    response = sign(client, old.id, 2)  # the creator comes back to it
    assert response.status_code == 400 and "more than 7 days" in response.json()["detail"]
    assert sign(client, fresh.id, 2).status_code == 200


def test_the_sweep_is_safe_to_run_twice(client, creator, version):
    client.force_login(creator)
    upload = open_upload(client, version, name="twice.txt", size=PART)
    send_parts(client, upload.id, os.urandom(PART))
    age(upload, 8 * DAY)
    assert sweep_abandoned_uploads() == 1
    swept = ModelFile.objects.get(id=upload.id)
    assert sweep_abandoned_uploads() == 0
    again = ModelFile.objects.get(id=upload.id)
    assert (again.status, again.status_message, again.updated_at) == (
        swept.status,
        swept.status_message,
        swept.updated_at,
    )
    assert stored_parts(upload.upload_key, upload.multipart_upload_id) is None


def test_an_upload_that_keeps_signing_parts_is_not_abandoned(client, creator, version):
    client.force_login(creator)
    upload = open_upload(client, version, name="slow.txt", size=2 * PART)
    send_parts(client, upload.id, os.urandom(2 * PART), numbers=[1])
    age(upload, 8 * DAY)
    assert sign(client, upload.id, 2).status_code == 200  # the creator resumes, a week later
    assert sweep_abandoned_uploads() == 0
    assert ModelFile.objects.get(id=upload.id).status == FileStatus.UPLOADING
    assert stored_parts(upload.upload_key, upload.multipart_upload_id) == [1]


def test_the_sweep_deletes_old_parts_that_no_upload_names(client, creator, version):
    """Parts a crash left behind: an upload storage opened for a start whose transaction failed, or a
    row closed by a process that died before deleting its parts. moto reports every multipart upload
    as begun in 2010, so on S3 the orphan is old already."""
    client.force_login(creator)
    orphan_key = storage.new_upload_key("crash.txt")
    orphan_id = storage.start_multipart(orphan_key)
    named = open_upload(client, version, name="named.txt", size=PART)
    send_parts(client, named.id, os.urandom(PART))
    if not storage.is_s3():
        age_local_folder(orphan_id, 8 * DAY)
        age_local_folder(named.multipart_upload_id, 8 * DAY)  # its row was touched today
    assert stored_parts(orphan_key, orphan_id) == []

    assert sweep_abandoned_uploads() == 0  # no upload was stopped; the orphan had none

    assert stored_parts(orphan_key, orphan_id) is None
    assert stored_parts(named.upload_key, named.multipart_upload_id) == [1]


def test_the_sweep_leaves_fresh_parts_alone_even_when_no_upload_names_them_yet(settings):
    if storage.is_s3():
        pytest.skip("moto reports every multipart upload as begun in 2010; S3 itself gives the real time")
    key = storage.new_upload_key("starting.txt")
    upload_id = storage.start_multipart(key)  # its row is about to be committed
    sweep_abandoned_uploads()
    assert stored_parts(key, upload_id) == []


def test_celery_beat_runs_the_abandoned_uploads_sweep_every_hour(settings):
    from hub.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["sweep-abandoned-uploads"]
    assert entry["task"] == "models_app.tasks.sweep_abandoned_uploads" and entry["task"] in app.tasks
    assert entry["schedule"] == 3600

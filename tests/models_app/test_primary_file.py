"""The primary file (what a download without parameters gives) is always a ready file, or there is
none: uploads in progress, rejected, quarantined and failed files never are (issue 12)."""

import io
import os

import pytest

from models_app import demo, services
from models_app.models import FileStatus, ModelFile, ScanStatus
from models_app.tasks import process_file, sweep_abandoned_uploads
from tests.factories import make_model

from .test_uploads import PART, send_parts, start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("small_parts")]


@pytest.fixture
def empty_version(creator):
    model = services.create_model(owner=creator, name="No Files Yet", type="LORA")
    return services.create_version(model=model, name="v1", base_model="SD 1.5")


def files_of(client, version) -> dict:
    response = client.get(f"/api/hub/versions/{version.id}/files")
    assert response.status_code == 200
    return {f["name"]: f for f in response.json()["files"]}


def test_an_upload_becomes_primary_only_once_it_is_ready(client, creator, empty_version, run_on_commit):
    client.force_login(creator)
    payload = demo.tiny_lora()
    response = start(client, empty_version, name="style.safetensors", size=len(payload))
    assert response.status_code == 201 and response.json()["primary"] is False
    file_id = response.json()["id"]
    assert files_of(client, empty_version)["style.safetensors"]["primary"] is False
    send_parts(client, file_id, payload)
    with run_on_commit():
        assert client.post(f"/api/hub/uploads/{file_id}/complete").status_code == 200
    shown = files_of(client, empty_version)["style.safetensors"]
    assert (shown["status"], shown["primary"]) == ("ready", True)
    assert ModelFile.objects.get(id=file_id).is_primary


def test_a_version_with_only_unfinished_and_rejected_files_has_no_primary_and_nothing_breaks(
    client, creator, moderator, empty_version
):
    client.force_login(creator)
    payload = os.urandom(2 * PART)
    unfinished = start(client, empty_version, name="big.safetensors", size=len(payload)).json()["id"]
    send_parts(client, unfinished, payload, numbers=[1])
    refused = start(client, empty_version, name="gap.safetensors", size=len(payload)).json()["id"]
    send_parts(client, refused, payload, numbers=[2])
    assert client.post(f"/api/hub/uploads/{refused}/complete").status_code == 400  # part 1 never came

    shown = files_of(client, empty_version)
    assert shown["big.safetensors"]["status"] == "uploading"
    assert shown["gap.safetensors"]["status"] == "rejected"
    assert not any(f["primary"] for f in shown.values())
    assert not ModelFile.objects.filter(version=empty_version, is_primary=True).exists()
    model = empty_version.model
    for who in (creator, moderator):
        client.force_login(who)
        page = client.get(model.get_absolute_url())
        assert page.status_code == 200 and "big.safetensors" in page.content.decode()
        assert ">primary<" not in page.content.decode()
        # Both APIs answer: the CivitAI one leaves out a version with no file to offer.
        civitai = client.get(f"/api/v1/models/{model.id}")
        assert civitai.status_code == 200 and civitai.json()["modelVersions"] == []
        assert client.get(f"/api/v1/model-versions/{empty_version.id}").json() == {
            "error": "Missing model file"
        }
        assert client.get(f"/api/models/{creator.username}/{model.slug}").status_code == 200
    assert client.get(f"/models/{model.id}/versions/{empty_version.id}/files").status_code == 403  # not his
    client.force_login(creator)
    assert client.get(f"/models/{model.id}/versions/{empty_version.id}/files").status_code == 200
    # Downloading the version gives nothing rather than an unfinished file.
    assert client.get(f"/api/download/models/{empty_version.id}").status_code == 404


def test_a_file_asked_to_be_primary_waits_until_it_is_ready(client, creator, run_on_commit):
    version = make_model(creator).versions.get()
    first = version.files.get()
    assert first.is_primary
    client.force_login(creator)
    payload, name = demo.tiny_checkpoint(), "better.safetensors"
    response = start(client, version, name=name, size=len(payload), is_primary=True, type="Model")
    assert response.status_code == 201, response.json()
    file_id = response.json()["id"]
    shown = files_of(client, version)
    assert (shown[first.name]["primary"], shown[name]["primary"]) == (True, False)  # still uploading
    send_parts(client, file_id, payload)
    with run_on_commit():
        assert client.post(f"/api/hub/uploads/{file_id}/complete").status_code == 200
    shown = files_of(client, version)
    assert shown[name]["status"] == "ready", shown[name]["status_message"]
    assert (shown[first.name]["primary"], shown[name]["primary"]) == (False, True)


def test_a_primary_that_ends_badly_hands_the_flag_to_a_ready_model_file(creator, run_on_commit):
    model = make_model(creator, publish=False)
    version = model.versions.get()
    first = version.files.get()
    process_file.apply(args=[first.id])
    with run_on_commit():
        second = services.add_file(
            version=version,
            name="pruned.safetensors",
            content=io.BytesIO(demo.tiny_vae()),
            type="Pruned Model",
        )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_primary, second.is_primary, second.status) == (True, False, FileStatus.READY)

    # The first file goes through the worker again and fails this time: the version's primary
    # becomes the other ready model file.
    ModelFile.objects.filter(id=first.id).update(
        status=FileStatus.PENDING, blob=None, upload_key="", scan_status=ScanStatus.PENDING
    )
    first.refresh_from_db()
    from models_app import processing

    processing.mark_file_failed(model_file=first, status=FileStatus.ERROR, message="Storage broke.")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_primary, second.is_primary) == (False, True)


def test_an_abandoned_upload_flagged_primary_before_the_rule_loses_the_flag(
    client, creator, empty_version, settings
):
    client.force_login(creator)
    upload = start(client, empty_version, name="old.safetensors", size=PART).json()["id"]
    ModelFile.objects.filter(id=upload).update(is_primary=True)  # as rows made before issue 12 were
    assert files_of(client, empty_version)["old.safetensors"]["primary"] is False  # never shown as one
    settings.ABANDONED_UPLOAD_AFTER = 0
    assert sweep_abandoned_uploads() == 1
    swept = ModelFile.objects.get(id=upload)
    assert (swept.status, swept.is_primary) == (FileStatus.REJECTED, False)

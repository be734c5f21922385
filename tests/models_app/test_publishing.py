"""A version becomes public only once its files passed their checks, and leaves if one is quarantined."""

import io

import pytest
from django.test import Client

from models_app import demo, services
from models_app.models import AIModel, FileStatus, ModelFile, PublishStatus
from models_app.tasks import process_file
from tests.factories import make_model
from tests.models_app.test_scanning import exec_writing, torch_zip

pytestmark = pytest.mark.django_db


def api(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def public_names(client) -> list[str]:
    return [item["name"] for item in client.get("/api/v1/models").json()["items"]]


def draft_with_file(creator, content: bytes, filename: str):
    """A draft whose file has been uploaded and is waiting for the worker (its task not run yet)."""
    model = make_model(
        creator, name="Fresh Upload", type="Checkpoint", publish=False, content=content, filename=filename
    )
    version = model.versions.get()
    assert version.files.get().status == FileStatus.PENDING
    return model, version


def test_publishing_a_malicious_checkpoint_right_after_upload_never_makes_it_public(
    creator, client, tmp_path
):
    """The finding: complete the upload of a malicious .ckpt, publish at once, and the quarantine used
    to land after the version was public."""
    model, version = draft_with_file(creator, torch_zip(exec_writing(tmp_path / "pwned")), "evil.ckpt")

    response = api(creator).post(f"/api/hub/versions/{version.id}/publish")

    assert response.status_code == 202 and response.json()["publish_when_ready"] is True
    version.refresh_from_db()
    assert version.status == PublishStatus.DRAFT and "Fresh Upload" not in public_names(client)
    model_file = version.files.get(name="evil.ckpt")
    process_file.apply(args=[model_file.id])  # the worker gets to the file
    model_file.refresh_from_db()
    version.refresh_from_db()
    model.refresh_from_db()
    assert model_file.status == FileStatus.QUARANTINED
    assert version.status == PublishStatus.DRAFT and not version.publish_when_ready
    assert model.status == PublishStatus.DRAFT and "Fresh Upload" not in public_names(client)
    assert not (tmp_path / "pwned").exists()


def test_a_publish_asked_for_during_processing_happens_when_the_files_pass(creator, client):
    model, version = draft_with_file(creator, demo.tiny_checkpoint(), "good.safetensors")
    assert services.publish_version(version=version, by=creator).publish_when_ready
    assert "Fresh Upload" not in public_names(client)

    assert process_file.apply(args=[version.files.get().id]).get() == FileStatus.READY

    version.refresh_from_db()
    assert version.status == PublishStatus.PUBLISHED and not version.publish_when_ready
    assert public_names(client) == ["Fresh Upload"]


def test_a_queued_publish_waits_for_the_last_file(creator):
    model, version = draft_with_file(creator, demo.tiny_checkpoint(), "good.safetensors")
    second = services.add_file(
        version=version, name="vae.safetensors", content=io.BytesIO(demo.tiny_vae()), type="VAE"
    )
    services.publish_version(version=version, by=creator)
    process_file.apply(args=[version.files.get(name="good.safetensors").id])
    version.refresh_from_db()
    assert version.status == PublishStatus.DRAFT and version.publish_when_ready
    process_file.apply(args=[second.id])
    version.refresh_from_db()
    assert version.status == PublishStatus.PUBLISHED


def test_the_publish_button_says_the_version_is_waiting_for_its_checks(creator):
    model, version = draft_with_file(creator, demo.tiny_checkpoint(), "good.safetensors")
    client = api(creator)
    response = client.post(f"/models/{model.id}/versions/{version.id}/publish", follow=True)
    html = response.content.decode()
    assert "will be published as soon as its files pass their checks" in html
    assert 'data-testid="publish-queued"' in html and 'data-testid="publish"' not in html


def test_a_version_with_a_quarantined_file_cannot_be_published(creator, tmp_path, run_on_commit):
    with run_on_commit():
        model = make_model(
            creator, publish=False, content=torch_zip(exec_writing(tmp_path / "x")), filename="evil.ckpt"
        )
    version = model.versions.get()
    response = api(creator).post(f"/api/hub/versions/{version.id}/publish")
    assert response.status_code == 400
    assert "'evil.ckpt' was quarantined" in response.json()["detail"]
    version.refresh_from_db()
    assert version.status == PublishStatus.DRAFT and not version.publish_when_ready


def test_a_file_quarantined_after_publishing_takes_its_version_down(creator, client, run_on_commit, tmp_path):
    model = make_model(creator, name="Was Fine")
    version = model.versions.get()
    assert public_names(client) == ["Was Fine"]

    with run_on_commit():  # a later file of the same version is malicious
        services.add_file(
            version=version, name="extra.ckpt", content=io.BytesIO(torch_zip(exec_writing(tmp_path / "y")))
        )

    assert ModelFile.objects.get(name="extra.ckpt").status == FileStatus.QUARANTINED
    version.refresh_from_db()
    model.refresh_from_db()
    assert version.status == PublishStatus.UNPUBLISHED and model.status == PublishStatus.UNPUBLISHED
    assert public_names(client) == []
    assert client.get(model.get_absolute_url()).status_code == 404
    owner_view = api(creator).get(model.get_absolute_url())
    assert owner_view.status_code == 200  # the creator still sees it, and why
    assert AIModel.objects.filter(id=model.id).exists()


def test_another_public_version_keeps_the_model_public(creator, client, run_on_commit, tmp_path):
    model = make_model(creator, name="Two Versions")
    v2 = services.create_version(model=model, name="v2.0", base_model="SD 1.5")
    with run_on_commit():
        services.add_file(version=v2, name="v2.safetensors", content=io.BytesIO(demo.tiny_lora()))
    services.publish_version(version=v2, by=creator)
    with run_on_commit():
        services.add_file(
            version=v2, name="bad.ckpt", content=io.BytesIO(torch_zip(exec_writing(tmp_path / "z")))
        )
    v2.refresh_from_db()
    model.refresh_from_db()
    assert v2.status == PublishStatus.UNPUBLISHED and model.status == PublishStatus.PUBLISHED
    assert public_names(client) == ["Two Versions"]

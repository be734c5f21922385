"""Creators control what they publish (issue 12): edit, unpublish, delete, on pages and in the hub API.

Every API operation is checked in the hub's authorization style: the creator and a moderator may,
someone else gets 403, nobody logged in gets 401. Unpublished and deleted things are checked where a
user would look for them: lists, search, both compatible APIs, downloads, and the bytes on storage.
"""

import io
import urllib.request

import pytest
from django.test import Client

from models_app import demo, services, storage
from models_app.models import (
    AIModel,
    ContentBlob,
    FileStatus,
    FormerSlug,
    ModelFile,
    ModelVersion,
    PublishStatus,
)
from tests.factories import add_file, make_model, publish_model

pytestmark = pytest.mark.django_db


def as_user(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def call(client, method: str, url: str, data=None):
    if method == "patch":
        return client.patch(url, data or {}, content_type="application/json")
    if method == "delete":
        return client.delete(url)
    return client.post(url, data or {}, content_type="application/json")


@pytest.fixture
def version(creator, run_on_commit):
    return publish_model(creator, run_on_commit)


def _operations(version):
    model_file = version.files.get()
    return {
        "patch model": ("patch", f"/api/hub/models/{version.model_id}", {"nsfw": True}),
        "patch version": ("patch", f"/api/hub/versions/{version.id}", {"trained_words": ["wet"]}),
        "unpublish version": ("post", f"/api/hub/versions/{version.id}/unpublish", None),
        "unpublish model": ("post", f"/api/hub/models/{version.model_id}/unpublish", None),
        "primary file": ("post", f"/api/hub/files/{model_file.id}/primary", None),
        "delete file": ("delete", f"/api/hub/files/{model_file.id}", None),
        "delete version": ("delete", f"/api/hub/versions/{version.id}", None),
        "delete model": ("delete", f"/api/hub/models/{version.model_id}", None),
    }


OPERATIONS = [
    "patch model", "patch version", "unpublish version", "unpublish model",
    "primary file", "delete file", "delete version", "delete model",
]  # fmt: skip


def _snapshot(version):
    model = AIModel.objects.get(id=version.model_id)
    return (
        model.status,
        model.nsfw,
        list(ModelVersion.objects.filter(id=version.id).values_list("status", "trained_words")),
        list(ModelFile.objects.filter(version=version).values_list("status", "is_primary")),
    )


@pytest.mark.parametrize("operation", OPERATIONS)
def test_someone_else_gets_403_and_nothing_changes(operation, version, fan):
    method, url, data = _operations(version)[operation]
    before = _snapshot(version)

    response = call(as_user(fan), method, url, data)

    assert response.status_code == 403
    assert response.json()["detail"].startswith("Only the creator of this model or a moderator can change")
    assert _snapshot(version) == before


@pytest.mark.parametrize("operation", OPERATIONS)
def test_nobody_logged_in_gets_401_and_nothing_changes(operation, version):
    method, url, data = _operations(version)[operation]
    before = _snapshot(version)

    response = call(Client(), method, url, data)

    assert response.status_code == 401
    assert _snapshot(version) == before


@pytest.mark.parametrize("who", ["creator", "moderator"])
@pytest.mark.parametrize("operation", OPERATIONS)
def test_the_creator_and_a_moderator_may(operation, who, version, request):
    method, url, data = _operations(version)[operation]

    response = call(as_user(request.getfixturevalue(who)), method, url, data)

    assert response.status_code in (200, 204), response.content
    model = AIModel.objects.get(id=version.model_id)
    version.refresh_from_db()
    model_file = ModelFile.objects.get(version=version)
    expected = {
        "patch model": lambda: model.nsfw is True,
        "patch version": lambda: version.trained_words == ["wet"],
        "unpublish version": lambda: version.status == model.status == PublishStatus.UNPUBLISHED,
        "unpublish model": lambda: version.status == model.status == PublishStatus.UNPUBLISHED,
        "primary file": lambda: response.json()["primary"] is True,
        "delete file": lambda: model_file.status == FileStatus.DELETED,
        "delete version": lambda: version.status == PublishStatus.DELETED,
        "delete model": lambda: model.status == PublishStatus.DELETED,
    }[operation]
    assert expected()


def test_someone_elses_draft_is_a_404_not_a_403(creator, fan):
    draft = make_model(creator, publish=False)

    assert call(as_user(fan), "patch", f"/api/hub/models/{draft.id}", {"name": "Mine"}).status_code == 404
    assert call(as_user(fan), "delete", f"/api/hub/models/{draft.id}").status_code == 404
    draft.refresh_from_db()
    assert draft.name == "Tiny Watercolor" and draft.status == PublishStatus.DRAFT


# --- Editing.


def test_editing_a_model_renders_its_description_and_normalises_tags(version, creator):
    response = call(
        as_user(creator),
        "patch",
        f"/api/hub/models/{version.model_id}",
        {"description": "**Soft** washes", "tags": ["Water Color", "sd1.5/anime"], "type": "LoCon"},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["description_html"] == "<p><strong>Soft</strong> washes</p>"
    assert body["tags"] == ["sd1.5 anime", "water color"] and body["type"] == "LoCon"
    page = Client().get(body["url"]).content.decode()
    assert "<strong>Soft</strong> washes" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"type": "Spaceship"}, "type"),
        ({"name": "  "}, "may not be blank"),
        ({"tags": [f"t{i}" for i in range(30)]}, "at most 20 tags"),
        ({"description": "x" * 20_001}, "description"),
    ],
)
def test_bad_edits_are_a_400_that_says_why_and_change_nothing(version, creator, data, message):
    response = call(as_user(creator), "patch", f"/api/hub/models/{version.model_id}", data)

    assert response.status_code == 400
    assert message in str(response.json())
    model = AIModel.objects.get(id=version.model_id)
    assert model.name == "Tiny Watercolor" and model.type == "LORA" and model.tags.count() == 0


def test_a_version_name_taken_by_another_version_is_refused(version, creator):
    services.create_version(model=version.model, name="v2.0", base_model="SD 1.5")

    response = call(as_user(creator), "patch", f"/api/hub/versions/{version.id}", {"name": "v2.0"})

    assert response.status_code == 400
    assert response.json() == {"detail": "This model already has a version named 'v2.0'."}


def test_shortening_early_access_to_zero_opens_downloads(version, creator, fan, client):
    call(as_user(creator), "patch", f"/api/hub/versions/{version.id}", {"early_access_days": 5})
    assert as_user(fan).get(f"/api/download/models/{version.id}").status_code == 403

    response = call(as_user(creator), "patch", f"/api/hub/versions/{version.id}", {"early_access_days": 0})

    assert response.json()["early_access_ends_at"] is None
    assert as_user(fan).get(f"/api/download/models/{version.id}").status_code in (302, 307)


def test_a_renamed_model_keeps_its_old_urls(version, creator, client):
    old_url = version.model.get_absolute_url()

    response = call(as_user(creator), "patch", f"/api/hub/models/{version.model_id}", {"name": "Wet Ink"})

    assert response.json()["slug"] == "wet-ink"
    answer = client.get(old_url)
    assert answer.status_code == 301 and answer["Location"] == f"/models/{version.model_id}/wet-ink"
    assert FormerSlug.objects.filter(model_id=version.model_id, slug="tiny-watercolor").exists()
    info = client.get("/api/models/alice/tiny-watercolor")  # the Hugging Face repo id
    assert info.status_code == 200 and info.json()["id"] == "alice/wet-ink"


# --- Pages.


def test_the_edit_pages_are_for_the_creator_and_moderators(version, creator, fan, moderator):
    model_url = f"/models/{version.model_id}/edit"
    version_url = f"/models/{version.model_id}/versions/{version.id}/edit"
    for url in (model_url, version_url):
        assert as_user(creator).get(url).status_code == 200
        assert as_user(moderator).get(url).status_code == 200
        assert as_user(fan).get(url).status_code == 403
        assert Client().get(url).status_code == 302  # to the login page
    page = as_user(creator).get(version.model.get_absolute_url()).content.decode()
    assert model_url in page and version_url in page
    assert model_url not in as_user(fan).get(version.model.get_absolute_url()).content.decode()


def test_the_edit_model_page_saves_and_shows_the_new_details(version, creator):
    client = as_user(creator)
    form = {
        "name": "Tiny Gouache",
        "type": "LORA",
        "description": "Thicker *paint*",
        "tags": "gouache, paint",
        "license": "CreativeML OpenRAIL-M",
        "allow_no_credit": "on",
        "require_login": "on",
    }

    response = client.post(f"/models/{version.model_id}/edit", form, follow=True)

    page = response.content.decode()
    assert response.redirect_chain[-1][0] == f"/models/{version.model_id}/tiny-gouache"
    assert "Tiny Gouache is saved." in page and "Thicker <em>paint</em>" in page and "gouache" in page
    model = AIModel.objects.get(id=version.model_id)
    assert model.require_login and not model.allow_derivatives


def test_the_edit_version_page_refuses_bad_input_with_the_form(version, creator):
    response = as_user(creator).post(
        f"/models/{version.model_id}/versions/{version.id}/edit",
        {"name": "v1.0", "base_model": "SD 1.5", "early_access_days": "99", "usage_control": "Download"},
    )

    assert response.status_code == 200
    assert "Ensure this value is less than or equal to 30." in response.content.decode()
    version.refresh_from_db()
    assert version.early_access_days == 0


def test_a_detected_base_model_that_disagrees_is_a_one_click_fix(version, creator):
    model_file = version.files.get()
    detected = model_file.metadata["detected"]
    ModelFile.objects.filter(id=model_file.id).update(
        metadata={**model_file.metadata, "detected": {**detected, "base_model": "SDXL 1.0"}}
    )
    client = as_user(creator)
    edit_url = f"/models/{version.model_id}/versions/{version.id}/edit"

    page = client.get(edit_url).content.decode()
    assert "looks like a <strong>SDXL 1.0</strong> model" in page and "Use SDXL 1.0" in page

    response = client.post(f"/models/{version.model_id}/versions/{version.id}/fix-base-model", follow=True)

    assert "now says SDXL 1.0" in response.content.decode()
    version.refresh_from_db()
    assert version.base_model.name == "SDXL 1.0"
    assert "Use SDXL 1.0" not in client.get(edit_url).content.decode()


# --- Unpublishing.


def _everywhere(client, model: AIModel, sha256: str, version_id: int) -> dict[str, bool]:
    """Where a visitor finds the model: True when it shows up there."""
    return {
        "/models/": model.name in client.get("/models/").content.decode(),
        "home": model.name in client.get("/").content.decode(),
        "search": model.name in client.get("/search/?q=watercolor").content.decode(),
        "hub API": model.name in client.get("/api/hub/models").content.decode(),
        "CivitAI list": any(m["id"] == model.id for m in client.get("/api/v1/models").json()["items"]),
        "CivitAI model": client.get(f"/api/v1/models/{model.id}").status_code == 200,
        "CivitAI by hash": client.get(f"/api/v1/model-versions/by-hash/{sha256}").status_code == 200,
        "HF list": any(
            m["id"] == f"alice/{model.slug}" for m in client.get("/api/models?author=alice").json()
        ),
        "HF repo": client.get(f"/api/models/alice/{model.slug}").status_code == 200,
        "download": client.get(f"/api/download/models/{version_id}").status_code in (302, 307),
        "page": client.get(model.get_absolute_url()).status_code == 200,
    }


def test_an_unpublished_model_leaves_every_list_search_and_api_and_its_downloads_stop(version, creator):
    model = version.model
    sha256 = version.files.get().blob.sha256
    assert all(_everywhere(Client(), model, sha256, version.id).values())

    call(as_user(creator), "post", f"/api/hub/models/{model.id}/unpublish")

    assert not any(_everywhere(Client(), model, sha256, version.id).values())
    page = as_user(creator).get(model.get_absolute_url()).content.decode()
    assert "Unpublished" in page and "only you and moderators see this model" in page
    assert as_user(creator).get(f"/api/download/models/{version.id}").status_code in (302, 307)
    profile = as_user(creator).get("/user/alice").content.decode()
    assert model.name in profile and "Unpublished" in profile
    assert model.name not in Client().get("/user/alice").content.decode()


def test_an_unpublished_version_can_be_published_again_from_its_page(version, creator):
    client = as_user(creator)
    client.post(f"/models/{version.model_id}/versions/{version.id}/unpublish")
    assert Client().get(version.model.get_absolute_url()).status_code == 404

    response = client.post(f"/models/{version.model_id}/versions/{version.id}/republish", follow=True)

    assert "is published again" in response.content.decode()
    assert Client().get(version.model.get_absolute_url()).status_code == 200
    assert Client().get(f"/api/download/models/{version.id}").status_code in (302, 307)


def test_unpublishing_one_version_keeps_the_model_public_with_the_other(version, creator, run_on_commit):
    other = services.create_version(model=version.model, name="v2.0", base_model="SD 1.5")
    add_file(other, run_on_commit, name="v2.safetensors", content=demo.tiny_lora())
    services.publish_version(version=other, by=creator)

    call(as_user(creator), "post", f"/api/hub/versions/{version.id}/unpublish")

    page = Client().get(version.model.get_absolute_url()).content.decode()
    assert "v2.0" in page and f'id="version-{version.id}"' not in page
    assert Client().get(f"/api/download/models/{version.id}").status_code == 404
    assert Client().get(f"/api/download/models/{other.id}").status_code in (302, 307)


# --- Deleting.


def test_a_deleted_model_is_gone_for_everyone_its_creator_included(version, creator, moderator):
    model = version.model
    as_user(creator).post(f"/models/{model.id}/delete")

    model.refresh_from_db()
    assert model.status == PublishStatus.DELETED  # a status: the row stays
    for user in (creator, moderator, None):
        client = as_user(user)
        assert client.get(model.get_absolute_url()).status_code == 404
        assert client.get(f"/api/download/models/{version.id}").status_code == 404
        assert model.name not in client.get("/user/alice").content.decode()


def test_the_delete_page_asks_first(version, creator):
    page = as_user(creator).get(f"/models/{version.model_id}/delete").content.decode()
    assert "Delete Tiny Watercolor?" in page and "can't be undone" in page
    assert AIModel.objects.get(id=version.model_id).status == PublishStatus.PUBLISHED


def test_a_draft_version_can_be_deleted(creator):
    draft = make_model(creator, publish=False).versions.get()

    response = call(as_user(creator), "delete", f"/api/hub/versions/{draft.id}")

    assert response.status_code == 204
    draft.refresh_from_db()
    assert draft.status == PublishStatus.DELETED
    assert call(as_user(creator), "delete", f"/api/hub/versions/{draft.id}").status_code == 404


def test_a_shared_blob_stays_until_the_last_file_using_it_is_deleted(version, creator, run_on_commit):
    first = version.files.get()
    other = services.create_version(model=version.model, name="v2.0", base_model="SD 1.5")
    second = add_file(other, run_on_commit, name="same-bytes.safetensors", content=demo.tiny_lora())
    assert second.blob_id == first.blob_id
    blob = first.blob
    stored = storage.model_storage()
    assert stored.exists(blob.storage_key)

    with run_on_commit():
        assert call(as_user(creator), "delete", f"/api/hub/files/{first.id}").status_code == 204
    assert stored.exists(blob.storage_key)  # the other version still uses the bytes
    assert Client().get(f"/api/download/models/{version.id}").status_code == 404

    with run_on_commit():
        assert call(as_user(creator), "delete", f"/api/hub/files/{second.id}").status_code == 204
    assert not stored.exists(blob.storage_key)
    blob.refresh_from_db()
    assert blob.released_at is not None  # the row stays; the deleted files still name their hashes

    # The same bytes uploaded again are stored again.
    third = add_file(other, run_on_commit, name="again.safetensors", content=demo.tiny_lora())
    assert third.blob_id == blob.id and stored.exists(blob.storage_key)
    assert ContentBlob.objects.get(id=blob.id).released_at is None


def test_the_sweep_releases_blobs_whose_release_was_lost(version, creator):
    blob = version.files.get().blob
    services.delete_model(model=version.model, by=creator)  # no on_commit: the release never ran
    assert storage.model_storage().exists(blob.storage_key)

    from models_app.tasks import sweep_unused_blobs

    assert sweep_unused_blobs() == 1
    assert not storage.model_storage().exists(blob.storage_key)
    assert sweep_unused_blobs() == 0


# --- Files: Remove and the primary file.


def _start_upload(version, creator, content: bytes) -> ModelFile:
    """An upload with its first part sent, where the hub said to: its own endpoint or presigned S3."""
    model_file = services.start_upload(
        version=version, by=creator, filename="big.safetensors", size=len(content) * 2
    )
    url = services.part_upload_url(model_file=model_file, part_number=1)
    if url.startswith("/"):
        assert Client().put(url, content, content_type="application/octet-stream").status_code == 200
    else:
        request = urllib.request.Request(
            url, data=content, method="PUT", headers={"Content-Type": "application/octet-stream"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
    return model_file


def test_removing_an_unfinished_upload_cancels_it_and_deletes_its_parts(
    version, creator, run_on_commit, settings
):
    settings.UPLOAD_PART_SIZE = 5 * 1024 * 1024
    model_file = _start_upload(version, creator, b"x" * settings.UPLOAD_PART_SIZE)
    key, upload_id = model_file.upload_key, model_file.multipart_upload_id
    assert len(storage.list_parts(key=key, upload_id=upload_id)) == 1
    page = as_user(creator).get(version.model.get_absolute_url()).content.decode()
    assert f'data-testid="remove-{model_file.id}">Cancel upload' in page

    with run_on_commit():
        response = as_user(creator).post(
            f"/models/{version.model_id}/files/{model_file.id}/delete", follow=True
        )

    assert "big.safetensors upload is cancelled." in response.content.decode()
    try:
        assert storage.list_parts(key=key, upload_id=upload_id) == []  # local disk: no folder, no parts
    except storage.UploadGone:  # S3: the upload itself is gone
        pass
    model_file.refresh_from_db()
    assert model_file.status == FileStatus.DELETED and not model_file.multipart_upload_id
    late = call(as_user(creator), "post", f"/api/hub/uploads/{model_file.id}/complete")  # another tab
    assert late.status_code == 400
    assert late.json() == {"detail": "This upload was cancelled; start a new one to send the file again."}
    assert "big.safetensors" not in as_user(creator).get(version.model.get_absolute_url()).content.decode()


def test_only_a_ready_file_can_be_primary(version, creator, settings):
    settings.UPLOAD_PART_SIZE = 5 * 1024 * 1024
    unfinished = services.start_upload(version=version, by=creator, filename="u.safetensors", size=100)
    rejected = ModelFile.objects.create(version=version, name="r.safetensors", status=FileStatus.REJECTED)

    for model_file in (unfinished, rejected):
        response = call(as_user(creator), "post", f"/api/hub/files/{model_file.id}/primary")
        assert response.status_code == 409
        assert "only a ready file can be the primary file" in response.json()["detail"]
    assert version.files.get(is_primary=True).status == FileStatus.READY


def test_deleting_the_primary_file_makes_the_next_ready_file_primary(version, creator, run_on_commit):
    first = version.files.get()
    second = add_file(version, run_on_commit, name="pruned.safetensors", content=demo.tiny_checkpoint())
    assert first.is_primary and not second.is_primary

    call(as_user(creator), "delete", f"/api/hub/files/{first.id}")

    second.refresh_from_db()
    assert second.is_primary
    response = Client().get(f"/api/download/models/{version.id}")
    assert response.status_code in (302, 307)
    assert "pruned.safetensors" in response["Location"] or "pruned.safetensors" in response.get(
        "Content-Disposition", ""
    )


def test_a_file_deleted_while_it_is_processed_stays_deleted_and_its_bytes_are_released(version, creator):
    from models_app import processing
    from models_app.tasks import sweep_unused_blobs

    pending = services.add_file(
        version=version, name="late.safetensors", content=io.BytesIO(demo.tiny_checkpoint())
    )  # no commit callbacks run: the worker has not picked it up yet
    services.delete_file(model_file=pending, by=creator)

    processing.process_file(model_file=pending)  # the worker was already under way with it

    pending.refresh_from_db()
    assert pending.status == FileStatus.DELETED and pending.blob_id is not None
    assert storage.model_storage().exists(pending.blob.storage_key)
    assert sweep_unused_blobs() == 1
    assert not storage.model_storage().exists(pending.blob.storage_key)
    assert "late.safetensors" not in as_user(creator).get(version.model.get_absolute_url()).content.decode()

"""The hub API tells "not yours" (403) apart from bad input (400) and from "no such thing" (404)."""

import pytest
from django.test import Client

from models_app.models import ModelFile, ModelVersion, PublishStatus
from tests.factories import make_model

pytestmark = pytest.mark.django_db


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post_json(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def test_publishing_someone_elses_version_is_forbidden_and_changes_nothing(creator, fan):
    model = make_model(creator)
    draft = ModelVersion.objects.create(model=model, name="v2.0", base_model=model.versions.get().base_model)

    response = post_json(as_user(fan), f"/api/hub/versions/{draft.id}/publish")

    assert response.status_code == 403
    assert response.json() == {"detail": "Only the creator of this model can change it."}
    draft.refresh_from_db()
    assert draft.status == PublishStatus.DRAFT and draft.published_at is None


def test_adding_a_version_to_someone_elses_model_is_forbidden(creator, fan):
    model = make_model(creator)

    response = post_json(
        as_user(fan), f"/api/hub/models/{model.id}/versions", {"name": "v9", "base_model": "SD 1.5"}
    )

    assert response.status_code == 403
    assert response.json() == {"detail": "Only the creator of this model can add versions."}
    assert list(model.versions.values_list("name", flat=True)) == ["v1.0"]


def test_uploading_to_someone_elses_version_is_forbidden_and_opens_no_upload(creator, fan):
    version = make_model(creator).versions.get()
    files_before = ModelFile.objects.count()

    response = post_json(
        as_user(fan), "/api/hub/uploads", {"version_id": version.id, "filename": "x.safetensors", "size": 10}
    )

    assert response.status_code == 403
    assert "Only the creator" in response.json()["detail"]
    assert ModelFile.objects.count() == files_before


def test_someone_elses_draft_stays_a_404_not_a_403(creator, fan):
    """A 403 would confirm that the draft exists."""
    draft = make_model(creator, publish=False).versions.get()

    response = post_json(as_user(fan), f"/api/hub/versions/{draft.id}/publish")

    assert response.status_code == 404
    draft.refresh_from_db()
    assert draft.status == PublishStatus.DRAFT


def test_bad_input_from_the_owner_is_still_a_400(creator):
    draft = make_model(creator, publish=False).versions.get()
    draft.files.all().delete()

    response = post_json(as_user(creator), f"/api/hub/versions/{draft.id}/publish")

    assert response.status_code == 400
    assert response.json() == {"detail": "Add at least one file before publishing."}


def test_the_upload_wizard_on_someone_elses_public_model_is_a_403_page_with_the_reason(creator, fan):
    model = make_model(creator)
    response = as_user(fan).get(f"/models/{model.id}/versions/new")
    assert response.status_code == 403
    assert "Only the creator of this model can change it." in response.content.decode()
    version = model.versions.get()
    assert as_user(fan).get(f"/models/{model.id}/versions/{version.id}/files").status_code == 403
    assert as_user(fan).post(f"/models/{model.id}/versions/{version.id}/publish").status_code == 403


def test_the_upload_wizard_on_someone_elses_draft_is_a_404(creator, fan):
    draft = make_model(creator, publish=False)
    assert as_user(fan).get(f"/models/{draft.id}/versions/new").status_code == 404


def test_changing_a_file_others_can_see_is_a_403_and_an_upload_in_progress_stays_hidden(creator, fan):
    public_file = make_model(creator).versions.get().files.get()
    response = as_user(fan).post(f"/api/hub/uploads/{public_file.id}/complete")
    assert response.status_code == 403
    assert response.json() == {"detail": "Only the creator of this model can change its files."}
    draft = make_model(creator, name="Draft", publish=False).versions.get()
    upload = post_json(
        as_user(creator),
        "/api/hub/uploads",
        {"version_id": draft.id, "filename": "x.safetensors", "size": 10},
    ).json()
    assert as_user(fan).delete(f"/api/hub/uploads/{upload['id']}").status_code == 404
    assert ModelFile.objects.filter(id=upload["id"]).exists()

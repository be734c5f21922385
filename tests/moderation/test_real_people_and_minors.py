"""Real people and minors (docs/moderation.md#real-people-and-minors): a real person's content is never
rated above PG-13, on any path (the edit form, the hub API, the admin, a moderator's relabel, a version's
level), and never downloadable by others while mature; content involving minors is hidden at once."""

from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory

from community.models import ApiKey
from models_app import services as model_services
from models_app.models import AIModel, PublishStatus
from moderation import services

from .conftest import as_user

pytestmark = pytest.mark.django_db
RULE = "This model depicts a real person: it can't be rated above PG-13 (rule: real people)."


@pytest.fixture
def poi_model(version, moderator):
    services.act(
        moderator=moderator,
        target_type="model",
        target_id=version.model_id,
        action="mark_poi",
        reason="A real actor.",
    )
    model = AIModel.objects.get(id=version.model_id)
    assert model.poi
    return model


def api(user) -> Client:
    _, raw = ApiKey.create(user=user, name="script")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def level(model) -> int:
    return AIModel.objects.get(id=model.id).nsfw_level


def test_the_edit_form_refuses_a_mature_level(poi_model, creator):
    page = as_user(creator).get(f"/models/{poi_model.id}/edit")
    form = {"name": poi_model.name, "type": poi_model.type, "description": "", "nsfw_level": 4}
    response = as_user(creator).post(f"/models/{poi_model.id}/edit", form)
    assert page.status_code == 200 and response.status_code == 200
    assert RULE.replace("'", "&#x27;") in response.content.decode()
    assert level(poi_model) == 1


def test_the_api_refuses_a_mature_level_on_the_model_and_its_versions(poi_model, creator, version):
    client = api(creator)
    model_answer = client.patch(
        f"/api/hub/models/{poi_model.id}", {"nsfw_level": 8}, content_type="application/json"
    )
    version_answer = client.patch(
        f"/api/hub/versions/{version.id}", {"nsfw_level": 16}, content_type="application/json"
    )
    assert (model_answer.status_code, version_answer.status_code) == (400, 400)
    assert (
        "rule: real people" in model_answer.content.decode()
        and "rule: real people" in version_answer.content.decode()
    )
    assert level(poi_model) == 1
    assert (
        client.patch(
            f"/api/hub/models/{poi_model.id}", {"nsfw_level": 2}, content_type="application/json"
        ).status_code
        == 200
    )


def test_the_admin_refuses_a_mature_level(poi_model, moderator):
    moderator.is_staff = moderator.is_superuser = True
    moderator.save()
    request = RequestFactory().get("/admin/")
    request.user = moderator
    model_admin = admin.site._registry[AIModel]
    Form = model_admin.get_form(request, poi_model)
    data = {name: getattr(poi_model, name) for name in Form.base_fields if hasattr(poi_model, name)}
    data.update(owner=poi_model.owner_id, nsfw_level=4)
    form = Form(data, instance=poi_model)
    assert not form.is_valid() and form.errors["nsfw_level"] == [RULE]
    assert "nsfw_level" not in Form({**data, "nsfw_level": 2}, instance=poi_model).errors


def test_a_moderators_relabel_cannot_break_it_either(poi_model, moderator):
    with pytest.raises(ValidationError, match="rule: real people"):
        services.act(
            moderator=moderator,
            target_type="model",
            target_id=poi_model.id,
            action="relabel",
            reason="x",
            level=4,
        )
    assert level(poi_model) == 1


def test_marked_after_being_rated_mature_it_is_downloadable_by_nobody_else(version, creator, fan, moderator):
    model_services.update_model(model=version.model, by=creator, nsfw_level=4)
    services.act(
        moderator=moderator,
        target_type="model",
        target_id=version.model_id,
        action="mark_poi",
        reason="A real actor.",
    )
    for client in (Client(), as_user(fan)):
        civitai = client.get(f"/api/v1/model-versions/{version.id}")
        download = client.get(f"/api/download/models/{version.id}")
        assert download.status_code == 403 and "real person" in download.json()["message"]
        if civitai.status_code == 200:  # a viewer whose levels include R sees it listed, not downloadable
            assert client.get(urlsplit(civitai.json()["downloadUrl"]).path).status_code == 403
    assert as_user(creator).get(f"/api/download/models/{version.id}").status_code in (302, 307)
    # The creator's next edit must bring the level down first.
    with pytest.raises(ValidationError, match="rule: real people"):
        model_services.update_model(model=version.model, by=creator, description="New words")
    model_services.update_model(model=version.model, by=creator, nsfw_level=2, description="New words")
    assert Client().get(f"/api/download/models/{version.id}").status_code in (302, 307)


def test_content_involving_minors_is_hidden_at_once_on_every_path(version, creator, fan, moderator):
    model = version.model
    model_services.set_content_flags(model=model, by=moderator, minor=True)  # the service itself hides it
    model.refresh_from_db()
    assert model.minor and model.status == PublishStatus.HIDDEN
    for client in (Client(), as_user(fan)):
        assert client.get(model.get_absolute_url()).status_code == 404
        assert client.get(f"/api/v1/models/{model.id}").status_code == 404
        assert client.get(f"/api/download/models/{version.id}").status_code == 404
        assert model.name not in client.get("/models/").content.decode()
    with pytest.raises(ValidationError, match="Moderators took this down"):
        model_services.republish_version(version=version, by=creator)
    assert as_user(creator).get(model.get_absolute_url()).status_code == 200  # with the reason

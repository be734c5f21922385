"""A version can name the VAE version its creator recommends (issue 13, item 4): set on the version's
edit page and in the hub API, checked to be a published VAE, shown on the model page with a link and
in the API while that VAE stays published."""

import io

import pytest
from django.core.management import call_command
from django.test import Client

from models_app import demo, services
from models_app.models import ModelVersion
from tests.factories import publish_model

pytestmark = pytest.mark.django_db


def as_user(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def checkpoint(creator, run_on_commit):
    return publish_model(
        creator,
        run_on_commit,
        name="Tiny Realism",
        type="Checkpoint",
        content=demo.tiny_checkpoint(),
    )


@pytest.fixture
def vae(fan, run_on_commit):
    """Someone else's published VAE: any published VAE on the hub can be recommended."""
    return publish_model(fan, run_on_commit, name="Warm VAE", type="VAE", content=demo.tiny_vae())


def patch(client, version, data):
    return client.patch(f"/api/hub/versions/{version.id}", data, content_type="application/json")


def test_owner_sets_the_recommended_vae_in_the_api_and_it_is_in_the_version_json(creator, checkpoint, vae):
    response = patch(as_user(creator), checkpoint, {"recommended_vae_id": vae.id})
    assert response.status_code == 200, response.content
    expected = {"model_id": vae.model_id, "version_id": vae.id, "name": "Warm VAE v1.0"}
    assert response.json()["recommended_vae"] == expected
    # null takes it away again
    response = patch(as_user(creator), checkpoint, {"recommended_vae_id": None})
    assert response.status_code == 200 and response.json()["recommended_vae"] is None


def test_a_new_version_can_name_its_vae_when_it_is_created(creator, checkpoint, vae):
    response = as_user(creator).post(
        f"/api/hub/models/{checkpoint.model_id}/versions",
        {"name": "v2.0", "base_model": "SD 1.5", "recommended_vae_id": vae.id},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["recommended_vae"]["version_id"] == vae.id
    refused = as_user(creator).post(
        f"/api/hub/models/{checkpoint.model_id}/versions",
        {"name": "v3.0", "base_model": "SD 1.5", "recommended_vae_id": checkpoint.id},
        content_type="application/json",
    )
    assert refused.status_code == 400 and "not a VAE" in refused.json()["detail"]
    assert not checkpoint.model.versions.filter(name="v3.0").exists()


def test_someone_else_gets_403_and_anonymous_401(creator, fan, checkpoint, vae):
    assert patch(as_user(fan), checkpoint, {"recommended_vae_id": vae.id}).status_code == 403
    assert patch(as_user(None), checkpoint, {"recommended_vae_id": vae.id}).status_code == 401
    assert ModelVersion.objects.get(id=checkpoint.id).recommended_vae_id is None


def test_a_moderator_may_set_it(moderator, checkpoint, vae):
    response = patch(as_user(moderator), checkpoint, {"recommended_vae_id": vae.id})
    assert response.status_code == 200 and response.json()["recommended_vae"]["version_id"] == vae.id


def test_only_a_published_vae_version_is_accepted(creator, fan, checkpoint, vae, run_on_commit):
    lora = publish_model(fan, run_on_commit, name="Some LoRA")
    response = patch(as_user(creator), checkpoint, {"recommended_vae_id": lora.id})
    assert response.status_code == 400
    assert response.json()["detail"] == (
        "Some LoRA v1.0 is a LORA, not a VAE: only a VAE version can be recommended as the VAE."
    )
    draft = services.create_version(model=vae.model, name="v2.0-draft", base_model="SD 1.5")
    response = patch(as_user(creator), checkpoint, {"recommended_vae_id": draft.id})
    assert response.status_code == 400
    assert response.json()["detail"] == f"There is no published version {draft.id} to recommend as the VAE."
    for bad in (999999, "x", True):
        response = patch(as_user(creator), checkpoint, {"recommended_vae_id": bad})
        assert response.status_code == 400, bad
    assert ModelVersion.objects.get(id=checkpoint.id).recommended_vae_id is None


def test_owner_sets_it_on_the_edit_page_and_the_model_page_links_to_it(creator, checkpoint, vae):
    client = as_user(creator)
    url = f"/models/{checkpoint.model_id}/versions/{checkpoint.id}/edit"
    page = client.get(url)
    assert page.status_code == 200
    assert f'<option value="{vae.id}">Warm VAE v1.0</option>' in page.content.decode()
    response = client.post(
        url,
        {
            "name": "v1.0",
            "base_model": "SD 1.5",
            "trained_words": "tiny",
            "description": "",
            "early_access_days": 0,
            "usage_control": "Download",
            "recommended_vae": vae.id,
        },
    )
    assert response.status_code == 302
    page = as_user(None).get(checkpoint.model.get_absolute_url()).content.decode()
    assert "Recommended VAE:" in page
    assert f'<a href="{vae.model.get_absolute_url()}#version-{vae.id}">Warm VAE v1.0</a>' in page


def test_the_vae_link_costs_no_query_and_its_long_descriptions_are_not_read(creator, checkpoint, vae):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    vae_model = vae.model
    vae_model.set_description("VAE notes. " * 1_800)  # close to the 20,000-character limit
    vae_model.save()
    vae.set_description("Changelog. " * 1_800)
    vae.save()
    url = checkpoint.model.get_absolute_url()
    with CaptureQueriesContext(connection) as without:
        as_user(None).get(url)
    services.update_version(version=checkpoint, by=creator, recommended_vae=vae.id)
    with CaptureQueriesContext(connection) as captured:
        page = as_user(None).get(url).content.decode()
    assert f'<a href="{vae_model.get_absolute_url()}#version-{vae.id}">Warm VAE v1.0</a>' in page
    assert "VAE notes." not in page and "Changelog." not in page
    assert len(captured) == len(without)  # the link's names came with the versions
    versions_sql = next(q["sql"] for q in captured if 'FROM "models_app_modelversion"' in q["sql"])
    assert versions_sql.count("description_html") == 1  # the page's own version's, not the VAE's


def test_the_edit_page_refuses_a_choice_that_is_not_a_published_vae(creator, checkpoint, vae):
    response = as_user(creator).post(
        f"/models/{checkpoint.model_id}/versions/{checkpoint.id}/edit",
        {
            "name": "v1.0",
            "base_model": "SD 1.5",
            "early_access_days": 0,
            "usage_control": "Download",
            "recommended_vae": checkpoint.id,
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert ModelVersion.objects.get(id=checkpoint.id).recommended_vae_id is None


def test_someone_else_cannot_open_the_edit_page(fan, checkpoint):
    response = as_user(fan).get(f"/models/{checkpoint.model_id}/versions/{checkpoint.id}/edit")
    assert response.status_code == 403


def test_an_unpublished_or_deleted_vae_is_no_longer_shown(creator, fan, checkpoint, vae):
    services.update_version(version=checkpoint, by=creator, recommended_vae=vae)
    page_url = checkpoint.model.get_absolute_url()
    assert "Recommended VAE:" in as_user(None).get(page_url).content.decode()
    services.unpublish_version(version=vae, by=fan)
    assert "Recommended VAE:" not in as_user(None).get(page_url).content.decode()
    api = as_user(creator).patch(
        f"/api/hub/versions/{checkpoint.id}", {"name": "v1.0"}, content_type="application/json"
    )
    assert api.status_code == 200 and api.json()["recommended_vae"] is None
    services.republish_version(version=ModelVersion.objects.get(id=vae.id), by=fan)
    assert "Recommended VAE:" in as_user(None).get(page_url).content.decode()
    services.delete_model(model=vae.model, by=fan)
    assert "Recommended VAE:" not in as_user(None).get(page_url).content.decode()


def test_seed_demo_links_its_checkpoint_to_its_vae(run_on_commit):
    with run_on_commit():
        call_command("seed_demo", stdout=io.StringIO())
    realism = ModelVersion.objects.get(model__name="Tiny Realism")
    assert realism.recommended_vae.model.name == "Tiny VAE"
    page = as_user(None).get(realism.model.get_absolute_url()).content.decode()
    assert "Recommended VAE:" in page and "Tiny VAE v1.0</a>" in page
    call_command("seed_demo", stdout=io.StringIO())  # again: nothing changes
    assert ModelVersion.objects.get(id=realism.id).recommended_vae_id == realism.recommended_vae_id

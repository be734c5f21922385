"""Who sees what through the API: drafts, mature models, flagged files, keys; CORS and caching."""

import pytest
from django.test import Client

from community.models import ApiKey
from models_app import demo, services
from models_app.models import FileStatus, ModelFile, ScanStatus

from .conftest import add_file, publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(creator, run_on_commit):
    return publish(creator, run_on_commit, name="Secret Draft", publish=False)


@pytest.fixture
def mature(fan, run_on_commit):
    return publish(fan, run_on_commit, name="Mature Model", nsfw_level=4)


def test_drafts_are_invisible_to_others_and_visible_to_their_creator_with_a_key(client, creator, draft):
    for url in (f"/api/v1/models/{draft.model_id}", f"/api/v1/model-versions/{draft.id}"):
        assert client.get(url).status_code == 404
    assert client.get("/api/v1/models").json()["items"] == []
    _, key = ApiKey.create(user=creator, name="tool")
    response = Client().get(f"/api/v1/model-versions/{draft.id}", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    data = response.json()
    assert (data["status"], data["availability"], data["publishedAt"]) == ("Draft", "Private", None)
    assert response["Cache-Control"] == "private, no-store"
    assert Client().get(f"/api/v1/models/{draft.model_id}?token={key}").json()["availability"] == "Private"
    # Lists are the public catalogue, even for the creator.
    assert Client().get(f"/api/v1/models?token={key}").json()["items"] == []


def test_a_draft_version_of_a_published_model_stays_hidden(client, creator, run_on_commit):
    version = publish(creator, run_on_commit, name="Public")
    draft = services.create_version(model=version.model, name="v2.0", base_model="SD 1.5")
    add_file(draft, run_on_commit, name="v2.safetensors", content=demo.tiny_checkpoint())
    assert [v["name"] for v in client.get(f"/api/v1/models/{version.model_id}").json()["modelVersions"]] == [
        "v1.0"
    ]
    assert client.get(f"/api/v1/model-versions/{draft.id}").status_code == 404


def test_mature_models_only_when_asked(client, mature):
    assert client.get("/api/v1/models").json()["items"] == []
    assert client.get("/api/v1/models?nsfw=false").json()["items"] == []
    [item] = client.get("/api/v1/models?nsfw=true").json()["items"]
    assert (item["nsfw"], item["nsfwLevel"]) == (True, 4)
    assert client.get("/api/v1/models?nsfw=True&query=Mature").json()["items"][0]["name"] == "Mature Model"
    assert client.get(f"/api/v1/models/{mature.model_id}").status_code == 200  # by id, as CivitAI does


def test_mature_images_follow_the_nsfw_levels(client, mature, run_on_commit):
    from tests.factories import image_of

    from .conftest import png

    image = image_of(add_file(mature, run_on_commit, name="m.png", content=png(), type="Image"))
    assert client.get("/api/v1/images").json()["items"] == []
    for query in ("?nsfw=Mature", "?nsfw=X", "?nsfw=true", "?browsingLevel=4", "?browsingLevel=31"):
        [item] = client.get(f"/api/v1/images{query}").json()["items"]
        assert (item["id"], item["nsfwLevel"], item["nsfw"], item["browsingLevel"]) == (
            image.id,
            "Mature",
            True,
            4,
        )
    for query in ("?nsfw=None", "?nsfw=Soft", "?nsfw=false", "?browsingLevel=1"):
        assert client.get(f"/api/v1/images{query}").json()["items"] == [], query


def test_flagged_files_are_shown_only_to_their_creator_and_a_version_with_none_left_disappears(
    client, creator, run_on_commit
):
    version = publish(creator, run_on_commit, name="Flagged")
    ModelFile.objects.filter(version=version).update(
        status=FileStatus.QUARANTINED, scan_status=ScanStatus.QUARANTINED
    )
    assert client.get(f"/api/v1/models/{version.model_id}").json()["modelVersions"] == []
    assert client.get(f"/api/v1/model-versions/{version.id}").json() == {"error": "Missing model file"}
    client.force_login(creator)
    [file] = client.get(f"/api/v1/model-versions/{version.id}").json()["files"]
    assert (file["pickleScanResult"], file["virusScanResult"]) == ("Danger", "Danger")


def test_a_bad_key_means_anonymous_on_public_endpoints_and_401_on_me(client, creator, draft):
    bad = {"Authorization": "Bearer hub_not_a_key"}
    assert client.get("/api/v1/models", headers=bad).status_code == 200
    assert client.get(f"/api/v1/models/{draft.model_id}", headers=bad).status_code == 404
    assert client.get("/api/v1/me", headers=bad).json() == {"error": "Unauthorized"}
    assert client.get("/api/v1/me", headers=bad).status_code == 401
    assert client.get("/api/v1/me").status_code == 401
    _, key = ApiKey.create(user=creator, name="tool")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).json()
    assert {k: me[k] for k in ("id", "username", "tier", "status", "isMember", "subscriptions")} == {
        "id": creator.id, "username": "alice", "tier": "free", "status": "active", "isMember": False, "subscriptions": [],
    }  # fmt: skip
    assert client.get(f"/api/v1/me?token={key}").json()["username"] == "alice"


def test_favorites_and_hidden_need_a_key(client, creator, draft):
    assert client.get("/api/v1/models?favorites=true").status_code == 401
    assert client.get("/api/v1/models?hidden=true").json() == {"error": "Unauthorized"}
    client.force_login(creator)
    assert client.get("/api/v1/models?favorites=true").json()["items"] == []


def test_public_answers_are_cacheable_and_open_to_any_origin(client, creator, run_on_commit):
    version = publish(creator, run_on_commit)
    sha = version.files.get().blob.sha256
    for url, cache in (
        ("/api/v1/models", "public, s-maxage=300, stale-while-revalidate=150"),
        (f"/api/v1/model-versions/{version.id}", "public, s-maxage=300, stale-while-revalidate=150"),
        (f"/api/v1/model-versions/by-hash/{sha}", "public, s-maxage=3600, stale-while-revalidate=150"),
        ("/api/v1/tags", "public, s-maxage=300, stale-while-revalidate=150"),
    ):
        response = client.get(url)
        assert response["Access-Control-Allow-Origin"] == "*" and response["Cache-Control"] == cache, url
    error = client.get("/api/v1/models/abc")
    assert error["Access-Control-Allow-Origin"] == "*" and error["Cache-Control"] == "no-store"
    preflight = client.options("/api/v1/model-versions/by-hash")
    assert preflight.status_code == 204 and "Authorization" in preflight["Access-Control-Allow-Headers"]
    assert client.post("/api/v1/models").status_code == 405


def test_the_owners_key_shows_a_draft_by_id_while_lists_stay_published_only_as_the_readme_says(
    creator, run_on_commit
):
    from models_app.models import AIModel, PublishStatus

    version = publish(creator, run_on_commit, name="Draft With Key")
    AIModel.objects.filter(id=version.model_id).update(status=PublishStatus.DRAFT)
    _, key = ApiKey.create(user=creator, name="tool")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    client = Client()
    assert client.get(f"/api/v1/models/{version.model_id}", **auth).json()["name"] == "Draft With Key"
    assert client.get(f"/api/v1/model-versions/{version.id}", **auth).status_code == 200
    assert client.get(f"/api/v1/models?ids={version.model_id}", **auth).json()["items"] == []

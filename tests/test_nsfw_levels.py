"""NSFW levels (docs/moderation.md#nsfw-levels): every listing shows what the viewer's browsing mask
allows, on every path; the API parameters map as CivitAI's; writes refuse levels that aren't ones."""

import json

import pytest
from django.test import Client

from community.models import Follow
from models_app import demo
from models_app.models import AIModel, ModelVersion, ViewerPreference
from resources.models import Image
from tests.factories import add_example_image, make_user, publish_model

pytestmark = pytest.mark.django_db

LEVELS = (1, 2, 4, 8, 16, 32)


def name_of(level: int) -> str:
    return f"Zebra L{level} Model"


@pytest.fixture
def catalog(creator, run_on_commit):
    """One published model per level, each with an example image (an example is at least its model's level)."""
    made = {}
    for level in LEVELS:
        version = publish_model(creator, run_on_commit, name=name_of(level), nsfw_level=min(level, 16))
        if level == 32:  # a moderator's decision: no creator form offers it
            AIModel.objects.filter(id=version.model_id).update(nsfw_level=32)
        image = add_example_image(
            version,
            run_on_commit,
            name=f"zebra{level}.png",
            content=demo.example_image((9, 9, 9), (200, 0, 0)),
        )
        Image.objects.filter(id=image.id).update(nsfw_level=level)
        made[level] = (AIModel.objects.get(id=version.model_id), image)
    return made


def viewer_client(kind, creator, moderator):
    """A client for one kind of viewer, and the user it is signed in as (None: anonymous)."""
    client = Client()
    if kind == "anonymous":
        return client, None
    if kind == "owner":
        user = creator
    elif kind == "moderator":
        user = moderator
    else:
        user = make_user(f"viewer{kind}")
        ViewerPreference.objects.create(user=user, browsing_levels=int(kind.removeprefix("mask")))
    Follow.objects.create(follower=user, creator=creator) if user != creator else None
    client.force_login(user)
    return client, user


def expected(kind: str, listing: str, level: int) -> bool:
    if kind == "owner" and listing == "profile":
        return True  # a creator's own page shows them everything of theirs
    mask = {"anonymous": 1, "owner": 1, "moderator": 1 | 32}.get(kind) or int(kind.removeprefix("mask"))
    if listing == "civitai_images" and level == 32:
        return False  # /api/v1/images lists public images only
    return bool(level & mask)


def shown(client, listing: str, catalog) -> set[int]:
    """The levels whose model (or image) this listing shows to this client."""
    pages = {
        "home": "/",
        "browse": "/models/",
        "search": "/search/?q=zebra",
        "profile": "/user/alice",
        "feed": "/feed/",
    }
    if listing in pages:
        html = client.get(pages[listing]).content.decode()
        return {level for level in LEVELS if name_of(level) in html}
    if listing == "civitai_models":
        items = client.get("/api/v1/models").json()["items"]
        return {level for level in LEVELS if name_of(level) in {i["name"] for i in items}}
    if listing == "civitai_images":
        ids = {i["id"] for i in client.get("/api/v1/images").json()["items"]}
        return {level for level, (_, image) in catalog.items() if image.id in ids}
    if listing == "hf_models":
        ids = {i["id"] for i in client.get("/api/models?author=alice").json()}
        return {level for level, (model, _) in catalog.items() if f"alice/{model.slug}" in ids}
    raise AssertionError(listing)


LISTINGS = ("home", "browse", "search", "profile", "civitai_models", "civitai_images", "hf_models", "feed")


@pytest.mark.parametrize("kind", ["anonymous", "mask1", "mask3", "mask31", "owner", "moderator"])
def test_the_visibility_matrix(catalog, creator, moderator, kind):
    client, _ = viewer_client(kind, creator, moderator)
    wrong = []
    for listing in LISTINGS:
        if listing == "feed" and kind in ("anonymous", "owner"):
            continue  # the feed is of what one follows, signed in
        got = shown(client, listing, catalog)
        want = {level for level in LEVELS if expected(kind, listing, level)}
        if got != want:
            wrong.append(f"{listing}: shows {sorted(got)}, expected {sorted(want)}")
    assert not wrong, f"{kind}: " + "; ".join(wrong)


def test_blur_mode_lists_the_levels_above_the_mask_blurred_with_a_reveal_control(client, catalog, fan):
    ViewerPreference.objects.create(user=fan, browsing_levels=1, blur_mature=True)
    client.force_login(fan)
    for path in ("/", "/models/", "/search/?q=zebra", "/user/alice"):
        html = client.get(path).content.decode()
        for level in (1, 2, 4, 8, 16):
            assert name_of(level) in html, (path, level)
        assert name_of(32) not in html  # Blocked is never a viewer's choice, not even blurred
        cards = [card.split("</article>")[0] for card in html.split('<article class="model-card')[1:]]
        blurred = [card for card in cards if card.startswith(" blurred")]
        assert len(blurred) == 4 and all("data-reveal" in card for card in blurred), path
        assert not any("data-reveal" in card for card in cards if not card.startswith(" blurred"))
        if path == "/user/alice":  # the profile's images too: four blurred (Blocked is not listed)
            assert html.count('data-testid="blurred-image"') == 4
    assert "js/levels.js" in html  # the reveal works without inline script (the CSP allows none)


def test_the_model_page_hides_or_blurs_versions_and_images_above_the_mask(client, creator, fan, catalog):
    model, image = catalog[1]
    mature = ModelVersion.objects.get(model=model)
    ModelVersion.objects.filter(id=mature.id).update(nsfw_level=8)
    Image.objects.filter(id=image.id).update(nsfw_level=1)
    page = Client().get(model.get_absolute_url())
    assert page.status_code == 404  # its only version is above an anonymous visitor's levels
    ViewerPreference.objects.create(user=fan, browsing_levels=1, blur_mature=True)
    client.force_login(fan)
    html = client.get(model.get_absolute_url()).content.decode()
    assert 'class="version card blurred"' in html and "data-reveal" in html
    client.force_login(creator)
    html = client.get(model.get_absolute_url()).content.decode()
    assert "blurred" not in html and 'data-testid="version-level">X<' in html


def test_a_direct_link_above_the_mask_warns_and_blocked_is_gone_for_others(
    client, catalog, creator, moderator
):
    r_model = catalog[4][0]
    html = client.get(r_model.get_absolute_url()).content.decode()
    assert "This model is rated R" in html
    blocked = catalog[32][0]
    assert client.get(blocked.get_absolute_url()).status_code == 404
    assert client.get(f"/api/v1/models/{blocked.id}").status_code == 404
    for user in (creator, moderator):
        client.force_login(user)
        assert client.get(blocked.get_absolute_url()).status_code == 200


@pytest.mark.parametrize(
    "query, levels",
    [
        ("", {1}),
        ("?nsfw=false", {1}),
        ("?nsfw=true", {1, 2, 4, 8, 16}),
        ("?nsfw=None", {1}),
        ("?nsfw=Soft", {1, 2}),
        ("?nsfw=Mature", {1, 2, 4}),
        ("?nsfw=X", {1, 2, 4, 8, 16}),
        ("?browsingLevel=6", {2, 4}),
        ("?nsfw=true&browsingLevel=1", {1}),  # browsingLevel wins
        ("?browsingLevel=63", {1, 2, 4, 8, 16}),  # Blocked only for moderators
    ],
)
def test_civitai_models_parameters_map_as_civitai(client, catalog, query, levels):
    items = client.get(f"/api/v1/models{query}").json()["items"]
    assert {i["nsfwLevel"] for i in items} == levels
    assert all(i["nsfw"] == (i["nsfwLevel"] > 2) for i in items)


@pytest.mark.parametrize(
    "query, levels",
    [
        ("", {1}),
        ("?nsfw=false", {1}),
        ("?nsfw=None", {1}),
        ("?nsfw=Soft", {1, 2}),
        ("?nsfw=Mature", {1, 2, 4}),
        ("?nsfw=X", {1, 2, 4, 8, 16}),
        ("?nsfw=true", {4, 8, 16}),  # mature only
        ("?browsingLevel=24", {8, 16}),
        ("?nsfw=None&browsingLevel=2", {2}),
    ],
)
def test_civitai_images_parameters_map_as_civitai(client, catalog, query, levels):
    items = client.get(f"/api/v1/images{query}").json()["items"]
    assert {i["browsingLevel"] for i in items} == levels
    names = {1: "None", 2: "Soft", 4: "Mature", 8: "X", 16: "X"}
    assert all(
        i["nsfwLevel"] == names[i["browsingLevel"]] and i["nsfw"] == (i["browsingLevel"] > 2) for i in items
    )


def test_civitai_versions_report_their_own_level(client, catalog):
    model, _ = catalog[2]
    data = client.get(f"/api/v1/models/{model.id}").json()
    assert (data["nsfwLevel"], data["nsfw"], data["modelVersions"][0]["nsfwLevel"]) == (2, False, 1)


def test_hub_api_lists_take_levels_or_nsfw(client, catalog):
    def levels_of(query):
        items = client.get(f"/api/hub/models{query}").json()["items"]
        return {i["nsfw_level"] for i in items}

    assert levels_of("") == {1}
    assert levels_of("?nsfw=true") == {1, 2, 4, 8, 16}
    assert levels_of("?levels=12") == {4, 8}
    assert client.get("/api/hub/models?levels=abc").status_code == 400


def api_client(user):
    from community.models import ApiKey

    _, key = ApiKey.create(user=user, name="script")
    return Client(headers={"Authorization": f"Bearer {key}"})


@pytest.mark.parametrize("bad", [0, 3, 64, "4", True, 4.5, None, 32])
def test_hub_api_writes_refuse_anything_but_a_level(creator, bad):
    api = api_client(creator)
    body = {"name": "Bad Level", "type": "LORA", "nsfw_level": bad}
    response = api.post("/api/hub/models", json.dumps(body), content_type="application/json")
    if bad == "4":
        # DRF's choice field takes the string of a choice, as form posts send it
        assert response.status_code == 201 and response.json()["status"] == "draft"
        return
    assert response.status_code == 400, (bad, response.content)
    assert not AIModel.objects.filter(name="Bad Level").exists()


def test_hub_api_writes_set_and_return_the_level(creator, moderator):
    api = api_client(creator)
    created = api.post(
        "/api/hub/models",
        {"name": "Leveled", "type": "LORA", "nsfw_level": 8},
        content_type="application/json",
    )
    assert created.status_code == 201
    model = AIModel.objects.get(id=created.json()["id"])
    assert model.nsfw_level == 8
    version = api.post(
        f"/api/hub/models/{model.id}/versions",
        {"name": "v1", "base_model": "SD 1.5", "nsfw_level": 16},
        content_type="application/json",
    )
    assert version.status_code == 201 and version.json()["nsfw_level"] == 16
    patched = api.patch(f"/api/hub/models/{model.id}", {"nsfw_level": 2}, content_type="application/json")
    assert (
        patched.status_code == 200 and patched.json()["nsfw_level"] == 2 and patched.json()["nsfw"] is False
    )
    legacy = api.patch(f"/api/hub/models/{model.id}", {"nsfw": True}, content_type="application/json")
    assert legacy.json()["nsfw_level"] == 4  # the deprecated boolean: true is R
    refused = api.patch(f"/api/hub/models/{model.id}", {"nsfw_level": 32}, content_type="application/json")
    assert refused.status_code == 400 and "moderators" in refused.json()["detail"]
    by_moderator = api_client(moderator).patch(
        f"/api/hub/models/{model.id}", {"nsfw_level": 32}, content_type="application/json"
    )
    assert by_moderator.status_code == 200 and by_moderator.json()["nsfw_level"] == 32
    lift = api.patch(f"/api/hub/models/{model.id}", {"nsfw_level": 1}, content_type="application/json")
    assert lift.status_code == 400  # only a moderator lifts a block
    version_id = version.json()["id"]
    bad = api.patch(f"/api/hub/versions/{version_id}", {"nsfw_level": 5}, content_type="application/json")
    assert bad.status_code == 400 and ModelVersion.objects.get(id=version_id).nsfw_level == 16


def test_forms_set_the_level_and_refuse_others(client, creator):
    client.force_login(creator)
    form = {
        "name": "Form Level",
        "type": "LORA",
        "description": "",
        "tags": "",
        "license": "",
        "nsfw_level": "8",
    }
    response = client.post("/models/new", form)
    assert response.status_code == 302
    model = AIModel.objects.get(name="Form Level")
    assert model.nsfw_level == 8
    html = client.get(f"/models/{model.id}/edit").content.decode()
    assert '<option value="8" selected>' in html and 'value="32"' not in html
    response = client.post(f"/models/{model.id}/edit", {**form, "nsfw_level": "32"})
    assert response.status_code == 200 and AIModel.objects.get(id=model.id).nsfw_level == 8


def test_a_blocked_image_is_seen_by_its_owner_and_moderators_only(client, catalog, creator, moderator):
    _, image = catalog[32]
    assert client.get(f"/images/{image.id}/x").status_code == 404
    assert client.get(f"/api/hub/images/{image.id}").status_code == 404
    client.force_login(creator)
    assert client.get(f"/api/hub/images/{image.id}").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_migration_turns_the_booleans_into_levels():
    """Migrations models_app 0028/0029 and resources 0004/0005: false -> PG (1), true -> R (4)."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from tests.factories import ensure_base_models

    before = [("models_app", "0027_funding_goals"), ("resources", "0003_image_stripped")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    owner = apps.get_model("auth", "User").objects.create(username="old")
    AIModel_ = apps.get_model("models_app", "AIModel")
    Image_ = apps.get_model("resources", "Image")
    calm = AIModel_.objects.create(owner=owner, name="Calm", slug="calm", type="LORA", nsfw=False)
    spicy = AIModel_.objects.create(owner=owner, name="Spicy", slug="spicy", type="LORA", nsfw=True)
    safe_image = Image_.objects.create(owner=owner, name="a.png", nsfw=False)
    mature_image = Image_.objects.create(owner=owner, name="b.png", nsfw=True)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    ensure_base_models()
    assert AIModel.objects.get(id=calm.id).nsfw_level == 1
    assert AIModel.objects.get(id=spicy.id).nsfw_level == 4
    assert Image.objects.get(id=safe_image.id).nsfw_level == 1
    assert Image.objects.get(id=mature_image.id).nsfw_level == 4


def test_a_blocked_model_is_neither_downloadable_nor_found_by_hash_by_others(client, catalog, creator):
    model, _ = catalog[32]
    version = model.versions.get()
    sha256 = version.files.filter(type="Model").get().blob.sha256
    assert client.get(f"/api/download/models/{version.id}").status_code == 404
    found = client.get(f"/api/v1/model-versions/by-hash/{sha256}").json()  # the other levels share the file
    assert found["modelId"] != model.id and found["id"] != version.id
    from django.contrib.auth.models import AnonymousUser

    from models_app.downloads import findable_versions

    assert not findable_versions(AnonymousUser(), ModelVersion.objects.filter(id=version.id)).exists()
    assert findable_versions(creator, ModelVersion.objects.filter(id=version.id)).exists()
    client.force_login(creator)
    assert client.get(f"/api/download/models/{version.id}").status_code in (302, 307)


def test_collections_list_only_the_viewer_levels(client, catalog, fan):
    from community import collections

    shelf = collections.create_collection(owner=fan, name="Zebras")
    for level in (1, 4):
        collections.add_item(
            collection=shelf, by=fan, target=collections.find_target(fan, "model", catalog[level][0].id)
        )
    html = client.get(f"/collections/{shelf.id}").content.decode()
    assert name_of(1) in html and name_of(4) not in html
    api = client.get(f"/api/hub/collections/{shelf.id}/items").json()
    assert len(api["items"]) == 1
    ViewerPreference.objects.create(user=fan, browsing_levels=31)
    client.force_login(fan)
    html = client.get(f"/collections/{shelf.id}").content.decode()
    assert name_of(1) in html and name_of(4) in html


def test_civitai_lists_leave_out_versions_above_the_mask(client, catalog):
    model, _ = catalog[1]
    extra = ModelVersion.objects.get(model=model)
    ModelVersion.objects.filter(id=extra.id).update(nsfw_level=8)
    [item] = [i for i in client.get("/api/v1/models").json()["items"] if i["id"] == model.id]
    assert item["modelVersions"] == []
    [item] = [i for i in client.get("/api/v1/models?nsfw=true").json()["items"] if i["id"] == model.id]
    assert [v["nsfwLevel"] for v in item["modelVersions"]] == [8]


@pytest.mark.parametrize(
    "path",
    [
        "/api/hub/models?levels=32",
        "/api/hub/models?levels=32&q=zebra",
        "/api/v1/models?browsingLevel=0",
        "/api/v1/models?browsingLevel=32&query=zebra",
        "/api/v1/images?browsingLevel=0",
        "/api/v1/images?browsingLevel=32",
    ],
)
def test_a_mask_that_leaves_nothing_is_an_empty_list_not_an_error(client, catalog, path):
    response = client.get(path)
    assert response.status_code == 200, response.content
    assert response.json()["items"] == []


def test_civitai_model_lists_leave_out_example_images_above_the_mask(client, catalog):
    model, image = catalog[1]
    Image.objects.filter(id=image.id).update(nsfw_level=16)
    [item] = [i for i in client.get("/api/v1/models").json()["items"] if i["id"] == model.id]
    assert item["modelVersions"][0]["images"] == []
    [item] = [i for i in client.get("/api/v1/models?nsfw=true").json()["items"] if i["id"] == model.id]
    assert [i["nsfwLevel"] for i in item["modelVersions"][0]["images"]] == [16]

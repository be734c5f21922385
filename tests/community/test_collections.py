"""Collections and Favourites (issue 14, item 4, and the collections part of item 8;
docs/collections.md)."""

import io
import random
import threading

import pytest
from django.db import IntegrityError, connection, transaction
from PIL import Image as PILImage

from community import collections
from community.models import ApiKey, Collection, CollectionItem
from models_app import services
from models_app.models import AIModel, PublishStatus
from tests.conftest import ClosingClient as Client
from tests.factories import add_example_image, make_model, make_user

pytestmark = pytest.mark.django_db


def png(color="teal") -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (64, 48), color).save(out, "PNG")
    return out.getvalue()


def api_client(user) -> Client:
    _, raw = ApiKey.create(user=user, name="script")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def post(client, path, data=None):
    return client.post(path, data or {}, content_type="application/json")


def likes(model) -> int:
    return AIModel.objects.get(id=model.id).like_count


@pytest.fixture
def model(creator):
    return make_model(creator)


def test_favouriting_a_model_by_api_counts_once_and_unfavouriting_uncounts(model, fan):
    api = api_client(fan)
    added = post(api, "/api/hub/collections/favorites/items", {"item_type": "model", "item_id": model.id})
    assert added.status_code == 201 and added.json()["item_type"] == "model"
    again = post(api, "/api/hub/collections/favorites/items", {"item_type": "model", "item_id": model.id})
    assert again.status_code == 200 and again.json()["id"] == added.json()["id"]
    assert likes(model) == 1
    favourites = api.get("/api/hub/collections/favorites").json()
    assert (
        favourites["is_favorites"] and favourites["visibility"] == "private" and favourites["item_count"] == 1
    )

    other = make_user("dora")
    post(
        api_client(other), "/api/hub/collections/favorites/items", {"item_type": "model", "item_id": model.id}
    )
    assert likes(model) == 2

    # Removing by the item's id, then by the target again (already gone): counted once.
    path = f"/api/hub/collections/{favourites['id']}/items/{added.json()['id']}"
    assert api.delete(path).status_code == 204
    assert api.delete(path).status_code == 404
    gone = api.delete(
        "/api/hub/collections/favorites/items",
        {"item_type": "model", "item_id": model.id},
        content_type="application/json",
    )
    assert gone.status_code == 204
    assert likes(model) == 1


def test_a_model_in_an_ordinary_collection_is_not_a_like(model, fan):
    api = api_client(fan)
    created = post(api, "/api/hub/collections", {"name": "Inks", "description": "Wet media"})
    assert created.status_code == 201 and created.json()["visibility"] == "public"
    cid = created.json()["id"]
    assert (
        post(
            api, f"/api/hub/collections/{cid}/items", {"item_type": "model", "item_id": model.id}
        ).status_code
        == 201
    )
    assert likes(model) == 0
    listed = Client().get(f"/api/hub/collections/{cid}/items").json()
    assert [(i["item_type"], i["item_id"], i["name"]) for i in listed["items"]] == [
        ("model", model.id, "Tiny Watercolor")
    ]


def test_versions_and_images_can_be_collected(creator, fan, run_on_commit):
    model = make_model(creator)
    version = model.versions.get()
    image = add_example_image(version, run_on_commit, name="cat.png", content=png())
    api = api_client(fan)
    cid = post(api, "/api/hub/collections", {"name": "Mixed"}).json()["id"]
    for kind, target in (("version", version.id), ("image", image.id)):
        assert (
            post(api, f"/api/hub/collections/{cid}/items", {"item_type": kind, "item_id": target}).status_code
            == 201
        )
    kinds = {i["item_type"] for i in Client().get(f"/api/hub/collections/{cid}/items").json()["items"]}
    assert kinds == {"version", "image"}
    page = Client().get(f"/collections/{cid}").content.decode()
    assert f"/images/thumbnails/{image.id}.webp" in page and "Tiny Watercolor v1.0" in page


def test_an_item_has_exactly_one_target_and_appears_once(model, fan):
    collection = collections.create_collection(owner=fan, name="X")
    with pytest.raises(IntegrityError), transaction.atomic():
        CollectionItem.objects.create(collection=collection)
    with pytest.raises(IntegrityError), transaction.atomic():
        CollectionItem.objects.create(collection=collection, model=model, version=model.versions.get())
    CollectionItem.objects.create(collection=collection, model=model)
    with pytest.raises(IntegrityError), transaction.atomic():
        CollectionItem.objects.create(collection=collection, model=model)
    with pytest.raises(IntegrityError), transaction.atomic():
        Collection.objects.create(owner=fan, name="F1", is_favorites=True)
        Collection.objects.create(owner=fan, name="F2", is_favorites=True)


def test_anonymous_reads_public_collections_but_writes_nothing(model, fan):
    collection = collections.create_collection(owner=fan, name="Public one")
    collections.add_item(collection=collection, by=fan, target={"model": model})
    anon = Client()
    assert anon.get(f"/api/hub/collections/{collection.id}").json()["name"] == "Public one"
    assert anon.get(f"/api/hub/collections?owner={fan.username}").json()["items"][0]["id"] == collection.id
    assert anon.get("/api/hub/collections").status_code == 401
    assert anon.get("/api/hub/collections/favorites").status_code == 401
    assert post(anon, "/api/hub/collections", {"name": "x"}).status_code == 401
    assert (
        anon.patch(
            f"/api/hub/collections/{collection.id}", {"name": "x"}, content_type="application/json"
        ).status_code
        == 401
    )
    assert anon.delete(f"/api/hub/collections/{collection.id}").status_code == 401
    assert (
        post(
            anon, f"/api/hub/collections/{collection.id}/items", {"item_type": "model", "item_id": model.id}
        ).status_code
        == 401
    )
    assert anon.get(f"/collections/{collection.id}").status_code == 200
    assert anon.post("/collections/").status_code == 302  # to the login page


def test_only_the_owner_changes_a_collection_others_get_403(model, fan, creator):
    collection = collections.create_collection(owner=fan, name="Mine")
    other = api_client(creator)
    path = f"/api/hub/collections/{collection.id}"
    assert other.patch(path, {"name": "Stolen"}, content_type="application/json").status_code == 403
    assert other.delete(path).status_code == 403
    assert post(other, f"{path}/items", {"item_type": "model", "item_id": model.id}).status_code == 403
    item = collections.add_item(collection=collection, by=fan, target={"model": model})[0]
    assert other.delete(f"{path}/items/{item.id}").status_code == 403
    collection.refresh_from_db()
    assert collection.name == "Mine" and collection.items.count() == 1
    # The page forms: the same refusal, nothing changed.
    browser = Client()
    browser.force_login(creator)
    browser.post(f"/collections/{collection.id}/edit", {"name": "Stolen"})
    browser.post(f"/collections/{collection.id}/delete")
    browser.post(f"/collections/{collection.id}/items/{item.id}/remove")
    collection.refresh_from_db()
    assert collection.name == "Mine" and collection.items.count() == 1

    owner = api_client(fan)
    edited = owner.patch(path, {"name": "Renamed", "visibility": "private"}, content_type="application/json")
    assert edited.status_code == 200 and edited.json()["name"] == "Renamed"
    assert owner.delete(path).status_code == 204
    assert not Collection.objects.filter(id=collection.id).exists()
    assert AIModel.objects.filter(id=model.id).exists()


def test_a_private_collection_is_404_to_everyone_but_its_owner(model, fan, creator):
    collection = collections.create_collection(owner=fan, name="Secret", visibility="private")
    for client in (Client(), api_client(creator)):
        assert client.get(f"/api/hub/collections/{collection.id}").status_code == 404
        assert client.get(f"/api/hub/collections/{collection.id}/items").status_code == 404
        assert client.patch(
            f"/api/hub/collections/{collection.id}", {"name": "x"}, content_type="application/json"
        ).status_code in (401, 404)
        assert client.get(f"/collections/{collection.id}").status_code == 404
    assert api_client(creator).get(f"/api/hub/collections?owner={fan.username}").json()["items"] == []
    mine = api_client(fan).get("/api/hub/collections").json()["items"]
    assert [c["name"] for c in mine] == ["Secret"]
    browser = Client()
    browser.force_login(creator)
    assert browser.get(f"/collections/{collection.id}").status_code == 404
    assert "Secret" not in browser.get(f"/user/{fan.username}").content.decode()


def test_favourites_cannot_be_renamed_or_deleted(fan):
    api = api_client(fan)
    fav = api.get("/api/hub/collections/favorites").json()
    renamed = api.patch("/api/hub/collections/favorites", {"name": "Other"}, content_type="application/json")
    assert renamed.status_code == 400 and "renamed" in renamed.json()["detail"]
    deleted = api.delete(f"/api/hub/collections/{fav['id']}")
    assert deleted.status_code == 400 and "can't be deleted" in deleted.json()["detail"]
    public = api.patch(
        "/api/hub/collections/favorites", {"visibility": "public"}, content_type="application/json"
    )
    assert public.status_code == 200 and public.json()["visibility"] == "public"
    assert Client().get(f"/api/hub/collections/{fav['id']}").status_code == 200


def test_bad_input_gets_a_clear_400_and_writes_nothing(model, fan):
    api = api_client(fan)
    assert post(api, "/api/hub/collections", {"name": "   "}).status_code == 400
    assert post(api, "/api/hub/collections", {"name": "x" * 101}).status_code == 400
    assert post(api, "/api/hub/collections", {"name": "ok", "visibility": "secret"}).status_code == 400
    assert not Collection.objects.filter(owner=fan).exists()
    cid = post(api, "/api/hub/collections", {"name": "ok"}).json()["id"]
    for body in (
        {"item_type": "comment", "item_id": 1},
        {"item_type": "model"},
        {"item_type": "model", "item_id": "x"},
    ):
        assert post(api, f"/api/hub/collections/{cid}/items", body).status_code == 400
    assert (
        post(api, f"/api/hub/collections/{cid}/items", {"item_type": "model", "item_id": 999999}).status_code
        == 404
    )
    assert api.get("/api/hub/collections/999999").status_code == 404
    assert api.get("/api/hub/collections/abc").status_code == 404
    assert api.get(f"/api/hub/collections/{cid}/items?page=0").status_code == 400
    assert not CollectionItem.objects.exists()


def test_a_draft_cannot_be_collected_by_others_and_unpublished_items_are_not_shown(creator, fan):
    draft = make_model(creator, name="Draft", publish=False)
    api = api_client(fan)
    assert (
        post(
            api, "/api/hub/collections/favorites/items", {"item_type": "model", "item_id": draft.id}
        ).status_code
        == 404
    )

    model = make_model(creator, name="Later Unpublished")
    cid = post(api, "/api/hub/collections", {"name": "Picks"}).json()["id"]
    post(api, f"/api/hub/collections/{cid}/items", {"item_type": "model", "item_id": model.id})
    post(
        api, f"/api/hub/collections/{cid}/items", {"item_type": "version", "item_id": model.versions.get().id}
    )
    services.unpublish_model(model=model, by=creator)
    assert AIModel.objects.get(id=model.id).status == PublishStatus.UNPUBLISHED
    listed = Client().get(f"/api/hub/collections/{cid}/items").json()
    assert listed["items"] == [] and listed["count"] == 0
    page = Client().get(f"/collections/{cid}").content.decode()
    assert "Later Unpublished" not in page and 'data-testid="collection-empty"' in page
    # The item is kept: the model's creator still sees it there.
    owner_view = api_client(creator).get(f"/api/hub/collections/{cid}/items").json()
    assert owner_view["count"] == 2


def test_names_and_descriptions_are_shown_as_text_never_as_html(model, fan):
    attack = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    collection = collections.create_collection(owner=fan, name=attack, description=attack + "\nline two")
    collections.add_item(collection=collection, by=fan, target={"model": model})
    for url in (f"/collections/{collection.id}", f"/user/{fan.username}"):
        html = Client().get(url).content.decode()
        assert "<script>alert(1)" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    picker = Client()
    picker.force_login(fan)
    html = picker.get(model.get_absolute_url()).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html


def test_the_model_page_heart_adds_and_removes_a_favourite(model, fan):
    browser = Client()
    page = browser.get(model.get_absolute_url()).content.decode()
    assert "Log in to add to favourites" in page and 'data-testid="like-count">0 favourites' in page
    browser.force_login(fan)
    url = model.get_absolute_url()
    assert browser.post(f"/favourite/model/{model.id}", {"action": "add", "next": url})["Location"] == url
    page = browser.get(url).content.decode()
    assert "In your favourites" in page and 'data-testid="like-count">1 favourite<' in page
    favourites = browser.get("/collections/favorites", follow=True).content.decode()
    assert "Tiny Watercolor" in favourites
    browser.post(f"/favourite/model/{model.id}", {"action": "remove", "next": url})
    assert likes(model) == 0


def test_save_to_collection_picker_makes_a_collection_and_adds(model, fan):
    browser = Client()
    browser.force_login(fan)
    browser.post(f"/collect/model/{model.id}", {"new_name": "Watercolours", "next": "/"})
    collection = Collection.objects.get(owner=fan, name="Watercolours")
    assert collection.items.get().model_id == model.id
    other = collections.create_collection(owner=fan, name="Second")
    browser.post(f"/collect/model/{model.id}", {"collection": other.id})
    assert other.items.count() == 1
    someone_elses = collections.create_collection(owner=make_user("dora"), name="Dora's")
    browser.post(f"/collect/model/{model.id}", {"collection": someone_elses.id})
    assert someone_elses.items.count() == 0
    mine = browser.get("/collections/").content.decode()
    assert "Watercolours" in mine and "Second" in mine and "Dora" not in mine


def test_the_picker_ticks_what_holds_the_model_and_costs_the_same_for_a_viewer_with_many_items(
    model, creator, fan
):
    from django.test.utils import CaptureQueriesContext

    browser = Client()
    browser.force_login(fan)
    url = model.get_absolute_url()

    def page_and_queries():
        with CaptureQueriesContext(connection) as captured:
            html = browser.get(url).content.decode()
        return html, len(captured)

    page, before = page_and_queries()
    assert "Add to favourites" in page and "<select" not in page  # nothing to pick from yet
    holding = collections.create_collection(owner=fan, name="Holds it")
    collections.add_item(collection=holding, by=fan, target={"model": model})
    crowded = collections.create_collection(owner=fan, name="Crowded")
    others = [make_model(creator, name=f"Other {i}", filename=f"o{i}.safetensors") for i in range(4)]
    for other in others:
        collections.add_item(collection=crowded, by=fan, target={"model": other})
    favourites = collections.favourites_of(fan, create=True)
    collections.add_item(collection=favourites, by=fan, target={"model": others[0]})

    page, after = page_and_queries()
    assert f'value="{holding.id}">Holds it ✓</option>' in page
    assert f'value="{crowded.id}">Crowded</option>' in page
    assert "Favourites</option>" not in page  # the heart is the favourites' button
    assert "Add to favourites" in page  # another model is in them, not this one
    assert after == before
    collections.add_item(collection=favourites, by=fan, target={"model": model})
    assert "In your favourites" in page_and_queries()[0]


def test_the_collection_page_paginates_and_its_owner_removes_items(creator, fan):
    models = [make_model(creator, name=f"Model {i:02d}", filename=f"m{i}.safetensors") for i in range(3)]
    collection = collections.create_collection(owner=fan, name="Many")
    for m in models:
        collections.add_item(collection=collection, by=fan, target={"model": m})
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(collections, "PAGE_SIZE", 2)
        first = Client().get(f"/collections/{collection.id}").content.decode()
        second = Client().get(f"/collections/{collection.id}?page=2").content.decode()
    assert "Model 02" in first and "Model 01" in first and "Model 00" not in first
    assert "Model 00" in second and "Page 2 of 2" in second
    owner = Client()
    owner.force_login(fan)
    item = collection.items.get(model=models[0])
    assert 'data-testid="remove-item"' in owner.get(f"/collections/{collection.id}").content.decode()
    assert 'data-testid="remove-item"' not in Client().get(f"/collections/{collection.id}").content.decode()
    owner.post(f"/collections/{collection.id}/items/{item.id}/remove")
    assert collection.items.count() == 2


def test_civitai_favorites_with_a_key_returns_the_key_owners_favourite_models(creator, fan):
    liked = make_model(creator, name="Liked")
    make_model(creator, name="Not liked", filename="other.safetensors")
    collections.set_favourite(user=fan, target={"model": liked}, on=True)
    _, key = ApiKey.create(user=fan, name="tool")
    answer = Client().get("/api/v1/models?favorites=true", headers={"Authorization": f"Bearer {key}"}).json()
    assert [m["name"] for m in answer["items"]] == ["Liked"]
    assert answer["items"][0]["stats"]["favoriteCount"] == 1
    _, creator_key = ApiKey.create(user=creator, name="tool")
    assert Client().get(f"/api/v1/models?favorites=true&token={creator_key}").json()["items"] == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writes need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_favourites_keep_the_like_count_exact(base_models):
    owner = make_user("owner")
    model = make_model(owner)
    users = [make_user(f"fan{i}") for i in range(5)]
    # Two threads per user: the same person clicking in two tabs races on their own item too.
    clickers = [(u, seed) for u in users for seed in (1, 2)]
    barrier = threading.Barrier(len(clickers))
    errors = []

    def click(user, seed):
        try:
            rng = random.Random(user.id * 10 + seed)
            barrier.wait()
            for _ in range(15):
                collections.set_favourite(user=user, target={"model": model}, on=rng.random() < 0.6)
        except Exception as exc:  # surfaced below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("django.conf.settings.COLLECTION_RATE_LIMIT", 0)
        threads = [threading.Thread(target=click, args=clicker) for clicker in clickers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors
    holding = CollectionItem.objects.filter(collection__is_favorites=True, model=model).count()
    assert likes(model) == holding
    assert Collection.objects.filter(is_favorites=True).count() == len(users)


def test_too_many_additions_in_a_minute_get_429_and_add_nothing(creator, fan, settings):
    settings.COLLECTION_RATE_LIMIT = 2
    models = [make_model(creator, name=f"M{i}", filename=f"m{i}.safetensors") for i in range(3)]
    api = api_client(fan)
    answers = [
        post(api, "/api/hub/collections/favorites/items", {"item_type": "model", "item_id": m.id}).status_code
        for m in models
    ]
    assert answers == [201, 201, 429]
    assert likes(models[2]) == 0 and not CollectionItem.objects.filter(model=models[2]).exists()
    refused = post(api, "/api/hub/collections", {"name": "One more"})
    assert refused.status_code == 429 and "minute" in refused.json()["detail"]


def test_the_image_page_heart_makes_the_image_a_favourite(creator, fan, run_on_commit):
    image = add_example_image(
        make_model(creator).versions.get(), run_on_commit, name="cat.png", content=png()
    )
    browser = Client()
    browser.force_login(fan)
    url = image.get_absolute_url()
    assert "Add to favourites" in browser.get(url).content.decode()
    browser.post(f"/favourite/image/{image.id}", {"action": "add", "next": url})
    assert "In your favourites" in browser.get(url).content.decode()
    fav = collections.favourites_of(fan)
    assert [i.image_id for i in fav.items.all()] == [image.id]
    favourites = browser.get("/collections/favorites", follow=True).content.decode()
    assert f"/images/thumbnails/{image.id}.webp" in favourites


def test_deleting_an_account_takes_its_favourites_out_of_the_like_counts(model, fan):
    collections.set_favourite(user=fan, target={"model": model}, on=True)
    collections.set_favourite(user=make_user("dora"), target={"model": model}, on=True)
    assert likes(model) == 2
    fan.delete()
    assert likes(model) == 1


def test_a_collection_hidden_by_moderation_is_kept_but_shown_to_its_owner_only(model, fan, creator):
    collection = collections.create_collection(owner=fan, name="Flagged")
    collections.add_item(collection=collection, by=fan, target={"model": model})
    Collection.objects.filter(id=collection.id).update(status="hidden")
    for client in (Client(), api_client(creator)):
        assert client.get(f"/api/hub/collections/{collection.id}").status_code == 404
        assert client.get(f"/api/hub/collections?owner={fan.username}").json()["items"] == []
        assert client.get(f"/collections/{collection.id}").status_code == 404
        assert "Flagged" not in client.get(f"/user/{fan.username}").content.decode()
    owner = Client()
    owner.force_login(fan)
    assert "Hidden by moderators" in owner.get(f"/collections/{collection.id}").content.decode()
    assert api_client(fan).get(f"/api/hub/collections/{collection.id}").status_code == 200


def test_the_picker_without_a_choice_says_what_to_do(model, fan):
    browser = Client()
    browser.force_login(fan)
    page = browser.post(f"/collect/model/{model.id}", {"next": model.get_absolute_url()}, follow=True)
    assert "Choose a collection, or name a new one." in page.content.decode()
    assert not CollectionItem.objects.exists()


def test_the_buttons_drawn_once_per_content_show_each_viewer_their_own_with_their_own_token(model, fan):
    """The heart and picker are remembered per distinct content (models_app/rendered_once.py): a viewer
    with the same content gets the same HTML, but never another's collections, heart or CSRF token."""
    import re

    dora = make_user("dora")
    collections.create_collection(owner=dora, name="Dora's Inks")
    url = model.get_absolute_url()
    browsers = {}
    for user in (dora, fan, make_user("erin")):
        browsers[user.username] = Client(enforce_csrf_checks=True)
        browsers[user.username].force_login(user)

    pages = {name: browser.get(url).content.decode() for name, browser in browsers.items()}
    assert "Dora&#x27;s Inks</option>" in pages["dora"]
    assert "Dora" not in pages["bob"] and "Dora" not in pages["erin"]
    tokens = {
        name: re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page) for name, page in pages.items()
    }
    assert all(len(found) >= 2 and "collectionbuttons" not in found[0] for found in tokens.values())

    # bob's token, taken from the remembered buttons, is his: the heart works with it.
    hearted = browsers["bob"].post(
        f"/favourite/model/{model.id}",
        {"csrfmiddlewaretoken": tokens["bob"][-1], "action": "add", "next": url},
    )
    assert hearted.status_code == 302 and likes(model) == 1
    assert "In your favourites" in browsers["bob"].get(url).content.decode()
    assert "Add to favourites" in browsers["erin"].get(url).content.decode()

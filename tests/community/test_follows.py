"""Follows and the feed (issue 14, item 3, and the follows part of item 8; docs/follows.md)."""

import io
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image as PILImage

from community.models import ApiKey, Follow
from models_app import services
from models_app.models import ModelVersion, PublishStatus
from resources.models import Image
from tests.conftest import ClosingClient as Client
from tests.factories import add_example_image, make_user, publish_model

pytestmark = pytest.mark.django_db


def png(color="teal") -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (64, 48), color).save(out, "PNG")
    return out.getvalue()


def api_client(user) -> Client:
    _, raw = ApiKey.create(user=user, name="script")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def follow_api(api, target_type, target_id, method="post"):
    return getattr(api, method)(
        "/api/hub/follows",
        {"target_type": target_type, "target_id": target_id},
        content_type="application/json",
    )


def new_version(model, name, *, status=PublishStatus.PUBLISHED, when=None) -> ModelVersion:
    """Another version of `model`, set straight to a status (the pipeline is tested elsewhere)."""
    version = services.create_version(model=model, name=name, base_model="SD 1.5", trained_words=[])
    ModelVersion.objects.filter(id=version.id).update(
        status=status, published_at=(when or timezone.now()) if status == PublishStatus.PUBLISHED else None
    )
    return version


def test_anonymous_visitors_are_sent_to_log_in_or_get_401(creator):
    assert Client().get("/feed/")["Location"].startswith("/accounts/login/")
    assert Client().post(f"/follow/user/{creator.id}")["Location"].startswith("/accounts/login/")
    assert Client().get("/api/hub/follows").status_code == 401
    assert Client().get("/api/hub/feed").status_code == 401
    assert follow_api(Client(), "user", creator.id).status_code == 401
    assert follow_api(Client(), "user", creator.id, "delete").status_code == 401


def test_follow_and_unfollow_by_api_are_idempotent(creator, fan):
    api = api_client(fan)
    first = follow_api(api, "user", creator.id)
    assert first.status_code == 201
    assert first.json() | {"created_at": None} == {
        "id": first.json()["id"],
        "target_type": "user",
        "target_id": creator.id,
        "name": "alice",
        "url": "/user/alice",
        "created_at": None,
    }
    again = follow_api(api, "user", creator.id)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert [f["name"] for f in api.get("/api/hub/follows").json()["items"]] == ["alice"]
    assert follow_api(api, "user", creator.id, "delete").status_code == 204
    assert follow_api(api, "user", creator.id, "delete").status_code == 204
    assert api.get("/api/hub/follows").json() == {"items": []}
    row = follow_api(api, "user", creator.id).json()
    assert api.delete(f"/api/hub/follows/{row['id']}").status_code == 204
    assert api.delete(f"/api/hub/follows/{row['id']}").status_code == 404
    other = follow_api(api_client(make_user("carol")), "user", creator.id).json()
    assert api.delete(f"/api/hub/follows/{other['id']}").status_code == 404  # not yours: as missing


def test_you_cant_follow_yourself_nor_what_you_cant_see(creator, fan):
    api = api_client(creator)
    refused = follow_api(api, "user", creator.id)
    assert refused.status_code == 400 and refused.json()["detail"] == "You can't follow yourself."
    draft = publish_model(fan, publish=False, name="Secret").model
    assert follow_api(api, "model", draft.id).status_code == 404
    assert follow_api(api, "model", 999999).status_code == 404
    assert follow_api(api, "user", 999999).status_code == 404
    assert follow_api(api, "group", 1).status_code == 400
    assert follow_api(api, "user", "x").status_code == 400
    assert not Follow.objects.exists()


def test_the_database_keeps_exactly_one_target_and_one_follow_per_target(creator, fan):
    Follow.objects.create(follower=fan, creator=creator)
    with pytest.raises(IntegrityError), transaction.atomic():
        Follow.objects.create(follower=fan, creator=creator)
    with pytest.raises(IntegrityError), transaction.atomic():
        Follow.objects.create(follower=fan)


def test_follow_writes_are_rate_limited(creator, fan, settings):
    settings.FOLLOW_RATE_LIMIT = 2
    api = api_client(fan)
    models = [publish_model(creator, name=f"M{i}").model for i in range(3)]
    assert [follow_api(api, "model", m.id).status_code for m in models] == [201, 201, 429]
    assert "wait a minute" in follow_api(api, "model", models[2].id).json()["detail"]


def test_follow_buttons_on_profiles_and_model_pages(client, creator, fan):
    model = publish_model(creator, name="Ink Lines").model
    client.force_login(fan)
    profile = client.get("/user/alice").content.decode()
    assert "0 followers" in profile and ">Follow</button>" in profile
    response = client.post(f"/follow/user/{creator.id}", {"action": "follow", "next": "/user/alice"})
    assert response.status_code == 302 and response["Location"] == "/user/alice"
    profile = client.get("/user/alice").content.decode()
    assert "1 follower<" in profile and ">Unfollow</button>" in profile
    # An unsafe next is ignored: back to the feed.
    response = client.post(f"/follow/model/{model.id}", {"next": "https://evil.example/"})
    assert response["Location"] == "/feed/"
    page = client.get(model.get_absolute_url()).content.decode()
    assert "1 follower<" in page and ">Unfollow</button>" in page
    client.post(f"/follow/model/{model.id}", {"action": "unfollow"})
    assert "0 followers" in client.get(model.get_absolute_url()).content.decode()
    # Your own profile shows the count but no button; a visitor is asked to log in.
    client.force_login(creator)
    own = client.get("/user/alice").content.decode()
    assert "1 follower<" in own and ">Follow</button>" not in own and "Feed</a>" in own
    response = client.post(f"/follow/user/{creator.id}")
    assert "You can&#x27;t follow yourself." in client.get("/feed/").content.decode()
    assert "Log in to follow" in Client().get("/user/alice").content.decode()


def test_the_feed_explains_how_to_follow_when_empty(client, fan):
    client.force_login(fan)
    page = client.get("/feed/").content.decode()
    assert "Follow creators or models to see their new versions and images here" in page
    assert 'href="/models/"' in page


def test_the_feed_shows_new_versions_and_images_of_followed_creators_and_models(
    client, creator, fan, run_on_commit
):
    carol = make_user("carol")
    followed_model = publish_model(carol, run_on_commit, name="Carol Model").model
    unfollowed = publish_model(carol, run_on_commit, name="Other Carol Model").model
    alice_version = publish_model(creator, run_on_commit, name="Alice Model")
    image = add_example_image(alice_version, run_on_commit, name="ex.png", content=png())
    Follow.objects.create(follower=fan, creator=creator)
    Follow.objects.create(follower=fan, model=followed_model)
    v2 = new_version(followed_model, "v2")
    new_version(followed_model, "draft v3", status=PublishStatus.DRAFT)
    gone = new_version(followed_model, "v4")
    services.unpublish_version(version=gone, by=carol)
    new_version(unfollowed, "v2")

    client.force_login(fan)
    page = client.get("/feed/").content.decode()
    assert "Carol Model v2" in page and "Alice Model v1.0" in page and "ex.png" in page
    # "Carol Model v4", not "v4": a bare "v4" also turns up in random tokens on the page (CSRF, hashes)
    assert "draft v3" not in page and "Carol Model v4" not in page and "Other Carol Model" not in page
    items = api_client(fan).get("/api/hub/feed").json()
    assert items["page"] == 1 and items["next_page"] is None
    kinds = {(i["kind"], i["id"]) for i in items["items"]}
    assert (
        ("version", v2.id) in kinds
        and ("image", image.id) in kinds
        and ("version", alice_version.id) in kinds
    )
    assert ("version", followed_model.versions.get(name="v1.0").id) in kinds
    first = items["items"][0]
    assert set(first) == {"kind", "id", "name", "url", "date", "model_id", "model_name", "creator"}
    dates = [i["date"] for i in items["items"]]
    assert dates == sorted(dates, reverse=True)


def test_the_feed_hides_mature_content_unless_asked(client, creator, fan, run_on_commit):
    mature = publish_model(creator, run_on_commit, name="Mature One", nsfw_level=4)
    Follow.objects.create(follower=fan, creator=creator)
    client.force_login(fan)
    assert "Mature One" not in client.get("/feed/").content.decode()
    api = api_client(fan)
    assert api.get("/api/hub/feed").json()["items"] == []
    assert [i["id"] for i in api.get("/api/hub/feed?nsfw=true").json()["items"]] == [mature.id]
    client.post("/preferences/nsfw", {"show": "1"})
    assert "Mature One" in client.get("/feed/").content.decode()


def test_the_feed_pages_and_refuses_bad_pages(creator, fan):
    model = publish_model(creator, name="Paged").model
    start = timezone.now() - timedelta(days=1)
    for i in range(35):
        new_version(model, f"p{i}", when=start + timedelta(minutes=i))
    Follow.objects.create(follower=fan, model=model)
    api = api_client(fan)
    first = api.get("/api/hub/feed").json()
    assert len(first["items"]) == 30 and first["next_page"] == 2
    second = api.get("/api/hub/feed?page=2").json()
    assert len(second["items"]) == 6 and second["next_page"] is None
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}
    assert api.get("/api/hub/feed?page=abc").status_code == 400
    assert api.get("/api/hub/feed?page=0").status_code == 400


def _feed_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/feed/").status_code == 200
    return len(queries)


def test_the_feed_query_count_does_not_grow_with_its_items(client, creator, fan, run_on_commit):
    version = publish_model(creator, run_on_commit, name="Counted")
    image = add_example_image(version, run_on_commit, name="ex.png", content=png())
    Follow.objects.create(follower=fan, creator=creator)
    client.force_login(fan)

    def add(n):
        for i in range(n):
            new_version(version.model, f"n{ModelVersion.objects.count()}")
            Image.objects.create(
                owner=creator, post=image.post, blob=image.blob, name=f"copy{i}.png", status=image.status
            )

    add(2)
    few = _feed_queries(client)
    add(8)
    assert _feed_queries(client) == few
    page = client.get("/feed/").content.decode()
    assert page.count('data-kind="version"') == 11 and page.count('data-kind="image"') == 11

"""Profiles (issue 14, item 7, and its API; docs/profiles.md): bio, links, avatar through the image
pipeline, and the public page's figures."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image as PILImage

from community import collections, profiles, reviews
from community.models import ApiKey, Follow, Profile
from models_app.models import AIModel
from resources.models import Image, ImageStatus
from tests.conftest import ClosingClient as Client
from tests.factories import make_model, make_user

pytestmark = pytest.mark.django_db


def png(color="teal", size=(64, 48)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def api_client(user) -> Client:
    _, raw = ApiKey.create(user=user, name="script")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def patch(client, body):
    return client.patch("/api/hub/profile", body, content_type="application/json")


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_no_profile_row_is_written_by_reading(fan):
    assert Client().get(f"/user/{fan.username}").status_code == 200
    assert Client().get(f"/api/hub/users/{fan.username}").json()["bio"] == ""
    assert not Profile.objects.exists()


def test_the_settings_page_saves_bio_and_links_shown_on_the_profile(fan):
    browser = logged_in(fan)
    assert browser.get("/settings/profile").status_code == 200
    response = browser.post(
        "/settings/profile",
        {"bio": "I paint with **ink**.", "links": ["https://ink.example/", "", "http://b.test"]},
    )
    assert response.status_code == 302
    page = Client().get(f"/user/{fan.username}").content.decode()
    assert "<strong>ink</strong>" in page
    assert '<a href="https://ink.example/" rel="nofollow ugc noopener">' in page and "http://b.test" in page
    assert "Joined" in page


def test_anonymous_visitors_are_sent_to_log_in_and_the_api_wants_a_key():
    assert Client().get("/settings/profile")["Location"].startswith("/accounts/login/")
    assert patch(Client(), {"bio": "x"}).status_code == 401
    assert Client().get("/api/hub/profile").status_code == 401
    assert Client().get("/api/hub/users/nobody").status_code == 404


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "/relative/path",
        "ftp://files.example",
        "https://user:pw@evil.example",
        "https://",
        "https://a.example/\nb",
    ],
)
def test_a_link_that_is_not_an_http_address_is_refused(fan, link):
    response = patch(api_client(fan), {"links": [link]})
    assert response.status_code == 400 and "https://" in response.json()["detail"]
    page = logged_in(fan).post("/settings/profile", {"bio": "kept?", "links": [link]})
    assert page.status_code == 200 and 'data-testid="profile-errors"' in page.content.decode()
    assert not Profile.objects.filter(user=fan).exclude(links=[]).exists()


def test_at_most_five_links_and_a_bounded_bio(fan):
    api = api_client(fan)
    assert patch(api, {"links": [f"https://{i}.example" for i in range(6)]}).status_code == 400
    assert patch(api, {"bio": "x" * 2001}).status_code == 400
    ok = patch(api, {"links": [f"https://{i}.example" for i in range(5)]})
    assert ok.status_code == 200 and len(ok.json()["links"]) == 5
    assert patch(api, {"bio": "only the bio"}).json()["links"] == ok.json()["links"]  # untouched


def test_bio_and_links_are_rendered_safely(fan):
    attack = '<script>alert(1)</script><img src=x onerror=alert(2)> [x](javascript:alert(3)) <a href="javascript:alert(4)">y</a>'
    body = patch(
        api_client(fan), {"bio": attack, "links": ['https://e.example/"><script>alert(5)</script>']}
    ).json()
    for html in (body["bio_html"], Client().get(f"/user/{fan.username}").content.decode()):
        # Raw HTML is shown as text, never as tags; a Markdown link to javascript: is no link.
        assert "<script>alert" not in html and "<img src=x" not in html
        assert not re.search(r"<a [^>]*javascript:", html, re.IGNORECASE)
    page = Client().get(f"/user/{fan.username}").content.decode()
    assert "&quot;&gt;&lt;script&gt;alert(5)" in page


def test_an_avatar_goes_through_the_image_pipeline_and_shows_when_ready(fan, run_on_commit):
    browser = logged_in(fan)
    with run_on_commit():
        response = browser.post(
            "/settings/profile", {"bio": "", "avatar": SimpleUploadedFile("me.png", png(), "image/png")}
        )
    assert response.status_code == 302
    image = Profile.objects.get(user=fan).avatar
    image.refresh_from_db()
    assert image.status == ImageStatus.READY and image.thumbnail_key and image.owner_id == fan.id
    assert (
        f'src="/images/thumbnails/{image.id}.webp"' in Client().get(f"/user/{fan.username}").content.decode()
    )
    assert (
        Client().get(f"/api/hub/users/{fan.username}").json()["avatar_url"]
        == f"/images/thumbnails/{image.id}.webp"
    )
    assert Client().get(f"/images/thumbnails/{image.id}.webp").status_code == 200
    browser.post("/settings/profile", {"action": "remove_avatar"})
    assert Client().get(f"/api/hub/users/{fan.username}").json()["avatar_url"] is None


@pytest.mark.parametrize(
    "name, content",
    [
        ("me.png", b"<html><script>alert(1)</script></html>"),
        ("me.png", b"\x80\x04\x95" + b"cos\nsystem\n" * 10),
        ("me.jpg", png()[:40]),  # a cut file
    ],
)
def test_a_hostile_avatar_is_refused_with_a_clear_sentence(fan, run_on_commit, name, content):
    browser = logged_in(fan)
    with run_on_commit():
        browser.post(
            "/settings/profile", {"bio": "", "avatar": SimpleUploadedFile(name, content, "image/png")}
        )
    image = Profile.objects.get(user=fan).avatar
    image.refresh_from_db()
    assert image.status == ImageStatus.REJECTED
    settings_page = browser.get("/settings/profile").content.decode()
    assert 'data-testid="avatar-refused"' in settings_page and "Your avatar was refused" in settings_page
    profile_page = Client().get(f"/user/{fan.username}").content.decode()
    assert 'data-testid="avatar"' not in profile_page
    assert Client().get(f"/api/hub/users/{fan.username}").json()["avatar_url"] is None


@pytest.mark.parametrize("name", ["me.svg", "me.html", "me", "me.gif.exe"])
def test_an_avatar_that_is_not_a_png_jpeg_or_webp_is_refused_at_once(fan, name):
    response = logged_in(fan).post(
        "/settings/profile", {"bio": "", "avatar": SimpleUploadedFile(name, png(), "image/png")}
    )
    assert response.status_code == 200 and "PNG, JPEG or WebP" in response.content.decode()
    assert not Image.objects.exists()


def test_the_profile_shows_models_images_public_collections_and_figures(creator, fan, moderator):
    model = make_model(creator, name="Shown Model")
    draft = make_model(creator, name="Secret Draft", publish=False, filename="d.safetensors")
    AIModel.objects.filter(id=model.id).update(download_count=1234)
    AIModel.objects.filter(id=draft.id).update(download_count=99)
    reviews.submit_review(fan, model.versions.get(), True, "")
    reviews.submit_review(moderator, model.versions.get(), False, "")
    Follow.objects.create(follower=fan, creator=creator)
    collections.create_collection(owner=creator, name="Public Picks")
    collections.create_collection(owner=creator, name="Hidden Picks", visibility="private")
    page = Client().get(f"/user/{creator.username}").content.decode()
    assert "Shown Model" in page and "Secret Draft" not in page
    assert "Public Picks" in page and "Hidden Picks" not in page
    assert "1,234 downloads" in page or "1234 downloads" in page
    assert "👍 1 · 👎 1" in page and "1 follower" in page
    stats = Client().get(f"/api/hub/users/{creator.username}").json()["stats"]
    assert stats == {"models": 1, "followers": 1, "downloads": 1234, "thumbs_up": 1, "thumbs_down": 1}
    own = api_client(creator).get("/api/hub/profile").json()["stats"]
    assert own["models"] == 2 and own["downloads"] == 1234 + 99
    assert "Hidden Picks" in logged_in(creator).get(f"/user/{creator.username}").content.decode()


def test_the_profile_page_query_count_does_not_grow_with_content(creator, fan):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert Client().get(f"/user/{creator.username}").status_code == 200
        return len(captured)

    make_model(creator, name="First", filename="a.safetensors")
    collections.create_collection(owner=creator, name="C0")
    profiles.update_profile(user=creator, changes={"bio": "hi", "links": ["https://a.example"]})
    few = queries()
    for i in range(1, 5):
        make_model(creator, name=f"Model {i}", filename=f"m{i}.safetensors")
        collections.create_collection(owner=creator, name=f"C{i}")
        Follow.objects.create(follower=make_user(f"f{i}"), creator=creator)
    assert queries() == few


def test_settings_profile_round_trip_through_the_api_is_the_same_service(fan):
    api = api_client(fan)
    body = patch(api, {"bio": "# Hello", "links": ["https://a.example"]}).json()
    assert body["bio_html"].startswith("<h1>") and body["url"] == f"/user/{fan.username}"
    form = logged_in(fan).get("/settings/profile").content.decode()
    assert "# Hello" in form and 'value="https://a.example"' in form
    make_user("other")
    assert Client().get("/api/hub/users/other").json()["bio"] == ""


def test_the_avatar_api_posts_through_the_pipeline_and_reports_a_refusal(fan, run_on_commit):
    api = api_client(fan)
    assert api.get("/api/hub/profile/avatar").status_code == 404
    with run_on_commit():
        started = api.post(
            "/api/hub/profile/avatar", {"avatar": SimpleUploadedFile("me.png", png(), "image/png")}
        )
    assert started.status_code == 202 and started.json()["status"] == "pending"
    ready = api.get("/api/hub/profile/avatar").json()
    assert (
        ready["status"] == "ready" and ready["avatar_url"] == f"/images/thumbnails/{ready['image_id']}.webp"
    )
    assert api.get("/api/hub/profile").json()["avatar_url"] == ready["avatar_url"]

    with run_on_commit():
        api.post(
            "/api/hub/profile/avatar",
            {"avatar": SimpleUploadedFile("evil.png", b"<svg onload=alert(1)>", "image/png")},
        )
    refused = api.get("/api/hub/profile/avatar").json()
    assert refused["status"] == "rejected" and refused["message"] and refused["avatar_url"] is None
    assert Client().get(f"/api/hub/users/{fan.username}").json()["avatar_url"] is None

    bad = api.post(
        "/api/hub/profile/avatar", {"avatar": SimpleUploadedFile("me.svg", png(), "image/svg+xml")}
    )
    assert bad.status_code == 400 and "PNG, JPEG or WebP" in bad.json()["detail"]
    assert api.post("/api/hub/profile/avatar", {}).status_code == 400
    assert Client().post("/api/hub/profile/avatar", {}).status_code == 401
    assert api.delete("/api/hub/profile/avatar").status_code == 204
    assert api.get("/api/hub/profile/avatar").status_code == 404

"""What people see on the home page, the model pages and search."""

import io

import pytest
from django.core.management import call_command

from models_app.models import AIModel
from tests.factories import make_model

pytestmark = pytest.mark.django_db


def test_home_page_links_to_each_demo_model(client):
    call_command("seed_demo", stdout=io.StringIO())
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    for model in AIModel.objects.all():
        assert f'href="/models/{model.id}/{model.slug}"' in html
        assert model.name in html
    assert 'action="/search/"' in html and "Log in" in html and "Sign up" in html


def test_home_page_says_so_when_nothing_is_published(client):
    response = client.get("/")
    assert "No models have been published yet" in response.content.decode()


def test_model_page_shows_versions_files_and_permissions(client, creator, run_on_commit):
    with run_on_commit():
        model = make_model(
            creator, description="Use **softly**.", tags=["style"], allow_commercial_sell=False
        )
    response = client.get(model.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert "<strong>softly</strong>" in html
    assert "v1.0" in html and "SD 1.5" in html and "tiny.safetensors" in html
    assert model.versions.get().files.get().blob.sha256[:10] in html
    assert '<li class="no">Sell this model or merges</li>' in html
    assert "/tag/style" in html


def test_model_url_without_or_with_a_wrong_slug_redirects_to_the_canonical_one(client, creator):
    model = make_model(creator)
    for url in (f"/models/{model.id}", f"/models/{model.id}/old-name"):
        response = client.get(url)
        assert response.status_code == 301
        assert response["Location"] == model.get_absolute_url()


def test_unknown_model_is_a_friendly_404(client):
    response = client.get("/models/999999/nothing")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_drafts_are_visible_to_their_creator_and_moderators_only(client, creator, fan, moderator):
    model = make_model(creator, name="Secret draft", publish=False)
    url = model.get_absolute_url()
    assert client.get(url).status_code == 404
    assert "Secret draft" not in client.get("/").content.decode()
    client.force_login(fan)
    assert client.get(url).status_code == 404
    client.force_login(creator)
    assert client.get(url).status_code == 200
    client.force_login(moderator)
    assert client.get(url).status_code == 200


def test_user_page_lists_published_models(client, creator):
    make_model(creator, name="Public one")
    make_model(creator, name="Hidden draft", publish=False)
    response = client.get(f"/user/{creator.username}")
    html = response.content.decode()
    assert response.status_code == 200 and creator.username in html
    assert "Public one" in html and "Hidden draft" not in html


def test_user_page_shows_drafts_to_their_creator_and_moderators_only(client, creator, fan, moderator):
    make_model(creator, name="Public one")
    make_model(creator, name="Work in progress", publish=False)
    page = f"/user/{creator.username}"
    assert "Work in progress" not in client.get(page).content.decode()
    for viewer, sees_draft in ((fan, False), (creator, True), (moderator, True)):
        client.force_login(viewer)
        html = client.get(page).content.decode()
        assert "Public one" in html and ("Work in progress" in html) == sees_draft, viewer.username


def test_user_page_of_someone_with_no_models_says_so(client, fan):
    assert "has not published a model yet" in client.get(f"/user/{fan.username}").content.decode()


def test_moderators_are_labelled_on_their_page(client, moderator):
    assert "Moderator" in client.get(f"/user/{moderator.username}").content.decode()


def test_unknown_user_page_is_404(client):
    assert client.get("/user/nobody-here").status_code == 404


def test_search_finds_models_by_name_and_tag(client, creator):
    make_model(creator, name="Tiny Watercolor", tags=["painting"])
    make_model(creator, name="Other Thing")
    html = client.get("/search/", {"q": "watercolor"}).content.decode()
    assert "Tiny Watercolor" in html and "Other Thing" not in html
    assert "Tiny Watercolor" in client.get("/search/", {"q": "painting"}).content.decode()
    assert "Nothing matches" in client.get("/search/", {"q": "zzz"}).content.decode()


def test_pages_use_only_local_assets(client):
    html = client.get("/").content.decode()
    assert "/static/css/hub.css" in html
    assert "cdn" not in html.lower() and "https://" not in html


def test_static_files_are_served(client):
    response = client.get("/static/css/hub.css")
    body = b"".join(response.streaming_content)
    response.close()
    assert response.status_code == 200 and b".model-card" in body


def test_health_check_answers(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_admin_lists_every_catalog_model(client, creator):
    make_model(creator)
    admin = type(creator).objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin)
    for name in ("aimodel", "modelversion", "modelfile", "contentblob", "tag", "basemodel"):
        response = client.get(f"/admin/models_app/{name}/")
        assert response.status_code == 200, name
    model = AIModel.objects.get()
    assert client.get(f"/admin/models_app/aimodel/{model.id}/change/").status_code == 200

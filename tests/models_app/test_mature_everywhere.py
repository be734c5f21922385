"""One content-level preference (models_app/preferences.py) for every page and API list, and a
warning before a direct link shows a mature model to someone who has not opted in."""

import pytest

from tests.factories import make_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(creator):
    return {
        "safe": make_model(creator, name="Calm Watercolor", tags=["painting"]),
        "mature": make_model(creator, name="Spicy Watercolor", tags=["painting"], nsfw_level=4),
    }


def opt_in(client, user):
    client.force_login(user)
    assert client.post("/preferences/nsfw", {"show": "1", "next": "/"}).status_code == 302


PAGES = [
    "/",
    "/search/?q=watercolor",
    "/search/?q=watercolor&fragment=suggestions",
    "/tag/painting",
    "/models/",
]


@pytest.mark.parametrize("path", PAGES)
def test_pages_hide_mature_models_until_the_visitor_opts_in(client, catalog, fan, path):
    html = client.get(path).content.decode()
    assert "Calm Watercolor" in html and "Spicy Watercolor" not in html  # anonymous
    client.force_login(fan)
    html = client.get(path).content.decode()
    assert "Calm Watercolor" in html and "Spicy Watercolor" not in html  # logged in, not opted in
    opt_in(client, fan)
    html = client.get(path).content.decode()
    assert "Calm Watercolor" in html and "Spicy Watercolor" in html
    client.post("/preferences/nsfw", {"show": "0", "next": "/"})
    assert "Spicy Watercolor" not in client.get(path).content.decode()


def test_the_creator_page_follows_the_preference_but_the_creator_sees_their_own(
    client, catalog, creator, fan
):
    assert "Spicy Watercolor" not in client.get("/user/alice").content.decode()
    opt_in(client, fan)
    assert "Spicy Watercolor" in client.get("/user/alice").content.decode()
    client.force_login(creator)
    assert "Spicy Watercolor" in client.get("/user/alice").content.decode()


def api_names(response) -> set[str]:
    assert response.status_code == 200, response.content
    body = response.json()
    items = body["items"] if isinstance(body, dict) else body
    return {item.get("name") or item["id"].split("/")[-1] for item in items}


@pytest.mark.parametrize(
    "path, safe, mature",
    [
        ("/api/hub/models", "Calm Watercolor", "Spicy Watercolor"),
        ("/api/hub/models?q=watercolor", "Calm Watercolor", "Spicy Watercolor"),
        ("/api/v1/models", "Calm Watercolor", "Spicy Watercolor"),
        ("/api/v1/models?query=watercolor", "Calm Watercolor", "Spicy Watercolor"),
        ("/api/models", "calm-watercolor", "spicy-watercolor"),
        ("/api/models?search=watercolor", "calm-watercolor", "spicy-watercolor"),
    ],
)
def test_api_lists_follow_the_same_preference_and_their_own_flag(client, catalog, fan, path, safe, mature):
    assert api_names(client.get(path)) == {safe}
    opt_in(client, fan)
    assert api_names(client.get(path)) == {safe, mature}
    if not path.startswith("/api/models"):  # the Hub's API has no such flag
        joiner = "&" if "?" in path else "?"
        assert api_names(client.get(f"{path}{joiner}nsfw=false")) == {safe}  # the request's flag wins
        client.logout()
        assert api_names(client.get(f"{path}{joiner}nsfw=true")) == {safe, mature}


def test_a_direct_link_to_a_mature_model_warns_first(client, catalog, fan):
    url = catalog["mature"].get_absolute_url()
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "This model is rated R" in html and "Show it" in html and "Go back" in html
    assert 'data-testid="example-image"' not in html and "Download" not in html
    shown = client.get(f"{url}?mature=show").content.decode()
    assert "This model is rated R" not in shown and "Spicy Watercolor" in shown
    client.force_login(fan)
    assert "This model is rated R" in client.get(url).content.decode()
    opt_in(client, fan)
    assert "This model is rated R" not in client.get(url).content.decode()


def test_a_safe_model_and_the_creator_own_mature_model_show_without_a_warning(client, catalog, creator):
    assert "This model is rated R" not in client.get(catalog["safe"].get_absolute_url()).content.decode()
    client.force_login(creator)
    assert "This model is rated R" not in client.get(catalog["mature"].get_absolute_url()).content.decode()


@pytest.mark.parametrize("path", ["/models/", "/tag/painting", "/models/?type=LORA&sort=downloads", "/"])
def test_the_header_search_box_is_empty_on_browse_pages(client, catalog, path):
    html = client.get(path).content.decode()
    assert "BrowseQuery" not in html
    assert 'name="q" value=""' in html


def test_the_header_search_box_shows_the_search_text_on_the_search_page(client, catalog):
    html = client.get("/search/", {"q": "water color"}).content.decode()
    assert 'name="q" value="water color"' in html

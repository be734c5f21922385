"""The "Show mature models" switch sends the visitor back where they were, and only there."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_switch_returns_to_the_page_it_was_used_on(client, fan):
    client.force_login(fan)
    response = client.post("/preferences/nsfw", {"show": "1", "next": "/models/?sort=newest"})
    assert response.status_code == 302 and response["Location"] == "/models/?sort=newest"
    assert client.session["show_nsfw"] is True


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/path",
        "/\\evil.example",
        "javascript:alert(1)",
        "foo",
        "models_app:browse",
        "",
        "http://testserver/models/",  # absolute, even to this host: the form only ever sends a path
    ],
)
def test_any_other_next_goes_to_the_model_list_instead(client, fan, target):
    client.force_login(fan)
    response = client.post("/preferences/nsfw", {"show": "1", "next": target})
    assert response.status_code == 302 and response["Location"] == "/models/"


def test_an_anonymous_visitor_is_sent_back_without_a_preference(client):
    response = client.post("/preferences/nsfw", {"show": "1", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/models/"
    assert "show_nsfw" not in client.session

"""The content-level picker (and the old "Show mature models" switch it replaced, at the same URL) sends
the visitor back where they were, and only there; the choice is kept on the account."""

import pytest

from models_app.models import ViewerPreference

pytestmark = pytest.mark.django_db


def test_the_switch_returns_to_the_page_it_was_used_on(client, fan):
    client.force_login(fan)
    response = client.post("/preferences/nsfw", {"show": "1", "next": "/models/?sort=newest"})
    assert response.status_code == 302 and response["Location"] == "/models/?sort=newest"
    assert ViewerPreference.objects.get(user=fan).browsing_levels == 31  # the old switch on: every level


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
    assert not ViewerPreference.objects.exists()


def test_the_picker_keeps_the_chosen_levels_and_mode_on_the_account(client, fan):
    client.force_login(fan)
    response = client.post(
        "/preferences/nsfw", {"levels": ["1", "2", "8"], "mode": "blur", "next": "/models/"}
    )
    assert response.status_code == 302 and response["Location"] == "/models/"
    row = ViewerPreference.objects.get(user=fan)
    assert (row.browsing_levels, row.blur_mature) == (11, True)
    client.logout()
    client.force_login(fan)  # another device: the same choice
    html = client.get("/models/").content.decode()
    assert 'value="8" checked' in html and 'value="4" checked' not in html
    assert 'value="blur" checked' in html


@pytest.mark.parametrize("levels", [["32"], ["64"], ["x"], []])
def test_blocked_and_junk_levels_are_refused_and_change_nothing(client, fan, levels):
    client.force_login(fan)
    response = client.post("/preferences/nsfw", {"levels": levels, "mode": "hide", "next": "/models/"})
    assert response.status_code == 302
    assert not ViewerPreference.objects.exists()
    assert "Choose the levels you want to see." in client.get("/models/").content.decode()

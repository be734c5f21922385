"""The frame around every page (hub/templatetags/chrome.py): rendered once per language and kept in
the process, it must still be each visitor's own: their language, their kind of navigation, the hub's
name."""

import re

import pytest

from tests.factories import PASSWORD, make_user
from tests.test_i18n import FRENCH, _english_afterwards  # noqa: F401 (an autouse fixture: English after each test)

pytestmark = pytest.mark.django_db


def _nav(page: str) -> str:
    nav = re.search(r'<nav class="nav".*?</nav>', page, re.S).group(0)
    return re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", nav)  # the visitor's own token


def _current_language_button(page: str) -> str:
    return re.search(r'<button[^>]*aria-current="true"[^>]*>(\w+)</button>', page).group(1)


def test_each_language_gets_its_own_frame_in_turn(client):
    english = client.get("/models/").content.decode()
    french = client.get("/models/", **FRENCH).content.decode()
    english_again = client.get("/models/").content.decode()
    assert "Log in" in _nav(english) and "Connexion" not in _nav(english)
    assert "Connexion" in _nav(french) and "Log in" not in _nav(french)
    assert _nav(english_again) == _nav(english)
    assert (_current_language_button(english), _current_language_button(french)) == ("EN", "FR")
    assert "open, self-hosted model sharing" in english and "open, self-hosted model sharing" not in french


def test_signed_in_and_anonymous_visitors_each_get_their_navigation(client):
    make_user("nora")
    client.login(username="nora", password=PASSWORD)
    signed_in = _nav(client.get("/models/").content.decode())
    assert "Upload" in signed_in and "Feed" in signed_in and ">nora</a>" in signed_in
    assert "Log in" not in signed_in and 'action="/accounts/logout/"' in signed_in
    client.logout()
    anonymous = _nav(client.get("/models/").content.decode())
    assert "Log in" in anonymous and "Sign up" in anonymous
    assert "Upload" not in anonymous and "nora" not in anonymous


def test_the_hubs_name_in_the_frame_follows_the_setting(client, settings):
    settings.SITE_NAME = "Paint Hub"
    page = client.get("/models/").content.decode()
    assert re.search(r'<a class="brand"[^>]*>.*Paint Hub</a>', page)
    assert "Paint Hub: open, self-hosted model sharing." in page

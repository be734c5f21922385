"""Counts read as English ("1 download", "2 downloads"), and only staff see the footer's Admin link."""

import re

import pytest

from tests.factories import make_model, make_user

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_one_download_is_singular_and_two_are_plural(client, creator, fan):
    model = make_model(creator)
    version = model.versions.get()
    page = _text(client.get(model.get_absolute_url()))
    assert "0 downloads" in page

    assert client.get(f"/api/download/models/{version.id}").status_code == 307
    page = _text(client.get(model.get_absolute_url()))
    assert "1 download " in page and "1 downloads" not in page
    card = client.get("/models/").content.decode()
    assert 'title="1 download"' in card

    client.force_login(fan)  # another visitor, counted separately
    assert client.get(f"/api/download/models/{version.id}").status_code == 307
    page = _text(client.get(model.get_absolute_url()))
    assert "2 downloads" in page


def test_the_footer_shows_the_admin_link_to_staff_only(client, creator):
    assert 'href="/admin/"' not in client.get("/").content.decode()  # anonymous
    client.force_login(creator)
    assert 'href="/admin/"' not in client.get("/").content.decode()  # a signed-in creator
    staff = make_user("sam", is_staff=True)
    client.force_login(staff)
    assert 'href="/admin/">Admin</a>' in client.get("/").content.decode()

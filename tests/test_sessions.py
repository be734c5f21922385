"""Sessions (hub/sessions.py): Django's database sessions, read with a query built once."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def _signed_in_as(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.context["user"].username


def test_a_session_keeps_its_person_signed_in_until_it_expires_or_they_log_out(client):
    make_user("alice")
    assert client.post("/accounts/login/", {"login": "alice", "password": PASSWORD}).status_code == 302
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert _signed_in_as(client) == "alice"
    assert _signed_in_as(client) == "alice"  # read again, from the same row

    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert _signed_in_as(client) == ""  # an expired row is no session

    assert client.post("/accounts/login/", {"login": "alice", "password": PASSWORD}).status_code == 302
    assert _signed_in_as(client) == "alice"
    client.post("/accounts/logout/")
    assert _signed_in_as(client) == ""


def test_a_cookie_naming_no_session_is_an_anonymous_visit(client):
    make_user("alice")
    for key in ("no-such-session-key-at-all", "x" * 400, "built-stand-in-1"):
        client.cookies[settings.SESSION_COOKIE_NAME] = key
        assert _signed_in_as(client) == ""

"""Sessions (hub/sessions.py): database sessions in the hub's table, read with their person in one
query built once."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session as DjangoSession
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hub.models import Session
from hub.sessions import SessionStore
from models_app import preferences, services
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


def _queries_of(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return [query["sql"] for query in queries.captured_queries]


def test_a_signed_in_request_reads_its_session_and_its_person_in_one_query(client):
    alice = make_user("alice")
    services.set_browsing_levels(alice, mask=3, blur=True)
    assert client.post("/accounts/login/", {"login": "alice", "password": PASSWORD}).status_code == 302
    assert (
        Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value).user_id
        == alice.pk
    )
    assert _signed_in_as(client) == "alice"
    sql = _queries_of(client, "/api/hub/models?limit=1")
    session_reads = [q for q in sql if "hub_session" in q]
    assert len(session_reads) == 1 and '"auth_user"' in session_reads[0]
    assert not [q for q in sql if q.lstrip().startswith('SELECT "auth_user"')]  # no second read of them
    request = client.get("/").wsgi_request
    assert preferences.stored(request.user) == preferences.Browsing(3, blur=True)  # their levels came along


def test_the_person_read_with_the_session_is_checked_as_django_checks_them(client):
    """A password changed elsewhere, a deactivated account, a deleted one: each signs the session's
    browser out, as with Django's own sessions; the page still answers."""
    for end in ("password", "deactivated", "deleted"):
        alice = make_user(f"alice-{end}")
        assert (
            client.post("/accounts/login/", {"login": alice.username, "password": PASSWORD}).status_code
            == 302
        )
        assert _signed_in_as(client) == alice.username
        if end == "password":
            alice.set_password("another-long-passphrase")
            alice.save()
        elif end == "deactivated":
            type(alice).objects.filter(pk=alice.pk).update(is_active=False)
        else:
            alice.delete()
        assert _signed_in_as(client) == "", end


def test_a_session_whose_row_names_nobody_still_signs_its_person_in(client):
    """A row saved without the person's id (as the migration leaves a session it could not decode,
    or one changed by hand) falls back to reading the person by the id in its data."""
    make_user("alice")
    assert client.post("/accounts/login/", {"login": "alice", "password": PASSWORD}).status_code == 302
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    Session.objects.filter(session_key=key).update(user_id=None)
    assert _signed_in_as(client) == "alice"
    Session.objects.filter(session_key=key).update(user_id=make_user("bob").pk)  # the data says alice
    assert _signed_in_as(client) == "alice"


@pytest.mark.django_db(transaction=True)
def test_sessions_made_before_the_move_keep_their_people_signed_in(client):
    """Migration hub 0002 moves Django's session rows to the hub's table with their person's id, and
    back when it is undone: a person signed in stays signed in both ways."""
    alice = make_user("alice")
    assert client.post("/accounts/login/", {"login": "alice", "password": PASSWORD}).status_code == 302
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    executor = MigrationExecutor(connection)
    before = [("hub", "0001_initial")]
    executor.migrate(before)  # undone: the session goes back to Django's table
    old = executor.loader.project_state([*before, ("sessions", "0001_initial")]).apps.get_model(
        "sessions", "Session"
    )
    assert old.objects.filter(session_key=key).exists()
    future = timezone.now() + timedelta(days=1)
    store = SessionStore()  # as the hub signs its sessions (the salt is the class's name)
    old.objects.create(session_key="b" * 32, session_data=store.encode({"x": 1}), expire_date=future)
    old.objects.create(session_key="c" * 32, session_data="not signed by this hub", expire_date=future)
    old.objects.create(
        session_key="d" * 32,
        session_data=old.objects.get(session_key=key).session_data,
        expire_date=timezone.now(),
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    moved = dict(Session.objects.values_list("session_key", "user_id"))
    assert moved == {key: alice.pk, "b" * 32: None, "c" * 32: None}  # the expired one is not kept
    assert not DjangoSession.objects.exists()  # nothing left to bring back
    assert _signed_in_as(client) == "alice"


def test_expired_sessions_are_removed_each_night_and_live_ones_kept(client, settings):
    from hub.celery import app
    from hub.tasks import clear_expired_sessions

    make_user("alice")
    assert client.post("/accounts/login/", {"login": "alice", "password": PASSWORD}).status_code == 302
    live = client.cookies[settings.SESSION_COOKIE_NAME].value
    Session.objects.create(
        session_key="e" * 32, session_data="{}", expire_date=timezone.now() - timedelta(days=1)
    )
    assert clear_expired_sessions() == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [live]
    assert _signed_in_as(client) == "alice"
    entry = settings.CELERY_BEAT_SCHEDULE["clear-expired-sessions"]
    assert entry["task"] == "hub.tasks.clear_expired_sessions" and entry["task"] in app.tasks

"""hub/auth_backends.py: the same answers as Django's ModelBackend, from one query per user."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hub.models import Session
from models_app import preferences, services
from moderation.roles import grant_moderator
from tests.factories import make_user

pytestmark = pytest.mark.django_db
MODERATE = "models_app.moderate_content"


def fresh(user):
    """The user as a new request loads it: nothing cached."""
    return get_user_model().objects.get(pk=user.pk)


def perms_and_queries(user) -> tuple[set[str], bool, int]:
    with CaptureQueriesContext(connection) as captured:
        moderates = user.has_perm(MODERATE)
        everything = user.get_all_permissions()
        user.has_perm("community.add_comment")
    return everything, moderates, len(captured)


def test_group_and_own_permissions_in_one_query_and_none_for_others():
    moderator, plain, both = make_user("mona"), make_user("paul"), make_user("beth")
    grant_moderator(user=moderator)
    grant_moderator(user=both)
    own = Permission.objects.get(codename="add_comment", content_type__app_label="community")
    both.user_permissions.add(own)

    everything, moderates, queries = perms_and_queries(fresh(moderator))
    assert moderates and everything == {MODERATE} and queries == 1
    everything, moderates, queries = perms_and_queries(fresh(plain))
    assert not moderates and everything == set() and queries == 1
    everything, moderates, queries = perms_and_queries(fresh(both))
    assert moderates and everything == {MODERATE, "community.add_comment"} and queries == 1

    inactive = fresh(moderator)
    inactive.is_active = False
    assert not inactive.has_perm(MODERATE)
    root = make_user("root")
    root.is_superuser = True
    root.save()
    everything, moderates, _ = perms_and_queries(fresh(root))
    assert moderates and len(everything) == Permission.objects.count()


def test_the_sessions_user_comes_with_whether_they_hold_any_permission_and_their_levels():
    from hub.auth_backends import AllauthBackend, ModelBackend

    plain, moderator, gone = make_user("paul"), make_user("mona"), make_user("gus", is_active=False)
    grant_moderator(user=moderator)
    services.set_browsing_levels(plain, mask=3, blur=True)
    for backend in (ModelBackend(), AllauthBackend()):
        with CaptureQueriesContext(connection) as captured:
            user = backend.get_user(plain.pk)
            assert user.username == "paul"
            assert not user.has_perm(MODERATE) and user.get_all_permissions() == set()
        assert len(captured) == 1  # the user and the answer "none" together
        with CaptureQueriesContext(connection) as captured:
            assert preferences.stored(backend.get_user(plain.pk)) == preferences.Browsing(3, blur=True)
            assert preferences.stored(backend.get_user(moderator.pk)) == preferences.Browsing(1)  # no choice
        assert len(captured) == 2  # their levels came with them
        with CaptureQueriesContext(connection) as captured:
            user = backend.get_user(moderator.pk)
            assert user.has_perm(MODERATE) and user.get_all_permissions() == {MODERATE}
        assert len(captured) == 2  # then which ones, in one query
        assert backend.get_user(gone.pk) is None  # deactivated: signed out, as Django's
        assert backend.get_user(gone.pk + 1000) is None


def test_people_still_sign_in_and_sessions_made_before_stay_signed_in(client):
    """The permissions backend signs nobody in: a password login and sessions that name Django's
    ModelBackend or allauth's backend (made before hub/auth_backends.py replaced them) still load
    their user."""
    from django.contrib.auth import BACKEND_SESSION_KEY

    from tests.factories import PASSWORD

    fan = make_user("fiona")
    assert client.post("/accounts/login/", {"login": "fiona", "password": PASSWORD}).status_code == 302
    assert client.session[BACKEND_SESSION_KEY] != "hub.auth_backends.PermissionsInOneQuery"
    assert 'data-testid="current-user">fiona<' in client.get("/").content.decode()

    for backend in (
        "django.contrib.auth.backends.ModelBackend",
        "allauth.account.auth_backends.AuthenticationBackend",
    ):
        earlier = type(client)()
        earlier.force_login(fan, backend=backend)
        stored = Session.objects.get(session_key=earlier.cookies[settings.SESSION_COOKIE_NAME].value)
        assert stored.get_decoded()[BACKEND_SESSION_KEY] == backend  # as such sessions were stored
        assert 'data-testid="current-user">fiona<' in earlier.get("/").content.decode()
    refused = type(client)().post("/accounts/login/", {"login": "fiona", "password": "wrong"})
    assert "The username and/or password you specified are not correct" in refused.content.decode()


def test_a_new_choice_of_levels_is_what_the_rest_of_the_request_reads():
    from hub.auth_backends import ModelBackend

    fan = make_user("fay")
    services.set_browsing_levels(fan, mask=3, blur=False)
    user = ModelBackend().get_user(fan.pk)  # loaded with the choice they had
    services.set_browsing_levels(user, mask=7, blur=True)
    assert preferences.stored(user) == preferences.Browsing(7, blur=True)

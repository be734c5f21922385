"""hub/auth_backends.py: the same answers as Django's ModelBackend, from one query per user."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

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


def test_people_still_sign_in_and_sessions_made_before_stay_signed_in(client):
    """The permissions backend signs nobody in: a password login and a session that names
    ModelBackend (every session made before it was added) still load their user."""
    from django.contrib.auth import BACKEND_SESSION_KEY

    from tests.factories import PASSWORD

    fan = make_user("fiona")
    assert client.post("/accounts/login/", {"login": "fiona", "password": PASSWORD}).status_code == 302
    assert client.session[BACKEND_SESSION_KEY] != "hub.auth_backends.PermissionsInOneQuery"
    assert 'data-testid="current-user">fiona<' in client.get("/").content.decode()

    earlier = type(client)()
    earlier.force_login(fan, backend="django.contrib.auth.backends.ModelBackend")
    assert 'data-testid="current-user">fiona<' in earlier.get("/").content.decode()
    refused = type(client)().post("/accounts/login/", {"login": "fiona", "password": "wrong"})
    assert "The username and/or password you specified are not correct" in refused.content.decode()

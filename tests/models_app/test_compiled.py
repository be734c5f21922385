"""A query built once (models_app/compiled.py) answers for whichever ids it is run with, as the ORM does."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from models_app.compiled import Built
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_a_built_query_runs_with_each_callers_ids_and_keeps_its_other_parameters():
    alice, bob = make_user("alice"), make_user("bob", is_active=False)
    active = Built(
        lambda user_id: (
            get_user_model()
            .objects.filter(id=user_id, is_active=True, is_staff=False)
            .values_list("username")
        )
    )

    assert active.rows(alice.pk) == [("alice",)]
    assert active.rows(bob.pk) == []  # is_active=True stayed a parameter: True is no stand-in
    with CaptureQueriesContext(connection) as queries:
        assert active.rows(alice.pk) == [("alice",)]
    assert len(queries) == 1


def test_forget_builds_again_with_what_the_builder_reads_now():
    make_user("alice"), make_user("bob")
    wanted = ["alice"]
    named = Built(
        lambda user_id: get_user_model().objects.filter(username__in=list(wanted)).values_list("username")
    )
    assert named.rows(0) == [("alice",)]
    wanted[:] = ["bob"]
    assert named.rows(0) == [("alice",)]  # built once
    named.forget()
    assert named.rows(0) == [("bob",)]

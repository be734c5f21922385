"""Usernames people can tell apart: safe characters, and no look-alike of an existing name."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model

from community.models import UsernameSkeleton
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def sign_up(client, username: str):
    return client.post(
        "/accounts/signup/",
        {"email": "new@example.com", "username": username, "password1": PASSWORD, "password2": PASSWORD},
    )


@pytest.mark.parametrize(
    "look_alike",
    [
        "d\u0435mo",  # a Cyrillic е
        "DEMO",
        "dem0",  # a zero
        "de\u217fo",  # the Roman numeral ⅿ
        "derno",  # r n
    ],
)
def test_a_name_that_looks_like_an_existing_one_is_refused_and_nothing_is_created(client, look_alike):
    make_user("demo")
    users_before = get_user_model().objects.count()
    response = sign_up(client, look_alike)
    assert response.status_code == 200
    html = response.content.decode()
    assert any(
        reason in html
        for reason in ("looks too much like an existing one", "already exists", "letters a to z")
    )
    assert get_user_model().objects.count() == users_before


@pytest.mark.parametrize(
    "unsafe", ["bad name", "a/b", "ünïcode", "-lead", "trail.", "x" * 40, "a\u202eb", "名前"]
)
def test_a_name_outside_the_safe_characters_is_refused_with_the_rule(client, unsafe):
    response = sign_up(client, unsafe)
    assert response.status_code == 200 and "letters a to z, digits" in response.content.decode()
    assert not get_user_model().objects.filter(email="new@example.com").exists()


def test_a_distinct_safe_name_signs_up(client):
    make_user("demo")
    assert sign_up(client, "demo-2").status_code == 302
    assert get_user_model().objects.filter(username="demo-2").exists()


def test_users_who_signed_up_before_the_rule_are_covered_too(client):
    old = make_user("Ilya")
    UsernameSkeleton.objects.all().delete()  # as before migration community 0002
    migration = importlib.import_module("community.migrations.0002_username_skeletons")
    migration.remember_existing(apps, None)
    assert UsernameSkeleton.objects.filter(user=old).exists()
    assert "looks too much like an existing one" in sign_up(client, "llya").content.decode()


def test_renaming_a_user_keeps_the_look_alike_key_in_step():
    from django.test import Client

    user = make_user("first")
    user.username = "second"
    user.save()
    assert "looks too much like an existing one" in sign_up(Client(), "sec0nd").content.decode()
    assert sign_up(Client(), "first").status_code == 302  # the old name is free again

"""Sign up, email confirmation, log in and log out with django-allauth."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_sign_up_creates_an_account_and_mails_a_confirmation_link(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "dora@example.com", "username": "dora", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(username="dora")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["dora@example.com"]
    link = re.search(r"http://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body).group(0)
    assert not EmailAddress.objects.get(user=user).verified
    confirm_path = link.split("testserver", 1)[1]
    client.post(confirm_path)
    assert EmailAddress.objects.get(user=user).verified


def test_sign_up_with_a_taken_username_shows_an_error(client, creator):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "new@example.com",
            "username": creator.username,
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 200
    assert "already" in response.content.decode()
    assert get_user_model().objects.count() == 1


def test_reserved_names_cannot_be_taken(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "a@example.com", "username": "admin", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 200
    assert not get_user_model().objects.filter(username="admin").exists()


def test_log_in_by_username_or_email_and_log_out(client, creator):
    for login in (creator.username, creator.email):
        response = client.post("/accounts/login/", {"login": login, "password": PASSWORD})
        assert response.status_code == 302, login
        home = client.get("/").content.decode()
        assert f'href="/user/{creator.username}"' in home and "Log out" in home
        client.post("/accounts/logout/")
        assert "Log in" in client.get("/").content.decode()


def test_wrong_password_is_refused_with_a_message(client, creator):
    response = client.post("/accounts/login/", {"login": creator.username, "password": "nope"})
    assert response.status_code == 200
    assert "not correct" in response.content.decode()

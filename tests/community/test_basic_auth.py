"""HTTP Basic for scripts counts failed passwords against the same limit as the login form."""

import base64

import pytest
from django.test import Client

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def basic(username: str, password: str) -> dict:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def create_model(username: str, password: str):
    return Client().post(
        "/api/hub/models", {"name": "Scripted", "type": "LORA"}, content_type="application/json",
        **basic(username, password),
    )  # fmt: skip


def log_in_with_the_form(client, login: str, password: str):
    return client.post("/accounts/login/", {"login": login, "password": password})


def test_the_right_password_over_basic_works(creator):
    assert create_model(creator.username, PASSWORD).status_code == 201


def test_guessing_passwords_over_basic_is_stopped_and_then_even_the_right_one_waits(creator):
    answers = [create_model(creator.username, f"guess-{n}").status_code for n in range(12)]
    assert answers[0] == 401
    assert 429 in answers, answers  # the limit kicks in, as it does for the form
    refused = create_model(creator.username, PASSWORD)
    assert refused.status_code == 429 and "Too many failed login attempts" in refused.json()["detail"]


def test_guesses_over_basic_lock_the_login_form_too(creator):
    for n in range(12):
        create_model(creator.username, f"guess-{n}")
    page = log_in_with_the_form(Client(), creator.username, PASSWORD)
    assert page.status_code == 200  # the form is shown again with the error, no session
    assert "Too many failed login attempts" in page.content.decode()


def test_guesses_on_the_form_lock_basic_too(creator):
    client = Client()
    for n in range(12):
        log_in_with_the_form(client, creator.username, f"guess-{n}")
    assert create_model(creator.username, PASSWORD).status_code == 429


def test_an_email_address_works_as_the_basic_user_name_and_shares_the_counter(creator):
    assert create_model(creator.email, PASSWORD).status_code == 201
    for n in range(12):
        create_model(creator.email, f"guess-{n}")
    assert create_model(creator.email, PASSWORD).status_code == 429

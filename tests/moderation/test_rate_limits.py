"""Rate limits against spam and guessing (docs/moderation.md#rate-limits): sign-up and failed logins
(allauth's limits, set in hub/settings.py), upload starts. Comments, reviews and reactions have theirs
tested in tests/community."""

import pytest
from django.test import Client

from tests.factories import PASSWORD, make_model

pytestmark = pytest.mark.django_db


def test_guessing_one_accounts_password_is_stopped_after_five_failures(client, creator, fan):
    for _ in range(5):
        response = client.post("/accounts/login/", {"login": creator.username, "password": "wrong"})
        assert "The username and/or password you specified are not correct" in response.content.decode()
    blocked = client.post("/accounts/login/", {"login": creator.username, "password": PASSWORD})
    assert "Too many failed login attempts" in blocked.content.decode()
    assert "_auth_user_id" not in client.session  # even the right password waits
    # The same account from another address is held too (the count is the account's)...
    elsewhere = Client(REMOTE_ADDR="192.0.2.9")
    held = elsewhere.post("/accounts/login/", {"login": creator.username, "password": PASSWORD})
    assert "Too many failed login attempts" in held.content.decode()
    # ...while another account logs in from the first address.
    assert client.post("/accounts/login/", {"login": fan.username, "password": PASSWORD}).status_code == 302


def test_one_address_signing_up_again_and_again_gets_429(client):
    for n in range(5):
        response = client.post(
            "/accounts/signup/",
            {
                "username": f"spammer{n}",
                "email": f"spammer{n}@example.com",
                "password1": "a-long-password-1",
                "password2": "a-long-password-1",
            },
        )
        assert response.status_code == 302
        client.logout()
    refused = client.post("/accounts/signup/", {"username": "spammer9"})
    assert refused.status_code == 429
    assert "Too many attempts" in refused.content.decode()


def test_starting_uploads_is_limited_per_minute(client, creator, settings):
    settings.UPLOAD_RATE_LIMIT = 2
    version = make_model(creator, publish=False).versions.get()
    client.force_login(creator)

    def start(n):
        return client.post(
            "/api/hub/uploads",
            {"version_id": version.id, "filename": f"f{n}.txt", "size": 10, "type": "Training Data"},
            content_type="application/json",
        )

    assert [start(n).status_code for n in range(3)] == [201, 201, 429]
    assert start(4).json() == {"detail": "Too many uploads started in a minute; try again shortly."}

"""Rate limits against spam and guessing (docs/moderation.md#rate-limits): sign-up and failed logins
(allauth's limits, set in hub/settings.py), upload starts, and the window every per-minute limit
counts in. Comments, reviews and reactions have theirs tested in tests/community."""

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.core.cache.backends import base, locmem
from django.test import Client
from django.utils import timezone

from models_app import rate_limits
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


def test_a_burst_across_the_clocks_minute_is_still_one_window_and_the_window_closes_after_60_s(
    monkeypatch,
):
    """Four quick requests against a limit of 3 get one refusal even when the clock's minute turns
    among them (a window per clock minute let all four through), and a minute later the count is new."""
    clock = [119.9]  # 0.1 s before a minute turns
    fake_time = SimpleNamespace(time=lambda: clock[0])
    monkeypatch.setattr(locmem, "time", fake_time)
    monkeypatch.setattr(base, "time", fake_time)
    monkeypatch.setattr(timezone, "now", lambda: datetime.fromtimestamp(clock[0], UTC))
    monkeypatch.setattr(rate_limits, "cache", locmem.LocMemCache("rate-window-test", {}))

    answers = []
    for step in (0, 0.05, 0.1, 0.15):
        clock[0] = 119.9 + step
        answers.append(rate_limits.over_limit("review-rate", 7, 3))
    assert answers == [False, False, False, True]
    clock[0] = 119.9 + 59
    assert rate_limits.over_limit("review-rate", 7, 3) is True  # still the same window
    clock[0] = 119.9 + 61
    assert rate_limits.over_limit("review-rate", 7, 3) is False  # a new window
    assert rate_limits.over_limit("review-rate", 8, 3) is False  # another person has their own

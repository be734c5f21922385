"""The headers every answer carries, the templates that keep the CSP possible, and login throttling
per address (docs/security.md). Per-account throttling and HTTP Basic are in tests/moderation/
test_rate_limits.py and tests/community/test_basic_auth.py."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"


@pytest.mark.parametrize(
    "path", ["/", "/models/", "/accounts/login/", "/api/docs/", "/api/v1/models", "/nowhere"]
)
def test_every_answer_carries_the_security_headers(client, path):
    response = client.get(path)
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_no_template_has_inline_script_style_or_event_handlers():
    """What the CSP would block: <script> with code, <style> blocks, style="..." and on...= attributes."""
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        text = re.sub(r"{% comment %}.*?{% endcomment %}", "", template.read_text(), flags=re.S)
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"<style\b", r"\sstyle=\"", r"\son[a-z]+=\""):
            if re.search(pattern, text):
                offenders.append(f"{template.relative_to(TEMPLATES)}: {pattern}")
    assert not offenders, offenders


def test_one_address_guessing_many_accounts_is_stopped(client, settings):
    """LOGIN_FAILED_RATE_LIMIT's per-address part: wrong passwords for different accounts add up."""
    cache.clear()
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed": "3/m/ip,5/5m/key"}
    for n in range(3):
        make_user(f"victim{n}")
        response = client.post("/accounts/login/", {"login": f"victim{n}", "password": "guess"})
        assert "Too many failed login attempts" not in response.content.decode()
    make_user("next")
    blocked = client.post("/accounts/login/", {"login": "next", "password": PASSWORD})
    assert blocked.status_code == 200 and "Too many failed login attempts" in blocked.content.decode()
    assert "_auth_user_id" not in client.session


def test_too_many_logins_from_one_address_get_429(client, settings):
    """LOGIN_RATE_LIMIT: every login attempt from one address, right or wrong, is counted."""
    cache.clear()
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "2/m/ip"}
    make_user("busy")
    for _ in range(2):
        client.post("/accounts/login/", {"login": "busy", "password": "wrong"})
    assert client.post("/accounts/login/", {"login": "busy", "password": PASSWORD}).status_code == 429

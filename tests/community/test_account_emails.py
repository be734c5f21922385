"""Account emails (sign-up confirmation, password reset) name the hub (SITE_NAME) and the host the
visitor used, never django.contrib.sites' "example.com". Sent through Django's SMTP backend to a real
SMTP server (aiosmtpd) on a free port (the `smtp` fixture, tests/community/conftest.py)."""

import pytest
from django.contrib.sites.models import Site

from tests.community.conftest import HOST, SITE_NAME, body_of
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def test_the_sign_up_confirmation_names_the_hub_and_its_host(client, smtp):
    response = client.post(
        "/accounts/signup/",
        {"email": "dora@example.net", "username": "dora", "password1": PASSWORD, "password2": PASSWORD},
        HTTP_HOST=HOST,
    )
    assert response.status_code == 302
    [message] = smtp.messages
    body = body_of(message)
    assert message["To"] == "dora@example.net"
    assert message["Subject"].startswith(f"[{SITE_NAME}] ")
    assert f"Hello from {SITE_NAME}!" in body and f"Thank you for using {SITE_NAME}!" in body
    assert f"http://{HOST}/accounts/confirm-email/" in body
    assert "example.com" not in body and "example.com" not in message["Subject"]


def test_the_password_reset_names_the_hub_and_its_host(client, smtp):
    make_user("erin")
    response = client.post("/accounts/password/reset/", {"email": "erin@example.com"}, HTTP_HOST=HOST)
    assert response.status_code == 302
    [message] = smtp.messages
    body = body_of(message)
    assert message["Subject"].startswith(f"[{SITE_NAME}] ")
    assert f"Hello from {SITE_NAME}!" in body and f"http://{HOST}/accounts/password/reset/key/" in body
    assert "example.com" not in body.replace("erin@example.com", "")


def test_the_sites_row_names_the_hub_after_migrate(settings):
    from django.core.management import call_command

    settings.SITE_NAME, settings.ALLOWED_HOSTS = SITE_NAME, [f".{HOST}", "localhost"]
    call_command("migrate", verbosity=0)  # post_migrate keeps the row in step
    site = Site.objects.get(id=settings.SITE_ID)
    assert (site.name, site.domain) == (SITE_NAME, HOST)

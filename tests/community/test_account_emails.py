"""Account emails (sign-up confirmation, password reset) name the hub (SITE_NAME) and the host the
visitor used, never django.contrib.sites' "example.com". Sent through Django's SMTP backend to a real
SMTP server (aiosmtpd) on a free port."""

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller
from django.contrib.sites.models import Site

from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

SITE_NAME = "Watercolor Commons"
HOST = "hub.example.org"


class Inbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = False, "", ""
    settings.SITE_NAME = SITE_NAME
    settings.ALLOWED_HOSTS = [HOST]
    yield inbox
    controller.stop()


def body_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


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

"""Helpers for the billing tests: recorded Stripe events from payloads/, signed the way Stripe signs them
(header `t=<ts>,v1=<hex HMAC-SHA256 of "<ts>.<body>">` with the endpoint's secret), and sent to the real
webhook endpoint."""

import copy
import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest
import stripe

from billing.models import Plan

from .fake_stripe import FakeStripe

PAYLOADS = Path(__file__).parent / "payloads"
WEBHOOK_SECRET = "whsec_test_0123456789abcdef"
# The time the recorded payloads were made at; load() moves them to now so periods are current.
RECORDED_AT = 1764770000
TIME_KEYS = {"created", "current_period_start", "current_period_end", "canceled_at", "ended_at"}


def _shift(value, offset):
    if isinstance(value, dict):
        return {
            key: (item + offset if key in TIME_KEYS and isinstance(item, int) else _shift(item, offset))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_shift(item, offset) for item in value]
    return value


def load(name: str, *, user=None, creator=None, at: int | None = None) -> dict:
    """The recorded event `name` (payloads/<name>.json) with its times moved so that RECORDED_AT is `at`
    (default now) and its USER_ID / CREATOR_ID placeholders filled in."""
    event = json.loads((PAYLOADS / f"{name}.json").read_text())
    event = _shift(event, (int(time.time()) if at is None else at) - RECORDED_AT)
    obj = event["data"]["object"]
    if obj.get("client_reference_id") == "USER_ID":
        obj["client_reference_id"] = str(user.id) if user else None
    if (obj.get("metadata") or {}).get("creator_id") == "CREATOR_ID":
        obj["metadata"]["creator_id"] = str(creator.id) if creator else ""
    return copy.deepcopy(event)


def sign(body: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + body
    return f"t={timestamp},v1={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}"


def post_event(client, event: dict, **sign_options):
    body = json.dumps(event).encode()
    return client.post(
        "/billing/webhook/",
        body,
        content_type="application/json",
        headers={"Stripe-Signature": sign(body, **sign_options)},
    )


@pytest.fixture(autouse=True)
def _webhook_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_PUBLISHABLE_KEY = ""


@pytest.fixture(autouse=True)
def fake_stripe(monkeypatch):
    """Every request the stripe library makes in these tests reaches this fake, never the internet."""
    fake = FakeStripe()
    monkeypatch.setattr(stripe, "default_http_client", fake)
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    return fake


@pytest.fixture
def keys(settings):
    """Billing configured with test keys."""
    settings.STRIPE_SECRET_KEY = "sk_test_fake"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_fake"


@pytest.fixture
def plan(db):
    return Plan.objects.create(
        name="Supporter",
        stripe_price_id="price_1QhubMonthly",
        amount=500,
        currency="usd",
        interval="month",
        upload_limit_bytes=50 * 1024**3,
        max_private_collections=1000,
        max_api_keys=50,
        early_access=True,
    )


@pytest.fixture
def send(client):
    """send(name, ...) posts the recorded event `name`, signed, and returns the response."""

    def sender(name_or_event, **load_options):
        event = name_or_event if isinstance(name_or_event, dict) else load(name_or_event, **load_options)
        return post_event(client, event)

    return sender

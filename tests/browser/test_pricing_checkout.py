"""A fan subscribes from /pricing/: Stripe Checkout (faked at the stripe library's HTTP client) sends them
back to the pricing page, Stripe's signed webhooks arrive, and the membership and badge show."""

import pytest
import stripe
from django.test import Client
from playwright.sync_api import expect

from billing.models import Plan
from tests.billing.conftest import WEBHOOK_SECRET, load, post_event
from tests.billing.fake_stripe import FakeStripe
from tests.factories import PASSWORD, make_user

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_subscribe_on_the_pricing_page_and_come_back_a_member(page, live_server, settings, monkeypatch):
    settings.STRIPE_SECRET_KEY, settings.STRIPE_PUBLISHABLE_KEY = "sk_test_fake", "pk_test_fake"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    fake = FakeStripe()
    monkeypatch.setattr(stripe, "default_http_client", fake)
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    fake.answer(
        "POST", "/v1/checkout/sessions",
        {"id": "cs_test_browser", "object": "checkout.session", "url": f"{live_server.url}/pricing/?checkout=success"},
    )  # fmt: skip
    plan = Plan.objects.create(
        name="Supporter", stripe_price_id="price_1QhubMonthly", amount=500, currency="usd", interval="month",
        early_access=True,
    )  # fmt: skip
    fan = make_user("fan")
    log_in(page, "fan", PASSWORD)

    page.goto("/pricing/")
    card = page.get_by_test_id(f"plan-{plan.id}")
    expect(card).to_contain_text("5.00 USD per month")
    card.get_by_role("button", name="Subscribe").click()
    page.wait_for_url("**/pricing/?checkout=success")
    expect(page.get_by_test_id("checkout-success")).to_be_visible()
    assert fake.requests[0]["form"]["client_reference_id"] == [str(fan.id)]

    webhook = Client()
    for name in (
        "checkout.session.completed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "invoice.paid",
    ):
        assert post_event(webhook, load(name, user=fan)).status_code == 200

    page.reload()
    expect(page.get_by_test_id("current-tier")).to_have_text("You are a member: Supporter.")
    expect(page.get_by_test_id("manage-membership")).to_be_visible()
    page.goto("/user/fan")
    expect(page.get_by_test_id("member-badge")).to_have_text("Member")

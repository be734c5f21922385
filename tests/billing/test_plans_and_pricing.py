"""Plans (create_plan), the pricing page and the nightly reconcile (docs/billing.md)."""

import io
import json
import time

import pytest
from django.core.management import CommandError, call_command

from billing.models import Plan, Subscription
from billing.tasks import reconcile_subscriptions

from .conftest import PAYLOADS, load

pytestmark = pytest.mark.django_db


def create_plan(*args):
    out = io.StringIO()
    call_command("create_plan", *args, stdout=out)
    return out.getvalue()


def test_create_plan_makes_an_active_plan():
    output = create_plan(
        "Supporter",
        "--stripe-price",
        "price_1Abc",
        "--amount",
        "500",
        "--currency",
        "USD",
        "--interval",
        "month",
    )
    plan = Plan.objects.get()
    assert (plan.name, plan.stripe_price_id, plan.amount, plan.currency, plan.interval, plan.active) == (
        "Supporter", "price_1Abc", 500, "usd", "month", True
    )  # fmt: skip
    assert f"Created plan {plan.id}" in output


def test_create_plan_takes_perks():
    create_plan(
        "Patron", "--stripe-price", "price_1Year", "--amount", "5000", "--currency", "eur", "--interval", "year",
        "--early-access", "--max-api-keys", "40", "--upload-limit-bytes", str(50 * 1024**3),
    )  # fmt: skip
    plan = Plan.objects.get()
    assert (plan.early_access, plan.max_api_keys, plan.upload_limit_bytes, plan.max_private_collections) == (
        True, 40, 50 * 1024**3, 0
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stripe-price", "prod_1Abc", "--amount", "500", "--currency", "usd"], "price_"),
        (["--stripe-price", "price_1Abc", "--amount", "0", "--currency", "usd"], "positive whole number"),
        (["--stripe-price", "price_1Abc", "--amount", "500", "--currency", "dollars"], "three-letter"),
    ],
)
def test_create_plan_refuses_bad_input_and_writes_nothing(args, message):
    with pytest.raises(CommandError, match=message):
        create_plan("Supporter", *args, "--interval", "month")
    assert not Plan.objects.exists()


def test_create_plan_refuses_a_price_already_used(plan):
    with pytest.raises(CommandError, match="already uses"):
        create_plan(
            "Again",
            "--stripe-price",
            plan.stripe_price_id,
            "--amount",
            "500",
            "--currency",
            "usd",
            "--interval",
            "month",
        )
    assert Plan.objects.count() == 1


def test_the_pricing_page_without_keys_says_billing_is_not_configured_and_offers_nothing(client, plan):
    response = client.get("/pricing/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Billing is not configured on this hub" in page
    assert "Supporter" not in page and "<form" not in page.split("<main")[1]


def test_the_pricing_page_with_keys_lists_the_active_plans(client, plan, keys):
    Plan.objects.create(
        name="Retired",
        stripe_price_id="price_old",
        amount=300,
        currency="usd",
        interval="month",
        active=False,
    )
    Plan.objects.create(
        name="Yearly yen", stripe_price_id="price_jpy", amount=6000, currency="jpy", interval="year"
    )
    page = client.get("/pricing/").content.decode()
    assert "Billing is not configured" not in page
    assert "Supporter" in page and "5.00 USD" in page and "per month" in page
    assert "6000 JPY" in page and "per year" in page
    assert "Retired" not in page


def test_reconcile_does_nothing_without_keys(fake_stripe):
    assert reconcile_subscriptions() == 0
    assert fake_stripe.requests == []


def test_reconcile_brings_subscriptions_in_line_with_stripe(fake_stripe, keys, send, fan, plan):
    send("checkout.session.completed", user=fan)
    send(load("customer.subscription.updated", at=int(time.time()) - 3600))  # seen active an hour ago
    # ...and its cancellation webhook was lost; Stripe's list has it canceled now.
    canceled = load("customer.subscription.deleted", at=int(time.time()) - 60)["data"]["object"]
    other = json.loads((PAYLOADS / "customer.subscription.updated.json").read_text())["data"]["object"]
    other.update(id="sub_other", customer="cus_unknown")
    pages = (
        {"object": "list", "url": "/v1/subscriptions", "has_more": True, "data": [canceled]},
        {"object": "list", "url": "/v1/subscriptions", "has_more": False, "data": [other]},
    )
    fake_stripe.answer("GET", "/v1/subscriptions", *pages)
    assert reconcile_subscriptions() == 2
    assert Subscription.objects.get(stripe_subscription_id="sub_1QhubTest").status == "canceled"
    assert Subscription.objects.get(stripe_subscription_id="sub_other").user is None
    first, second = fake_stripe.requests
    assert first["query"]["status"] == ["all"] and first["headers"]["Authorization"] == "Bearer sk_test_fake"
    assert second["query"]["starting_after"] == ["sub_1QhubTest"]
    fake_stripe.answer("GET", "/v1/subscriptions", *pages)
    assert reconcile_subscriptions() == 2  # a re-run changes nothing
    assert Subscription.objects.get(stripe_subscription_id="sub_1QhubTest").status == "canceled"


def test_the_reconcile_runs_nightly_in_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["reconcile-subscriptions"]
    assert entry["task"] == reconcile_subscriptions.name == "billing.tasks.reconcile_subscriptions"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({3}, {17})

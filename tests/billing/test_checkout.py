"""Checkout and the customer portal, with Stripe faked at the library's HTTP client (docs/billing.md#checkout)."""

import json

import pytest

from billing.models import Customer, StripeEvent, Subscription

from .conftest import PAYLOADS

pytestmark = pytest.mark.django_db

CHECKOUT = json.loads((PAYLOADS / "checkout.session.create.json").read_text())
PORTAL = json.loads((PAYLOADS / "billing_portal.session.create.json").read_text())


def test_subscribing_sends_the_user_to_stripe_checkout(client, fan, plan, keys, fake_stripe):
    fake_stripe.answer("POST", "/v1/checkout/sessions", CHECKOUT)
    client.force_login(fan)
    response = client.post(f"/billing/checkout/{plan.id}/")
    assert response.status_code == 303 and response["Location"] == CHECKOUT["url"]
    [request] = fake_stripe.requests
    form = request["form"]
    assert form["mode"] == ["subscription"]
    assert form["line_items[0][price]"] == ["price_1QhubMonthly"] and form["line_items[0][quantity]"] == ["1"]
    assert form["client_reference_id"] == [str(fan.id)]
    assert form["customer_email"] == ["bob@example.com"]
    assert form["metadata[kind]"] == ["subscription"] and form["metadata[plan_id]"] == [str(plan.id)]
    assert form["subscription_data[metadata][user_id]"] == [str(fan.id)]
    assert form["success_url"] == ["http://testserver/pricing/?checkout=success"]
    assert request["headers"]["Authorization"] == "Bearer sk_test_fake"
    assert not Subscription.objects.exists() and not StripeEvent.objects.exists()


def test_a_returning_customer_checks_out_as_the_same_stripe_customer(client, fan, plan, keys, fake_stripe):
    Customer.objects.create(user=fan, stripe_customer_id="cus_QhubTest")
    fake_stripe.answer("POST", "/v1/checkout/sessions", CHECKOUT)
    client.force_login(fan)
    client.post(f"/billing/checkout/{plan.id}/")
    form = fake_stripe.requests[0]["form"]
    assert form["customer"] == ["cus_QhubTest"] and "customer_email" not in form


def test_the_checkout_return_shows_the_membership_once_the_webhook_arrived(client, send, fan, plan, keys):
    client.force_login(fan)
    page = client.get("/pricing/?checkout=success").content.decode()
    assert "Your membership starts as soon as Stripe confirms" in page
    assert "You are a member" not in page
    send("checkout.session.completed", user=fan)
    send("customer.subscription.updated")
    page = client.get("/pricing/?checkout=success").content.decode()
    assert "You are a member: Supporter." in page
    assert 'data-testid="subscribe-' not in page and 'data-testid="manage-membership"' in page


def test_a_member_is_not_sent_to_checkout_again(client, send, fan, plan, keys, fake_stripe):
    send("checkout.session.completed", user=fan)
    send("customer.subscription.updated")
    client.force_login(fan)
    response = client.post(f"/billing/checkout/{plan.id}/", follow=True)
    assert "You already have a membership" in response.content.decode()
    assert fake_stripe.requests == []


def test_checkout_needs_a_login_and_post(client, plan, keys, fake_stripe):
    response = client.post(f"/billing/checkout/{plan.id}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get(f"/billing/checkout/{plan.id}/").status_code == 405
    assert fake_stripe.requests == []


def test_without_keys_checkout_and_portal_do_not_exist(client, fan, plan, fake_stripe):
    client.force_login(fan)
    assert client.post(f"/billing/checkout/{plan.id}/").status_code == 404
    assert client.post("/billing/portal/").status_code == 404
    assert fake_stripe.requests == []


def test_an_inactive_or_unknown_plan_is_a_404(client, fan, plan, keys, fake_stripe):
    plan.active = False
    plan.save()
    client.force_login(fan)
    assert client.post(f"/billing/checkout/{plan.id}/").status_code == 404
    assert client.post("/billing/checkout/999999/").status_code == 404
    assert fake_stripe.requests == []


def test_a_stripe_error_is_a_message_not_a_500(client, fan, plan, keys, fake_stripe):
    client.force_login(fan)  # no recorded answer: the fake answers 404 invalid_request_error
    response = client.post(f"/billing/checkout/{plan.id}/", follow=True)
    assert response.status_code == 200
    assert "Stripe could not start the payment" in response.content.decode()


def test_the_portal_sends_a_customer_to_stripe(client, fan, keys, fake_stripe):
    Customer.objects.create(user=fan, stripe_customer_id="cus_QhubTest")
    fake_stripe.answer("POST", "/v1/billing_portal/sessions", PORTAL)
    client.force_login(fan)
    response = client.post("/billing/portal/")
    assert response.status_code == 303 and response["Location"] == PORTAL["url"]
    form = fake_stripe.requests[0]["form"]
    assert form["customer"] == ["cus_QhubTest"] and form["return_url"] == ["http://testserver/pricing/"]


def test_the_portal_without_a_stripe_customer_explains(client, fan, keys, fake_stripe):
    client.force_login(fan)
    response = client.post("/billing/portal/", follow=True)
    assert "You have no membership to manage yet." in response.content.decode()
    assert fake_stripe.requests == []

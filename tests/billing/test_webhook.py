"""The Stripe webhook (docs/billing.md#the-webhook): signatures, the event store, each handled event."""

import json
import time

import pytest

from billing.models import Customer, LedgerEntry, StripeEvent, Subscription

from .conftest import load, post_event, sign

pytestmark = pytest.mark.django_db


def test_a_signed_event_is_stored_and_processed(client):
    response = post_event(client, load("product.created"))
    assert response.status_code == 200
    event = StripeEvent.objects.get()
    assert (event.stripe_id, event.type, event.processed_at is not None) == (
        "evt_1QhubProduct",
        "product.created",
        True,
    )


def test_a_tampered_body_is_refused_and_nothing_is_stored(client, fan):
    event = load("checkout.session.completed", user=fan)
    body = json.dumps(event).encode()
    header = sign(body)
    event["data"]["object"]["client_reference_id"] = "999999"
    response = client.post(
        "/billing/webhook/",
        json.dumps(event),
        content_type="application/json",
        headers={"Stripe-Signature": header},
    )
    assert response.status_code == 400
    assert not StripeEvent.objects.exists() and not Customer.objects.exists()


def test_a_wrong_secret_is_refused(client, fan):
    response = post_event(client, load("checkout.session.completed", user=fan), secret="whsec_someone_else")
    assert response.status_code == 400
    assert not StripeEvent.objects.exists() and not Customer.objects.exists()


def test_a_stale_timestamp_is_refused(client, fan):
    response = post_event(
        client, load("checkout.session.completed", user=fan), timestamp=int(time.time()) - 3600
    )
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_a_missing_signature_is_refused(client):
    response = client.post(
        "/billing/webhook/", json.dumps(load("product.created")), content_type="application/json"
    )
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_without_a_webhook_secret_every_webhook_is_refused(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    assert post_event(client, load("product.created")).status_code == 400
    assert not StripeEvent.objects.exists()


def test_the_webhook_takes_only_post(client):
    assert client.get("/billing/webhook/").status_code == 405


def test_a_signed_body_that_is_not_an_event_is_a_400(client):
    body = b'{"hello": "world"}'
    response = client.post(
        "/billing/webhook/", body, content_type="application/json", headers={"Stripe-Signature": sign(body)}
    )
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_a_replayed_event_is_processed_once(send, fan, plan):
    send("checkout.session.completed", user=fan)
    tip = load("checkout.session.completed.tip", user=fan, creator=fan)
    assert send(tip).status_code == 200
    assert send(tip).status_code == 200
    assert StripeEvent.objects.filter(stripe_id="evt_1QhubTipCheckout").count() == 1
    assert LedgerEntry.objects.count() == 1


def test_checkout_completed_links_the_user_to_their_stripe_customer(send, fan):
    assert send("checkout.session.completed", user=fan).status_code == 200
    assert Customer.objects.get().user == fan
    assert Customer.objects.get().stripe_customer_id == "cus_QhubTest"
    assert not LedgerEntry.objects.exists()  # a subscription is paid through its invoice


def test_subscription_events_before_checkout_are_attached_to_the_user_afterwards(send, fan, plan):
    send("customer.subscription.updated")
    assert Subscription.objects.get().user is None
    send("checkout.session.completed", user=fan)
    assert Subscription.objects.get().user == fan


def test_subscription_created_then_updated_then_deleted(send, fan, plan):
    send("checkout.session.completed", user=fan)
    send("customer.subscription.created")
    sub = Subscription.objects.get()
    assert (sub.user, sub.plan, sub.status) == (fan, plan, "incomplete")
    send("customer.subscription.updated")
    sub.refresh_from_db()
    assert sub.status == "active" and sub.current_period_end.timestamp() > time.time()
    send("customer.subscription.deleted")
    sub.refresh_from_db()
    assert sub.status == "canceled"


def test_an_unknown_price_is_kept_without_a_plan(send, fan):
    send("checkout.session.completed", user=fan)
    send("customer.subscription.updated")
    sub = Subscription.objects.get()
    assert sub.plan is None and sub.status == "active"


def test_invoice_paid_writes_a_payment_to_the_ledger(send, fan, plan):
    send("checkout.session.completed", user=fan)
    send("customer.subscription.updated")
    send("invoice.paid")
    entry = LedgerEntry.objects.get()
    assert (entry.kind, entry.user, entry.amount, entry.currency, entry.creator_id) == (
        "payment",
        fan,
        500,
        "usd",
        None,
    )
    assert entry.stripe_object_id == "in_1QhubInvoice"
    assert entry.description == "Subscription: Supporter"


def test_invoice_payment_failed_marks_the_subscription_past_due(send, fan, plan):
    send("checkout.session.completed", user=fan)
    send("customer.subscription.updated")
    send("invoice.payment_failed")
    assert Subscription.objects.get().status == "past_due"
    assert not LedgerEntry.objects.exists()


def test_a_one_time_checkout_pays_the_creator_named_in_its_metadata(send, fan, creator):
    send("checkout.session.completed.tip", user=fan, creator=creator)
    entry = LedgerEntry.objects.get()
    assert (entry.kind, entry.user, entry.creator_id, entry.amount) == ("payment", fan, creator.id, 1250)
    assert entry.payment_intent_id == "pi_3QhubTip"


def test_charge_refunded_writes_a_negative_refund_owed_by_the_same_creator(send, fan, creator):
    send("checkout.session.completed.tip", user=fan, creator=creator)
    send("charge.refunded")
    refund = LedgerEntry.objects.get(kind="refund")
    assert (refund.amount, refund.user, refund.creator_id, refund.stripe_object_id) == (
        -1250, fan, creator.id, "ch_3QhubTipCharge"
    )  # fmt: skip


def test_charge_dispute_created_writes_a_negative_dispute(send, fan, creator):
    send("checkout.session.completed.tip", user=fan, creator=creator)
    send("charge.dispute.created")
    dispute = LedgerEntry.objects.get(kind="dispute")
    assert (dispute.amount, dispute.creator_id, dispute.description) == (
        -1250,
        creator.id,
        "Dispute (fraudulent)",
    )


def owed_to(creator) -> int:
    return sum(LedgerEntry.objects.filter(creator_id=creator.id).values_list("amount", flat=True))


@pytest.mark.parametrize("closing_first", [False, True])
def test_a_won_dispute_gives_the_money_back_once_in_any_order(send, fan, creator, closing_first):
    send("checkout.session.completed.tip", user=fan, creator=creator)
    events = ["charge.dispute.created", "charge.dispute.closed"]
    for name in reversed(events) if closing_first else events:
        send(name)
    send("charge.dispute.closed")  # a replay
    assert owed_to(creator) == 1250  # the tip, whole again
    assert LedgerEntry.objects.filter(kind="dispute").count() == (0 if closing_first else 2)


@pytest.mark.parametrize("closing_first", [False, True])
def test_a_lost_dispute_keeps_the_money_withdrawn_once(send, fan, creator, closing_first):
    send("checkout.session.completed.tip", user=fan, creator=creator)
    lost = load("charge.dispute.closed")
    lost["data"]["object"]["status"] = "lost"
    events = [load("charge.dispute.created"), lost]
    for event in reversed(events) if closing_first else events:
        send(event)
    assert owed_to(creator) == 0
    assert list(LedgerEntry.objects.filter(kind="dispute").values_list("amount", flat=True)) == [-1250]


def test_an_unknown_event_type_is_stored_and_ignored(send):
    assert send("product.created").status_code == 200
    assert StripeEvent.objects.get().type == "product.created"
    assert not Subscription.objects.exists() and not LedgerEntry.objects.exists()


def test_an_event_that_cannot_be_applied_is_a_400_and_not_stored(send, fan):
    event = load("customer.subscription.updated")
    event["data"]["object"]["status"] = "exploded"
    assert send(event).status_code == 400
    assert not StripeEvent.objects.exists() and not Subscription.objects.exists()

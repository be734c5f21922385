"""Webhook deliveries racing each other on PostgreSQL: each event is applied once, refunds add up exactly
(docs/billing.md#the-webhook, docs/billing.md#ledger)."""

import threading

import pytest
from django.db import connection
from django.db.models import Sum

from billing import services
from billing.models import LedgerEntry, StripeEvent
from tests.factories import make_user

from .conftest import load

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writes need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def race(calls):
    """Run the calls at once, one thread each; return their results, raise the first error."""
    barrier = threading.Barrier(len(calls))
    results, errors = [None] * len(calls), []

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # surfaced below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


def test_the_same_event_delivered_six_times_at_once_is_applied_once():
    payer, creator = make_user("payer"), make_user("maker")
    event = load("checkout.session.completed.tip", user=payer, creator=creator)
    results = race([lambda: services.record_event(event) for _ in range(6)])
    assert sorted(results) == [False] * 5 + [True]
    assert StripeEvent.objects.count() == 1
    assert list(LedgerEntry.objects.values_list("amount", flat=True)) == [1250]


def test_partial_refunds_of_one_charge_racing_each_other_add_up_exactly():
    payer, creator = make_user("payer"), make_user("maker")
    services.record_event(load("checkout.session.completed.tip", user=payer, creator=creator))
    events = []
    for i, total in enumerate([100, 250, 400, 700, 1250]):
        event = load("charge.refunded")
        event["id"] = f"evt_refund_{i}"
        event["data"]["object"]["amount_refunded"] = total
        events.append(event)
    race([lambda e=e: services.record_event(e) for e in events])
    refunds = LedgerEntry.objects.filter(kind="refund").aggregate(total=Sum("amount"))["total"]
    assert refunds == -1250
    assert LedgerEntry.objects.filter(creator_id=creator.id).aggregate(total=Sum("amount"))["total"] == 0

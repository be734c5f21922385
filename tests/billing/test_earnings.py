"""The creator's earnings page /billing/earnings/ (docs/billing.md#earnings): what the ledger says they
are owed, all time and this month per currency, and the rows behind it, refunds and disputes negative."""

import datetime
import re

import pytest
from django.test import Client

from billing.models import LedgerEntry
from billing.selectors import month_start
from tests.factories import make_user

from .conftest import load
from .test_ledger import dispute, refund, tip

pytestmark = pytest.mark.django_db

URL = "/billing/earnings/"


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def section(html: str, testid: str) -> str:
    return re.search(rf'data-testid="{testid}">(.*?)</div>', html, re.S).group(1)


def rows(html: str) -> list[list[str]]:
    """The table's rows as their cells' text."""
    found = re.findall(r'<tr data-testid="ledger-row">(.*?)</tr>', html, re.S)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in found
    ]


def test_a_stranger_is_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_without_earnings_the_page_says_what_will_appear_there(creator):
    html = as_user(creator).get(URL).content.decode()
    assert "No earnings yet: tips and early-access sales appear here." in html
    assert "Payouts are made by the hub's operator each month." in html
    assert 'data-testid="earnings-rows"' not in html


def test_totals_are_exact_after_payments_a_partial_refund_and_a_dispute_in_two_currencies(send, fan, creator):
    dave = make_user("dave")
    tip(send, payer=fan, creator=creator, amount=1250, n=1)
    tip(send, payer=fan, creator=creator, amount=999, n=2)
    tip(send, payer=fan, creator=creator, amount=1, n=3)
    tip(send, payer=fan, creator=dave, amount=300, n=4)  # dave's, never on alice's page
    refund(send, n=1, refunded_so_far=500, event_n=1)
    dispute(send, n=2, amount=999)
    euro = load("checkout.session.completed.tip", user=fan, creator=creator)
    euro["id"] = "evt_eur"
    euro["data"]["object"].update(id="cs_eur", currency="eur", amount_total=2000, payment_intent="pi_eur")
    send(euro)
    # Last month's payment counts all time, not this month (rows are append-only: written as such).
    LedgerEntry.objects.create(
        kind="payment", creator_id=creator.id, amount=5000, currency="usd", stripe_object_id="cs_old",
        description="Tip", created_at=month_start() - datetime.timedelta(seconds=1),
    )  # fmt: skip
    html = as_user(creator).get(URL).content.decode()
    assert re.findall(r"<strong>(.*?)</strong>", section(html, "earnings-total")) == [
        "20.00 EUR",
        "57.51 USD",
    ]
    assert re.findall(r"<strong>(.*?)</strong>", section(html, "earnings-month")) == ["20.00 EUR", "7.51 USD"]
    table = rows(html)
    assert [row[1:] for row in table] == [
        ["20.00 EUR", "payment", "Tip"],
        ["-9.99 USD", "dispute", "Dispute (fraudulent)"],
        ["-5.00 USD", "refund", "Refund of cs_test_tip_1"],
        ["0.01 USD", "payment", "Tip"],
        ["9.99 USD", "payment", "Tip"],
        ["12.50 USD", "payment", "Tip"],
        ["50.00 USD", "payment", "Tip"],
    ]
    assert "3.00 USD" not in html  # dave's tip
    dave_html = as_user(dave).get(URL).content.decode()
    assert len(rows(dave_html)) == 1 and "12.50 USD" not in dave_html


def test_fifty_rows_a_page(creator):
    for n in range(51):
        LedgerEntry.objects.create(
            kind="payment", creator_id=creator.id, amount=100 + n, currency="usd", stripe_object_id=f"cs_{n}"
        )
    client = as_user(creator)
    first = client.get(URL).content.decode()
    assert len(rows(first)) == 50 and rows(first)[0][1] == "1.50 USD"  # newest first
    assert "Page 1 of 2" in first and 'href="?page=2"' in first
    second = client.get(URL + "?page=2").content.decode()
    assert [row[1] for row in rows(second)] == ["1.00 USD"] and 'href="?page=1"' in second
    assert client.get(URL + "?page=99").status_code == 200  # the last page, not an error


def test_the_page_is_linked_from_the_own_profile_and_the_pricing_page(creator, fan, keys):
    client = as_user(creator)
    assert 'href="/billing/earnings/"' in client.get("/user/alice").content.decode()
    assert 'href="/billing/earnings/"' in client.get("/pricing/").content.decode()
    assert 'href="/billing/earnings/"' not in Client().get("/pricing/").content.decode()


def test_the_page_reads_in_french(creator):
    html = as_user(creator).get(URL, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Vos revenus" in html and "Aucun revenu pour l’instant" in html

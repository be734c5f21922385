"""On a 375 px phone: a fan tips a creator from her profile (Stripe Checkout faked at the stripe library's
HTTP client), comes back to a thank-you, the signed webhook arrives and the tip shows with its message;
the creator's earnings page fits the phone, its table scrolling inside itself (docs/billing.md#tips)."""

import pytest
import stripe
from django.test import Client
from playwright.sync_api import expect

from billing.models import LedgerEntry
from tests.billing.conftest import WEBHOOK_SECRET, load, post_event
from tests.billing.fake_stripe import FakeStripe
from tests.factories import PASSWORD, make_user

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, "the page scrolls sideways"


def test_tip_a_creator_on_a_phone_and_see_it_on_her_page_and_earnings(
    page, live_server, settings, monkeypatch
):
    settings.STRIPE_SECRET_KEY, settings.STRIPE_PUBLISHABLE_KEY = "sk_test_fake", "pk_test_fake"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    fake = FakeStripe()
    monkeypatch.setattr(stripe, "default_http_client", fake)
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    fake.answer(
        "POST", "/v1/checkout/sessions",
        {"id": "cs_test_a1QhubTip", "object": "checkout.session", "url": f"{live_server.url}/user/alice?tipped=1"},
    )  # fmt: skip
    alice, fan = make_user("alice"), make_user("fan")
    page.set_viewport_size({"width": 375, "height": 812})
    log_in(page, "fan", PASSWORD)

    page.goto("/user/alice")
    form = page.get_by_test_id("tip-form")
    expect(form).to_be_visible()
    fits(page)
    form.locator("textarea[name=message]").fill("Lovely work <3\nThank you")
    form.get_by_test_id("tip-preset-5").click()
    page.wait_for_url("**/user/alice?tipped=1")
    expect(page.get_by_test_id("tip-thanks")).to_be_visible()
    form_sent = fake.requests[0]["form"]
    assert form_sent["line_items[0][price_data][unit_amount]"] == ["500"]
    assert form_sent["metadata[message]"] == ["Lovely work <3\nThank you"]

    event = load("checkout.session.completed.tip", user=fan, creator=alice)
    event["data"]["object"].update(amount_total=500)
    event["data"]["object"]["metadata"]["message"] = "Lovely work <3\nThank you"
    assert post_event(Client(), event).status_code == 200
    page.goto("/user/alice")
    tips = page.get_by_test_id("recent-tips")
    expect(tips).to_contain_text("fan · 5.00 USD")
    message = tips.locator(".tip-message")
    expect(message).to_contain_text("Lovely work <3")
    assert message.inner_html().strip() == "Lovely work &lt;3<br>Thank you"
    fits(page)

    # The creator's earnings page, with a long description, still fits; the table scrolls inside itself.
    LedgerEntry.objects.create(
        kind="refund", creator_id=alice.id, amount=-200, currency="usd", stripe_object_id="ch_long",
        description="Refund of cs_test_a1QhubTipWithAVeryLongSessionIdentifierThatDoesNotWrap",
    )  # fmt: skip
    page.context.clear_cookies()
    log_in(page, "alice", PASSWORD)
    page.goto("/billing/earnings/")
    expect(page.get_by_test_id("earnings-total")).to_contain_text("3.00 USD")
    expect(page.get_by_test_id("earnings-rows")).to_contain_text("Tip")
    fits(page)
    scroller = page.locator(".table-scroll")
    box = scroller.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375, box
    assert scroller.evaluate("el => el.scrollWidth > el.clientWidth"), "the table should scroll inside"
    expect(page.get_by_test_id("earnings-rows")).to_contain_text("-2.00 USD")

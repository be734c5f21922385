"""Tips (docs/billing.md#tips): the form on a creator's profile, the one-time Checkout it starts (Stripe
faked at the library's HTTP client), the Tip the webhook creates, and the "Recent tips" list, from which
a wholly refunded or disputed tip disappears."""

import json

import pytest
from django.test import Client

from billing.models import LedgerEntry, StripeEvent, Tip
from tests.factories import make_user

from .conftest import PAYLOADS, load
from .test_ledger import dispute, refund

pytestmark = pytest.mark.django_db

CHECKOUT = json.loads((PAYLOADS / "checkout.session.create.json").read_text())
PROFILE = "/user/alice"


def as_user(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def paid(send, *, payer, creator, amount=1250, n=1, message=None, currency="usd"):
    """Stripe's checkout.session.completed for a paid tip (the recorded payload), sent signed."""
    event = load("checkout.session.completed.tip", user=payer, creator=creator)
    event["id"] = f"evt_tip_{n}"
    session = event["data"]["object"]
    session.update(
        id=f"cs_test_tip_{n}", amount_total=amount, payment_intent=f"pi_tip_{n}", currency=currency
    )
    session["metadata"]["reference"] = "tip"
    if message is not None:
        session["metadata"]["message"] = message
    assert send(event).status_code == 200
    return event


def tip_form(client, username="alice", **fields):
    return client.post(f"/billing/tip/{username}/", {"next": PROFILE, **fields}, follow=True)


def page(client, path=PROFILE) -> str:
    return client.get(path).content.decode()


# --- Checkout.


def test_tipping_starts_a_one_time_checkout_naming_the_creator_amount_and_message(
    creator, fan, keys, fake_stripe
):
    fake_stripe.answer("POST", "/v1/checkout/sessions", CHECKOUT)
    response = as_user(fan).post(
        "/billing/tip/alice/", {"next": PROFILE, "amount": "12.50", "message": "Great LoRA!\r\nThank you"}
    )
    assert response.status_code == 303 and response["Location"] == CHECKOUT["url"]
    [request] = fake_stripe.requests
    form = request["form"]
    assert form["mode"] == ["payment"]
    assert form["line_items[0][price_data][unit_amount]"] == ["1250"]
    assert form["line_items[0][price_data][currency]"] == ["usd"]
    assert form["line_items[0][price_data][product_data][name]"] == ["Tip for alice"]
    assert form["client_reference_id"] == [str(fan.id)]
    assert form["metadata[kind]"] == ["tip"]
    assert form["metadata[creator_id]"] == [str(creator.id)]
    assert form["metadata[reference]"] == ["tip"]
    assert form["metadata[message]"] == ["Great LoRA!\nThank you"]  # CRLF from the browser, stored as LF
    assert form["payment_intent_data[metadata][kind]"] == ["tip"]
    assert form["success_url"] == ["http://testserver/user/alice?tipped=1"]
    assert form["cancel_url"] == ["http://testserver/user/alice"]
    assert not Tip.objects.exists() and not LedgerEntry.objects.exists()  # the webhook records, not the click


def test_a_preset_button_tips_its_amount_and_an_empty_message_is_not_sent(creator, fan, keys, fake_stripe):
    fake_stripe.answer("POST", "/v1/checkout/sessions", CHECKOUT)
    response = as_user(fan).post("/billing/tip/alice/", {"next": PROFILE, "preset": "5", "amount": ""})
    assert response.status_code == 303
    form = fake_stripe.requests[0]["form"]
    assert form["line_items[0][price_data][unit_amount]"] == ["500"]
    assert "metadata[message]" not in form


def test_the_currency_is_the_billing_currency_setting(creator, fan, keys, fake_stripe, settings):
    settings.BILLING_CURRENCY = "jpy"  # zero-decimal: 1 to 1000 yen
    fake_stripe.answer("POST", "/v1/checkout/sessions", CHECKOUT)
    assert as_user(fan).post("/billing/tip/alice/", {"amount": "500"}).status_code == 303
    form = fake_stripe.requests[0]["form"]
    assert form["line_items[0][price_data][unit_amount]"] == ["500"]
    assert form["line_items[0][price_data][currency]"] == ["jpy"]
    for amount in ("1001", "0"):
        assert "A tip is from 1 JPY to 1000 JPY." in tip_form(as_user(fan), amount=amount).content.decode()
    assert (
        "Enter the amount as a whole number, such as 500."
        in tip_form(as_user(fan), amount="5.5").content.decode()
    )
    assert len(fake_stripe.requests) == 1


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"amount": "-1"}, "Enter the amount as a number, such as 5 or 12.50."),
        ({"amount": "abc"}, "Enter the amount as a number, such as 5 or 12.50."),
        ({"amount": "0.001"}, "Enter the amount as a number, such as 5 or 12.50."),
        ({"amount": ""}, "Enter the amount as a number, such as 5 or 12.50."),
        ({"amount": "1e3"}, "Enter the amount as a number, such as 5 or 12.50."),
        ({"amount": "0"}, "A tip is from 1.00 USD to 1000.00 USD."),
        ({"amount": "0.99"}, "A tip is from 1.00 USD to 1000.00 USD."),
        ({"amount": "1000.01"}, "A tip is from 1.00 USD to 1000.00 USD."),
        ({"preset": "5000"}, "A tip is from 1.00 USD to 1000.00 USD."),
        (
            {"amount": "5", "message": "x" * 281},
            "The message is 281 characters long; at most 280 are allowed.",
        ),
        ({"amount": "5", "message": "hi\x00there"}, "The message contains control characters"),
        ({"amount": "5", "message": "hi\x1b[31m red"}, "The message contains control characters"),
        ({"amount": "5", "message": "evil\u202etxt.exe"}, "The message contains control characters"),
    ],
)
def test_a_bad_tip_is_a_message_on_the_profile_and_stripe_is_not_called(
    creator, fan, keys, fake_stripe, fields, error
):
    response = tip_form(as_user(fan), **fields)
    assert response.status_code == 200 and response.redirect_chain[-1][0] == PROFILE
    assert error in response.content.decode()
    assert not fake_stripe.requests


def test_a_message_of_280_characters_with_line_breaks_is_accepted(creator, fan, keys, fake_stripe):
    fake_stripe.answer("POST", "/v1/checkout/sessions", CHECKOUT)
    message = ("y" * 69 + "\r\n") * 4  # 280 characters once CRLF is LF (what the browser's maxlength counts)
    assert as_user(fan).post("/billing/tip/alice/", {"amount": "1", "message": message}).status_code == 303
    assert fake_stripe.requests[0]["form"]["metadata[message]"] == [message.replace("\r\n", "\n").strip()]


def test_nobody_can_tip_themselves(creator, keys, fake_stripe):
    response = tip_form(as_user(creator), amount="5")
    assert "You cannot tip yourself." in response.content.decode()
    assert 'data-testid="tip-form"' not in page(as_user(creator))  # and they are not offered to
    assert not fake_stripe.requests


def test_an_unknown_or_inactive_creator_cannot_be_tipped(creator, fan, keys, fake_stripe):
    assert "This person cannot receive tips." in tip_form(as_user(fan), "nobody", amount="5").content.decode()
    creator.is_active = False
    creator.save()
    assert "This person cannot receive tips." in tip_form(as_user(fan), amount="5").content.decode()
    assert not fake_stripe.requests


def test_a_stripe_failure_is_a_message_not_a_500(creator, fan, keys, fake_stripe):
    response = tip_form(as_user(fan), amount="5")  # no recorded answer: Stripe refuses
    assert response.status_code == 200
    assert "Stripe could not start the payment" in response.content.decode()
    assert len(fake_stripe.requests) == 1


def test_an_offsite_next_is_not_followed(creator, fan, keys, fake_stripe):
    response = as_user(fan).post("/billing/tip/alice/", {"next": "https://evil.example/", "amount": "x"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_tipping_needs_a_login(creator, client, keys, fake_stripe):
    response = client.post("/billing/tip/alice/", {"amount": "5"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not fake_stripe.requests


# --- The webhook.


def test_the_paid_checkout_creates_one_tip_and_a_replay_keeps_one(send, creator, fan):
    event = paid(send, payer=fan, creator=creator, amount=1250, message="Thanks!")
    assert send(event).status_code == 200  # Stripe's retry
    [tip] = Tip.objects.all()
    assert (tip.payer, tip.creator, tip.amount, tip.currency, tip.message) == (
        fan,
        creator,
        1250,
        "usd",
        "Thanks!",
    )
    assert (tip.stripe_session_id, tip.payment_intent_id) == ("cs_test_tip_1", "pi_tip_1")
    [payment] = LedgerEntry.objects.all()
    assert (payment.creator_id, payment.amount, payment.reference) == (creator.id, 1250, "tip")
    assert StripeEvent.objects.count() == 1


def test_the_same_session_in_another_event_still_makes_one_tip(send, creator, fan):
    event = paid(send, payer=fan, creator=creator)
    event["id"] = "evt_tip_again"
    assert send(event).status_code == 200
    assert Tip.objects.count() == 1


def test_a_payer_deleted_before_or_after_the_webhook_shows_as_someone(send, creator):
    carol, dave = make_user("carol"), make_user("dave")
    paid(send, payer=carol, creator=creator, amount=300, n=1, message="from carol")
    dave_id = dave.id
    dave.delete()
    event = load("checkout.session.completed.tip", creator=creator)
    event["id"] = "evt_tip_2"
    event["data"]["object"].update(
        id="cs_test_tip_2", client_reference_id=str(dave_id), amount_total=400, payment_intent="pi_tip_2"
    )
    assert send(event).status_code == 200
    carol.delete()
    assert list(Tip.objects.values_list("payer", "amount")) == [(None, 400), (None, 300)]
    html = page(Client())
    assert html.count("Someone") == 2 and "from carol" in html and "carol</strong>" not in html


def test_a_tip_to_a_creator_who_no_longer_exists_is_only_a_ledger_row(send, fan):
    gone = make_user("gone")
    event = load("checkout.session.completed.tip", user=fan, creator=gone)
    gone.delete()
    assert send(event).status_code == 200
    assert not Tip.objects.exists() and LedgerEntry.objects.count() == 1


# --- The profile page.


def test_the_message_shows_on_the_profile_escaped_with_its_line_breaks(send, creator, fan):
    paid(send, payer=fan, creator=creator, amount=1250, message='<script>alert("x")</script>\n**bold**')
    html = page(Client())
    assert 'data-testid="recent-tips"' in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;<br>**bold**" in html  # as text, no Markdown
    assert '<script>alert("x")' not in html
    assert "<strong>bob</strong> · 12.50 USD" in html


def test_a_wholly_refunded_or_disputed_tip_disappears_a_partly_refunded_one_stays(send, creator, fan):
    paid(send, payer=fan, creator=creator, amount=1000, n=1, message="refunded in full")
    paid(send, payer=fan, creator=creator, amount=1000, n=2, message="refunded in part")
    paid(send, payer=fan, creator=creator, amount=1000, n=3, message="disputed")
    paid(send, payer=fan, creator=creator, amount=1000, n=4, message="refunded in two goes")
    refund(send, n=1, refunded_so_far=1000, event_n=1)
    refund(send, n=2, refunded_so_far=400, event_n=1)
    dispute(send, n=3, amount=1000)
    refund(send, n=4, refunded_so_far=300, event_n=1)
    refund(send, n=4, refunded_so_far=1000, event_n=2)
    html = page(Client())
    assert "refunded in part" in html
    assert "refunded in full" not in html and "disputed" not in html and "refunded in two goes" not in html


def test_a_tip_whose_dispute_is_won_comes_back(send, creator, fan):
    paid(send, payer=fan, creator=creator, amount=1000, n=1, message="disputed then won")
    dispute(send, n=1, amount=1000)
    assert "disputed then won" not in page(Client())
    closed = load("charge.dispute.closed")
    closed["data"]["object"].update(id="dp_1", charge="ch_tip_1", payment_intent="pi_tip_1", amount=1000)
    assert send(closed).status_code == 200
    assert "disputed then won" in page(Client())


def test_the_list_shows_the_ten_newest_tips(send, creator, fan):
    for n in range(12):
        paid(send, payer=fan, creator=creator, amount=100 + n, n=n, message=f"tip number {n:02d}")
    html = page(Client())
    assert html.count('data-testid="tip-') == 10
    assert "tip number 11" in html and "tip number 02" in html and "tip number 01" not in html


def test_with_keys_a_visitor_gets_the_form_and_a_stranger_is_asked_to_log_in(creator, fan, keys, client):
    html = page(as_user(fan))
    assert 'data-testid="tip-form"' in html and 'action="/billing/tip/alice/"' in html
    assert 'name="next" value="/user/alice"' in html and 'maxlength="280"' in html
    assert "Tip alice" in html and 'data-testid="tip-preset-3"' in html and "10.00 USD" in html
    anonymous = page(client)
    assert 'data-testid="tip-form"' not in anonymous
    assert "Log in to tip alice" in anonymous and "/accounts/login/?next=/user/alice" in anonymous


def test_without_keys_no_form_post_404_and_the_list_still_shows(send, creator, fan, fake_stripe):
    paid(send, payer=fan, creator=creator, message="still here")
    html = page(as_user(fan))
    assert 'data-testid="tip-form"' not in html and "Log in to tip" not in page(Client())
    assert "still here" in html
    assert as_user(fan).post("/billing/tip/alice/", {"amount": "5"}).status_code == 404
    assert not fake_stripe.requests


def test_the_return_from_stripe_says_thank_you(creator, fan, keys):
    html = page(as_user(fan), PROFILE + "?tipped=1")
    assert 'data-testid="tip-thanks"' in html and "Thank you for your tip!" in html
    assert 'data-testid="tip-thanks"' not in page(as_user(fan))


def test_the_creators_own_page_explains_tips_and_links_to_earnings(creator, fan, keys):
    html = page(as_user(creator))
    assert 'data-testid="tips-empty"' in html and "Visitors can tip you from this page" in html
    assert 'href="/billing/earnings/"' in html
    others = page(as_user(fan))
    assert "Recent tips" not in others and 'data-testid="tips-empty"' not in others
    assert 'href="/billing/earnings/"' not in others


def test_the_profile_reads_in_french(send, creator, fan, keys):
    paid(send, payer=fan, creator=creator)
    html = as_user(fan).get(PROFILE, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Pourboires récents" in html and "Donner un pourboire à alice" in html

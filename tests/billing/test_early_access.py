"""Paid early access (docs/billing.md#paid-early-access): a version open to members and for a one-time
price; the webhook's grant; the download endpoint, the CivitAI API and the HF endpoints agree for a
stranger, a buyer, a member, a lapsed member and everyone after the deadline. Stripe is faked at the
library's HTTP client; the webhook, the database and the gates are real."""

import datetime
import json
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from billing.models import LedgerEntry, StripeEvent
from models_app import services
from models_app.models import EarlyAccessGrant, ModelVersion
from tests.compat.hf.catalog import seed

from .conftest import PAYLOADS, load

pytestmark = pytest.mark.django_db

CHECKOUT = json.loads((PAYLOADS / "checkout.session.create.json").read_text())
HF_FILE = "/alice/early-bird/resolve/main/early.safetensors"


@pytest.fixture
def version(creator, fan, run_on_commit):
    """alice/early-bird v1: in early access for 3 days, open to members and for 3.00 USD."""
    hub = seed(creator, fan, run_on_commit)
    version = hub.gated.versions.get()
    services.update_version(
        version=version,
        by=creator,
        early_access_members=True,
        early_access_price=300,
        early_access_currency="usd",
    )
    version.refresh_from_db()
    assert version.in_early_access()
    return version


@pytest.fixture
def people(django_user_model):
    def make(name):
        return django_user_model.objects.create_user(name, f"{name}@example.com", "pw-123456789")

    return make


@pytest.fixture
def member(send, fan, plan):
    """bob (fan) subscribes to the Supporter plan, which has the early-access perk."""
    send("checkout.session.completed", user=fan)
    send("customer.subscription.updated")
    return fan


def bought(version, buyer, creator) -> dict:
    event = load("checkout.session.completed.early_access", user=buyer, creator=creator)
    metadata = event["data"]["object"]["metadata"]
    metadata["version_id"] = str(version.id)
    metadata["description"] = f"Early access to version {version.id}"
    metadata["reference"] = f"early_access:{version.id}"
    return event


def as_user(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def hf_status(client) -> int:
    response = client.get(HF_FILE)
    response.getvalue()  # read to the end, so the file is closed
    return response.status_code


def what_each_path_says(version, user) -> dict:
    """The download endpoint, the CivitAI API (and its downloadUrl) and the HF file endpoint for `user`."""
    client = as_user(user)
    civitai = client.get(f"/api/v1/model-versions/{version.id}").json()
    return {
        "download": client.get(f"/api/download/models/{version.id}").status_code,
        "civitai_download": client.get(urlsplit(civitai["downloadUrl"]).path).status_code,
        "hf": hf_status(client),
        "availability": civitai["availability"],
        "deadline": civitai["earlyAccessEndsAt"],
    }


def refused(version) -> dict:
    deadline = version.early_access_ends_at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return {
        "download": 403,
        "civitai_download": 403,
        "hf": 403,
        "availability": "EarlyAccess",
        "deadline": deadline,
    }


def allowed(version) -> dict:
    return {**refused(version), "download": 307, "civitai_download": 307, "hf": 200}


def trimmed(answer: dict) -> dict:
    return {**answer, "deadline": answer["deadline"] and answer["deadline"][:19]}


# --- The three paths agree.


def test_a_stranger_is_refused_on_all_three_paths(version, people):
    assert trimmed(what_each_path_says(version, people("dave"))) == refused(version)


def test_a_buyer_is_allowed_on_all_three_paths_once_the_webhook_arrived(version, people, creator, send):
    carol = people("carol")
    assert trimmed(what_each_path_says(version, carol)) == refused(version)
    assert send(bought(version, carol, creator)).status_code == 200
    assert trimmed(what_each_path_says(version, carol)) == allowed(version)


def test_a_member_is_allowed_on_all_three_paths_without_a_grant(version, member):
    assert trimmed(what_each_path_says(version, member)) == allowed(version)
    assert not EarlyAccessGrant.objects.filter(user=member).exists()


def test_a_lapsed_member_is_refused_again(version, member, send):
    send("customer.subscription.deleted")
    assert trimmed(what_each_path_says(version, member)) == refused(version)


def test_membership_does_not_open_a_version_that_is_not_open_to_members(version, member, creator):
    services.update_version(version=version, by=creator, early_access_members=False)
    version.refresh_from_db()
    assert trimmed(what_each_path_says(version, member)) == refused(version)


def test_after_the_deadline_everyone_may_download(version, people):
    ModelVersion.objects.filter(id=version.id).update(
        early_access_ends_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    version.refresh_from_db()
    for user in (None, people("dave")):
        answer = what_each_path_says(version, user)
        assert answer == {
            "download": 307, "civitai_download": 307, "hf": 200, "availability": "Public", "deadline": None
        }  # fmt: skip


# --- The webhook's grant and the ledger.


def test_the_purchase_creates_one_grant_and_a_ledger_row_owed_to_the_creator(version, people, creator, send):
    carol = people("carol")
    event = bought(version, carol, creator)
    assert send(event).status_code == 200
    assert send(event).status_code == 200  # Stripe's retry: stored once, granted once
    grant = EarlyAccessGrant.objects.get(version=version, user=carol)
    assert "cs_test_a1QhubEarly" in grant.reason
    [payment] = LedgerEntry.objects.filter(stripe_object_id="cs_test_a1QhubEarly")
    assert (payment.user, payment.creator_id, payment.amount, payment.currency) == (
        carol,
        creator.id,
        300,
        "usd",
    )
    assert StripeEvent.objects.filter(stripe_id=event["id"]).count() == 1


def test_a_second_purchase_of_the_same_version_keeps_the_one_grant(version, people, creator, send):
    carol = people("carol")
    send(bought(version, carol, creator))
    again = bought(version, carol, creator)
    again["id"] = "evt_1QhubEarlyAgain"
    again["data"]["object"]["id"] = "cs_test_a1QhubEarlyAgain"
    assert send(again).status_code == 200
    assert EarlyAccessGrant.objects.filter(version=version, user=carol).count() == 1
    assert LedgerEntry.objects.filter(creator_id=creator.id).count() == 2  # both payments are recorded


def reversal(name: str, n: int, **fields) -> dict:
    """A refund or dispute event of the early-access payment (pi_3QhubEarly)."""
    event = load(name)
    event["id"] = f"evt_reversal_{n}"
    event["data"]["object"].update({"payment_intent": "pi_3QhubEarly", "currency": "usd", **fields})
    return event


def test_a_wholly_refunded_purchase_takes_the_access_back_on_all_three_paths(version, people, creator, send):
    carol = people("carol")
    send(bought(version, carol, creator))
    send(reversal("charge.refunded", 1, id="ch_early", amount_refunded=100))  # partly: access stays
    assert trimmed(what_each_path_says(version, carol)) == allowed(version)
    send(reversal("charge.refunded", 2, id="ch_early", amount_refunded=300))
    assert trimmed(what_each_path_says(version, carol)) == refused(version)
    assert not EarlyAccessGrant.objects.filter(user=carol).exists()


def test_a_disputed_purchase_loses_access_until_the_dispute_is_won(version, people, creator, send):
    carol = people("carol")
    send(bought(version, carol, creator))
    send(reversal("charge.dispute.created", 1, id="dp_early", amount=300))
    assert trimmed(what_each_path_says(version, carol)) == refused(version)
    send(reversal("charge.dispute.closed", 2, id="dp_early", amount=300, status="won"))
    assert trimmed(what_each_path_says(version, carol)) == allowed(version)


def test_a_refund_keeps_access_paid_by_another_purchase_or_given_by_the_creator(
    version, people, creator, send
):
    carol, dave = people("carol"), people("dave")
    send(bought(version, carol, creator))
    again = bought(version, carol, creator)
    again["id"], again["data"]["object"]["id"] = "evt_again", "cs_again"
    again["data"]["object"]["payment_intent"] = "pi_again"
    send(again)
    send(reversal("charge.refunded", 1, id="ch_early", amount_refunded=300))
    assert EarlyAccessGrant.objects.filter(user=carol).exists()  # the second purchase still stands

    EarlyAccessGrant.objects.create(version=version, user=dave, reason="tester")
    daves = bought(version, dave, creator)
    daves["id"] = "evt_dave"
    daves["data"]["object"].update(id="cs_dave", payment_intent="pi_dave")
    send(daves)
    send(reversal("charge.refunded", 2, id="ch_dave", amount_refunded=300, payment_intent="pi_dave"))
    assert LedgerEntry.objects.filter(payment_intent_id="pi_dave", kind="refund").get().amount == -300
    assert EarlyAccessGrant.objects.get(user=dave).reason == "tester"


def test_a_purchase_naming_an_unknown_version_is_recorded_but_grants_nothing(version, people, creator, send):
    carol = people("carol")
    event = bought(version, carol, creator)
    event["data"]["object"]["metadata"]["version_id"] = "999999"
    assert send(event).status_code == 200
    assert not EarlyAccessGrant.objects.exists()
    assert LedgerEntry.objects.filter(stripe_object_id="cs_test_a1QhubEarly").exists()


# --- Checkout: "Unlock for $X".


def test_unlocking_starts_a_one_time_checkout_naming_the_version_and_creator(
    version, people, creator, keys, fake_stripe
):
    fake_stripe.answer("POST", "/v1/checkout/sessions", CHECKOUT)
    carol = people("carol")
    response = as_user(carol).post(f"/models/{version.model_id}/versions/{version.id}/unlock")
    assert response.status_code == 303 and response["Location"] == CHECKOUT["url"]
    [request] = fake_stripe.requests
    form = request["form"]
    assert form["mode"] == ["payment"]
    assert form["line_items[0][price_data][unit_amount]"] == ["300"]
    assert form["line_items[0][price_data][currency]"] == ["usd"]
    assert form["client_reference_id"] == [str(carol.id)]
    assert form["metadata[kind]"] == ["early_access"]
    assert form["metadata[version_id]"] == [str(version.id)]
    assert form["metadata[creator_id]"] == [str(creator.id)]
    assert form["metadata[reference]"] == [f"early_access:{version.id}"]
    assert not EarlyAccessGrant.objects.exists()  # the webhook grants, not the click


def test_without_keys_nothing_offers_to_pay_and_unlock_is_404(version, people, client):
    dave = people("dave")
    page = as_user(dave).get(version.model.get_absolute_url()).content.decode()
    assert 'data-testid="early-access-countdown"' in page
    assert 'data-testid="early-access-unlock"' not in page
    assert "Members of a tier with early access can download it now." in page
    assert as_user(dave).post(f"/models/{version.model_id}/versions/{version.id}/unlock").status_code == 404


def test_the_model_page_shows_the_countdown_and_the_price_with_keys(version, people, keys):
    page = as_user(people("dave")).get(version.model.get_absolute_url()).content.decode()
    assert "2\xa0days" in page and "left" in page  # 3 days from publishing, rendered on the server
    assert 'data-testid="early-access-unlock"' in page and "Unlock for 3.00 USD" in page


def test_someone_who_already_has_access_is_not_offered_to_pay(version, member, keys, fake_stripe):
    page = as_user(member).get(version.model.get_absolute_url()).content.decode()
    assert "You have early access to this version." in page
    assert 'data-testid="early-access-unlock"' not in page
    response = as_user(member).post(f"/models/{version.model_id}/versions/{version.id}/unlock", follow=True)
    assert "You already have early access to this version." in response.content.decode()
    assert not fake_stripe.requests


def test_a_version_not_for_sale_cannot_be_bought(version, people, creator, keys, fake_stripe):
    services.update_version(version=version, by=creator, early_access_price=0)
    page = as_user(people("dave")).get(version.model.get_absolute_url()).content.decode()
    assert 'data-testid="early-access-unlock"' not in page
    response = as_user(people("erin")).post(
        f"/models/{version.model_id}/versions/{version.id}/unlock", follow=True
    )
    assert "Early access to this version is not for sale." in response.content.decode()
    assert not fake_stripe.requests


# --- The version edit page.


def test_the_creator_sets_members_and_price_on_the_version_edit_page(version, creator):
    url = f"/models/{version.model_id}/versions/{version.id}/edit"
    client = as_user(creator)
    assert 'name="early_access_price"' in client.get(url).content.decode()
    form = {
        "name": version.name,
        "base_model": version.base_model.name,
        "trained_words": "",
        "description": "",
        "early_access_days": 3,
        "usage_control": "Download",
        "early_access_price": 450,
        "early_access_currency": "EUR",
    }
    assert client.post(url, form).status_code == 302
    version.refresh_from_db()
    assert (version.early_access_members, version.early_access_price, version.early_access_currency) == (
        False,
        450,
        "eur",
    )
    response = client.post(url, {**form, "early_access_price": -1, "early_access_currency": "euro"})
    assert response.status_code == 200
    version.refresh_from_db()
    assert version.early_access_price == 450


def test_a_stripe_failure_is_a_message_on_the_model_page_not_a_500(version, people, keys, fake_stripe):
    response = as_user(people("dave")).post(
        f"/models/{version.model_id}/versions/{version.id}/unlock", follow=True
    )  # no recorded answer: Stripe refuses with an error
    assert response.status_code == 200
    assert "Stripe could not start the payment" in response.content.decode()
    assert len(fake_stripe.requests) == 1 and not EarlyAccessGrant.objects.exists()


def test_an_anonymous_visitor_is_offered_to_log_in_and_unlock_needs_a_login(version, client, keys):
    page = client.get(version.model.get_absolute_url()).content.decode()
    assert "Log in to unlock early access." in page and 'data-testid="early-access-unlock"' not in page
    response = client.post(f"/models/{version.model_id}/versions/{version.id}/unlock")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")

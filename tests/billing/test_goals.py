"""Crowdfunding goals (docs/billing.md#crowdfunding-goals): opening rules, contributions through a
one-time Checkout (Stripe faked at the library's HTTP client), progress that is the ledger's sum
(payments, refunds and disputes arrive through the real webhook), and reaching the goal making an
early-access version free for everyone on the download, CivitAI and HF paths at once."""

import datetime
import json
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import LedgerEntry
from models_app import funding
from models_app.models import FundingGoal, ModelVersion
from tests.compat.hf.catalog import seed
from tests.factories import make_user

from .conftest import PAYLOADS, load

pytestmark = pytest.mark.django_db

CHECKOUT = json.loads((PAYLOADS / "checkout.session.create.json").read_text())
HF_FILE = "/alice/early-bird/resolve/main/early.safetensors"


@pytest.fixture
def hub(creator, fan, run_on_commit):
    return seed(creator, fan, run_on_commit)


@pytest.fixture
def model(hub):
    """alice/early-bird: its v1 is in early access for 3 days."""
    return hub.gated


@pytest.fixture
def version(model):
    version = model.versions.get()
    assert version.in_early_access()
    return version


def in_days(days: float):
    return timezone.now() + datetime.timedelta(days=days)


@pytest.fixture
def goal(model, version, creator):
    """A 1,000.00 USD goal on alice/early-bird, for 30 days, that unlocks v1."""
    return funding.open_goal(
        user=creator,
        model=model,
        title="Train v2 on a bigger dataset",
        description="GPU time for a week.\n<b>Thanks!</b>",
        target=100_000,
        deadline=in_days(30),
        unlocks_version=version,
    )


def as_user(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def page(model, user=None) -> str:
    response = as_user(user).get(model.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def contribution(goal, payer, *, amount: int, n: int) -> dict:
    """The signed webhook event of a paid contribution `n` of `amount` cents by `payer`."""
    event = load("checkout.session.completed.goal", user=payer, creator=goal.model.owner)
    event["id"] = f"evt_goal_{n}"
    session = event["data"]["object"]
    session.update(
        id=f"cs_test_goal_{n}", amount_total=amount, payment_intent=f"pi_goal_{n}", customer=f"cus_{payer.id}"
    )
    session["metadata"] = {
        **session["metadata"],
        "goal_id": str(goal.id),
        "reference": goal.reference,
        "description": f"Contribution to goal {goal.id}",
    }
    return event


def refund_of(n: int, *, refunded: int) -> dict:
    """Stripe's charge.refunded for contribution `n`, `refunded` being the cumulative amount refunded."""
    event = load("charge.refunded")
    event["id"] = f"evt_goal_refund_{n}_{refunded}"
    event["data"]["object"].update(
        id=f"ch_goal_{n}", payment_intent=f"pi_goal_{n}", amount_refunded=refunded, customer=""
    )
    return event


def dispute_of(n: int, *, amount: int) -> dict:
    event = load("charge.dispute.created")
    event["id"] = f"evt_goal_dispute_{n}"
    event["data"]["object"].update(
        id=f"dp_goal_{n}", charge=f"ch_goal_{n}", payment_intent=f"pi_goal_{n}", amount=amount
    )
    return event


def progress_text(model) -> str:
    html = page(model)
    start = html.index('data-testid="goal-progress">') + len('data-testid="goal-progress">')
    return html[start : html.index("</p>", start)]


# --- Opening a goal.


def test_the_creator_opens_a_goal_from_the_form_linked_on_the_model_page(model, version, creator):
    assert 'data-testid="goal-form-link"' in page(model, creator)
    client = as_user(creator)
    url = f"/models/{model.id}/goal"
    form = client.get(url).content.decode()
    assert 'name="target"' in form and f'<option value="{version.id}">v1</option>' in form
    response = client.post(
        url,
        {"title": "A bigger dataset", "description": "Why", "target": "1000", "days": 30,
         "unlocks_version": version.id},
    )  # fmt: skip
    assert response.status_code == 302
    goal = FundingGoal.objects.get(model=model)
    assert (goal.title, goal.target, goal.currency, goal.status, goal.unlocks_version) == (
        "A bigger dataset", 100_000, "usd", "open", version
    )  # fmt: skip
    assert (
        datetime.timedelta(days=29, hours=23) < goal.deadline - timezone.now() <= datetime.timedelta(days=30)
    )
    assert "0.00 USD of 1000.00 USD raised, 0%" in page(model)


def test_only_the_creator_may_open_or_manage_a_goal(model, goal, fan, moderator):
    with pytest.raises(PermissionDenied):
        funding.open_goal(
            user=fan, model=model, title="Mine", description="", target=100, deadline=in_days(5)
        )
    for someone in (fan, moderator):
        assert as_user(someone).get(f"/models/{model.id}/goal").status_code == 403
        assert as_user(someone).post(f"/models/{model.id}/goals/{goal.id}/cancel").status_code == 403
    assert 'data-testid="goal-form-link"' not in page(model, fan)
    goal.refresh_from_db()
    assert goal.status == "open"


def test_a_second_open_goal_is_refused(model, goal, creator):
    with pytest.raises(ValidationError, match="already has an open goal"):
        funding.open_goal(
            user=creator, model=model, title="Again", description="", target=100, deadline=in_days(5)
        )
    assert FundingGoal.objects.filter(model=model).count() == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"target": "0"}, "The target is more than 0 and at most 1000000.00 USD."),
        ({"target": "1000001"}, "The target is more than 0 and at most 1000000.00 USD."),
        ({"target": "12.345"}, "Enter an amount, such as 1000 or 1000.00."),
        ({"target": "ten"}, "Enter an amount, such as 1000 or 1000.00."),
        ({"days": 0}, "Ensure this value is greater than or equal to 1."),
        ({"days": 91}, "Ensure this value is less than or equal to 90."),
        ({"title": ""}, "This field is required."),
        ({"title": "x" * 121}, "Ensure this value has at most 120 characters (it has 121)."),
        ({"description": "x" * 2001}, "Ensure this value has at most 2000 characters (it has 2001)."),
        ({"unlocks_version": 999999}, "Select a valid choice."),
    ],
)
def test_the_form_refuses_bad_goals_with_a_message(model, creator, fields, message):
    form = {"title": "Goal", "description": "", "target": "500", "days": 10, "unlocks_version": "", **fields}
    response = as_user(creator).post(f"/models/{model.id}/goal", form)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not FundingGoal.objects.exists()


def test_the_service_refuses_a_bad_deadline_and_a_version_that_is_not_in_early_access(model, hub, creator):
    def open_with(**changes):
        fields = {"title": "Goal", "description": "", "target": 500, "deadline": in_days(10), **changes}
        return funding.open_goal(user=creator, model=model, **fields)

    for deadline in (in_days(0.5), in_days(91), in_days(-1)):
        with pytest.raises(ValidationError, match="The deadline is 1 to 90 days from now."):
            open_with(deadline=deadline)
    # A version of another model, and a version of this model no longer in early access.
    with pytest.raises(ValidationError, match="published version of this model in early access"):
        open_with(unlocks_version=hub.v2)
    ModelVersion.objects.filter(model=model).update(early_access_ends_at=timezone.now())
    with pytest.raises(ValidationError, match="published version of this model in early access"):
        open_with(unlocks_version=model.versions.get())
    assert not FundingGoal.objects.exists()
    assert open_with(deadline=in_days(90)).status == "open"


def test_the_creator_edits_the_text_and_cancels_and_the_ledger_keeps_what_was_paid(
    model, goal, creator, fan, send
):
    client = as_user(creator)
    form = client.get(f"/models/{model.id}/goal").content.decode()
    assert 'name="target"' not in form and 'data-testid="goal-cancel"' in form
    assert (
        client.post(f"/models/{model.id}/goal", {"title": "Renamed", "description": "New"}).status_code == 302
    )
    goal.refresh_from_db()
    assert (goal.title, goal.description, goal.target) == ("Renamed", "New", 100_000)
    assert send(contribution(goal, fan, amount=5_000, n=1)).status_code == 200
    response = client.post(f"/models/{model.id}/goals/{goal.id}/cancel", follow=True)
    assert "Contributions already made stay in the ledger" in response.content.decode()
    goal.refresh_from_db()
    assert goal.status == "canceled"
    assert 'data-testid="funding-goal"' not in page(model)
    assert LedgerEntry.objects.get(reference=goal.reference).amount == 5_000
    # A new goal may be opened once the old one is canceled.
    funding.open_goal(
        user=creator, model=model, title="Next", description="", target=100, deadline=in_days(2)
    )


# --- Contributing.


def test_a_contribution_starts_a_checkout_naming_the_goal(model, goal, fan, creator, keys, fake_stripe):
    fake_stripe.answer("POST", "/v1/checkout/sessions", CHECKOUT)
    assert 'data-testid="goal-contribute"' in page(model, fan)
    response = as_user(fan).post(f"/models/{model.id}/goals/{goal.id}/contribute", {"amount": "25.50"})
    assert response.status_code == 303 and response["Location"] == CHECKOUT["url"]
    [request] = fake_stripe.requests
    form = request["form"]
    assert form["mode"] == ["payment"]
    assert form["line_items[0][price_data][unit_amount]"] == ["2550"]
    assert form["line_items[0][price_data][currency]"] == ["usd"]
    assert form["client_reference_id"] == [str(fan.id)]
    assert form["metadata[kind]"] == ["goal"]
    assert form["metadata[goal_id]"] == [str(goal.id)]
    assert form["metadata[reference]"] == [f"goal:{goal.id}"]
    assert form["metadata[creator_id]"] == [str(creator.id)]
    assert form["payment_intent_data[metadata][reference]"] == [f"goal:{goal.id}"]
    assert not LedgerEntry.objects.exists()  # the webhook records the payment, not the click
    assert form["success_url"][0].endswith(f"{model.get_absolute_url()}?contributed={goal.id}#goal")
    back = as_user(fan).get(f"{model.get_absolute_url()}?contributed={goal.id}").content.decode()
    assert "Thank you! Your contribution is counted as soon as Stripe confirms the payment." in back


@pytest.mark.parametrize("amount", ["0.99", "10000.01", "abc", "-5", "1.234", ""])
def test_an_amount_outside_the_bounds_is_refused_without_calling_stripe(
    model, goal, fan, keys, fake_stripe, amount
):
    response = as_user(fan).post(
        f"/models/{model.id}/goals/{goal.id}/contribute", {"amount": amount}, follow=True
    )
    assert response.status_code == 200
    assert "Enter an amount from 1.00 USD to 10000.00 USD." in response.content.decode()
    assert not fake_stripe.requests


def test_the_creator_is_not_offered_and_cannot_fund_their_own_goal(model, goal, creator, keys, fake_stripe):
    assert 'data-testid="goal-contribute"' not in page(model, creator)
    response = as_user(creator).post(
        f"/models/{model.id}/goals/{goal.id}/contribute", {"amount": "5"}, follow=True
    )
    assert "You can&#x27;t contribute to your own goal." in response.content.decode()
    assert not fake_stripe.requests


def test_an_anonymous_visitor_is_asked_to_log_in(model, goal, client, keys):
    html = page(model)
    assert "Log in to contribute" in html and 'data-testid="goal-contribute"' not in html
    response = client.post(f"/models/{model.id}/goals/{goal.id}/contribute", {"amount": "5"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_without_keys_there_is_no_form_and_the_post_is_404(model, goal, fan, fake_stripe):
    html = page(model, fan)
    assert 'data-testid="goal-progress"' in html
    assert 'data-testid="goal-contribute"' not in html and "Log in to contribute" not in html
    assert 'data-testid="goal-contribute"' not in page(model)
    assert (
        as_user(fan).post(f"/models/{model.id}/goals/{goal.id}/contribute", {"amount": "5"}).status_code
        == 404
    )
    assert not fake_stripe.requests


def test_an_ended_goal_says_ended_and_refuses_contributions(model, goal, fan, keys, fake_stripe, send):
    FundingGoal.objects.filter(id=goal.id).update(deadline=timezone.now() - datetime.timedelta(minutes=1))
    html = page(model, fan)
    assert 'data-testid="goal-state">Ended<' in html and 'data-testid="goal-contribute"' not in html
    assert "Reaching it makes v1 free for everyone." not in html
    response = as_user(fan).post(
        f"/models/{model.id}/goals/{goal.id}/contribute", {"amount": "5"}, follow=True
    )
    assert "This goal no longer takes contributions." in response.content.decode()
    assert not fake_stripe.requests
    # A payment that arrives after the deadline is in the ledger but reaches nothing.
    assert send(contribution(goal, fan, amount=100_000, n=1)).status_code == 200
    goal.refresh_from_db()
    assert goal.status == "open" and goal.has_ended()
    assert ModelVersion.objects.get(id=goal.unlocks_version_id).in_early_access()


def test_a_stripe_failure_is_a_message_not_a_500(model, goal, fan, keys, fake_stripe):
    response = as_user(fan).post(
        f"/models/{model.id}/goals/{goal.id}/contribute", {"amount": "5"}, follow=True
    )
    assert response.status_code == 200 and "Stripe could not start the payment" in response.content.decode()


# --- Progress is the ledger's sum.


def test_the_model_page_shows_the_goal_with_its_bar(model, goal, fan, send):
    assert send(contribution(goal, fan, amount=42_000, n=1)).status_code == 200
    html = page(model)
    assert "Goal: Train v2 on a bigger dataset" in html
    assert "GPU time for a week.\n&lt;b&gt;Thanks!&lt;/b&gt;" in html  # plain text, escaped
    assert '<progress max="100000" value="42000" aria-labelledby="goal-progress">' in html
    assert progress_text(model) == "420.00 USD of 1000.00 USD raised, 42%"
    assert 'data-testid="goal-supporters">1 supporter<' in html
    assert "4\xa0weeks, 1\xa0day left (until " in html
    assert "Reaching it makes v1 free for everyone." in html


def test_payments_add_up_and_a_replay_counts_once(model, goal, fan, send):
    carol = make_user("carol")
    first = contribution(goal, fan, amount=12_000, n=1)
    assert send(first).status_code == 200
    assert send(first).status_code == 200  # Stripe's retry
    assert send(contribution(goal, carol, amount=30_050, n=2)).status_code == 200
    assert send(contribution(goal, fan, amount=5_000, n=3)).status_code == 200
    assert progress_text(model) == "470.50 USD of 1000.00 USD raised, 47%"
    assert 'data-testid="goal-supporters">2 supporters<' in page(model)
    assert LedgerEntry.objects.filter(reference=goal.reference).count() == 3


def test_a_refund_and_a_dispute_lower_the_progress(model, goal, fan, send):
    carol = make_user("carol")
    send(contribution(goal, fan, amount=40_000, n=1))
    send(contribution(goal, carol, amount=20_000, n=2))
    assert progress_text(model) == "600.00 USD of 1000.00 USD raised, 60%"
    assert send(refund_of(1, refunded=15_000)).status_code == 200  # partial refund
    assert progress_text(model) == "450.00 USD of 1000.00 USD raised, 45%"
    assert send(dispute_of(2, amount=20_000)).status_code == 200
    assert progress_text(model) == "250.00 USD of 1000.00 USD raised, 25%"
    assert 'data-testid="goal-supporters">1 supporter<' in page(model)  # carol's money went back
    assert send(refund_of(1, refunded=40_000)).status_code == 200  # the rest of bob's
    assert progress_text(model) == "0.00 USD of 1000.00 USD raised, 0%"
    assert 'data-testid="goal-supporters">0 supporters<' in page(model)


# --- Reaching the goal.


def what_each_path_says(model, version, user=None) -> dict:
    """The download endpoint, the CivitAI API (model and version) and the HF API for `user`."""
    client = as_user(user)
    civitai_model = client.get(f"/api/v1/models/{model.id}").json()
    [civitai_version] = [v for v in civitai_model["modelVersions"] if v["id"] == version.id]
    hf_file = client.get(HF_FILE)
    hf_file.getvalue()  # read to the end, so the file is closed
    return {
        "download": client.get(f"/api/download/models/{version.id}").status_code,
        "civitai_download": client.get(urlsplit(civitai_version["downloadUrl"]).path).status_code,
        "availability": civitai_version["availability"],
        "ends_at": civitai_version["earlyAccessEndsAt"],
        "hf_gated": client.get("/api/models/alice/early-bird").json()["gated"],
        "hf_file": hf_file.status_code,
    }


def test_reaching_the_target_makes_the_version_free_for_everyone_on_every_path(
    model, version, goal, fan, send
):
    stranger = make_user("dave")
    for user in (None, stranger):
        answer = what_each_path_says(model, version, user)
        assert (answer["download"], answer["availability"], answer["hf_gated"]) == (
            403, "EarlyAccess", "manual"
        )  # fmt: skip
    send(contribution(goal, fan, amount=60_000, n=1))
    goal.refresh_from_db()
    assert goal.status == "open"  # 600 of 1,000: not yet
    send(contribution(goal, make_user("carol"), amount=40_000, n=2))
    goal.refresh_from_db()
    assert goal.status == "reached" and goal.reached_at is not None
    for user in (None, stranger):
        assert what_each_path_says(model, version, user) == {
            "download": 307, "civitai_download": 307, "availability": "Public", "ends_at": None,
            "hf_gated": False, "hf_file": 200,
        }  # fmt: skip
    html = page(model)
    assert (
        'data-testid="goal-state">Reached<' in html
        and "v1 is free for everyone: this goal was reached." in html
    )
    assert progress_text(model) == "1000.00 USD of 1000.00 USD raised, 100%"
    assert 'data-testid="early-access-countdown"' not in html


def test_a_reached_goal_stays_reached_and_its_version_open_after_a_refund(
    model, version, goal, fan, send, keys
):
    event = contribution(goal, fan, amount=100_000, n=1)
    send(event)
    opened_at = ModelVersion.objects.get(id=version.id).early_access_ends_at
    assert send(event).status_code == 200  # a replay changes nothing
    assert send(refund_of(1, refunded=100_000)).status_code == 200
    goal.refresh_from_db()
    version.refresh_from_db()
    assert goal.status == "reached" and not version.in_early_access()
    assert version.early_access_ends_at == opened_at
    assert progress_text(model) == "0.00 USD of 1000.00 USD raised, 0%"
    assert 'data-testid="goal-contribute"' not in page(model, make_user("carol"))
    assert what_each_path_says(model, version)["download"] == 307


def test_a_reached_goal_does_not_shorten_nor_reopen_a_version_already_public(
    model, version, creator, fan, send
):
    goal = funding.open_goal(
        user=creator, model=model, title="No unlock", description="", target=1_000, deadline=in_days(3)
    )
    send(contribution(goal, fan, amount=1_000, n=1))
    goal.refresh_from_db()
    version.refresh_from_db()
    assert goal.status == "reached" and version.in_early_access()  # it unlocks nothing
    assert "free for everyone" not in page(model)


def test_a_canceled_goal_is_not_reached_by_a_late_payment(model, version, goal, creator, fan, send):
    funding.cancel_goal(user=creator, goal=goal)
    send(contribution(goal, fan, amount=100_000, n=1))
    goal.refresh_from_db()
    assert goal.status == "canceled" and ModelVersion.objects.get(id=version.id).in_early_access()


def test_an_ended_goal_is_closed_when_the_next_one_opens(model, goal, creator):
    FundingGoal.objects.filter(id=goal.id).update(deadline=timezone.now() - datetime.timedelta(days=1))
    funding.open_goal(
        user=creator, model=model, title="Next", description="", target=100, deadline=in_days(2)
    )
    goal.refresh_from_db()
    assert goal.status == "ended"
    assert FundingGoal.objects.filter(model=model, status="open").count() == 1


def test_the_goal_costs_the_model_page_two_queries_whatever_the_supporters(model, creator, fan, send):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            page(model, fan)
        return len(captured)

    queries()  # the first visit also touches the session
    without = queries()  # the goal is looked for: one query
    goal = funding.open_goal(
        user=creator, model=model, title="Goal", description="", target=10**6, deadline=in_days(9)
    )
    send(contribution(goal, make_user("carol"), amount=1_000, n=1))
    one = queries()
    for n in range(2, 6):
        send(contribution(goal, make_user(f"supporter{n}"), amount=1_000, n=n))
    assert one == queries() == without + 1  # and its ledger rows: one more


def test_the_goal_is_escaped_and_in_french(model, creator, fan, send):
    goal = funding.open_goal(
        user=creator,
        model=model,
        title="<script>alert(1)</script>",
        description="",
        target=1_000_000,
        deadline=in_days(10),
    )
    send(contribution(goal, fan, amount=250_000, n=1))
    html = page(model)
    assert "<script>alert(1)</script>" not in html and "Goal: &lt;script&gt;alert(1)&lt;/script&gt;" in html
    client = as_user(fan)
    client.cookies["django_language"] = "fr"
    french = client.get(model.get_absolute_url(), headers={"accept-language": "fr"}).content.decode()
    assert "2500.00 USD collectés sur 10000.00 USD, 25 %" in french
    assert "1 contributeur<" in french


def test_the_version_a_reached_goal_opened_cannot_go_back_into_early_access(
    model, version, goal, creator, fan, send
):
    send(contribution(goal, fan, amount=100_000, n=1))
    url = f"/models/{model.id}/versions/{version.id}/edit"
    client = as_user(creator)
    form = {
        "name": version.name,
        "base_model": version.base_model.name,
        "trained_words": "",
        "description": "",
        "early_access_days": 0,
        "usage_control": "Download",
        "early_access_price": 0,
        "early_access_currency": "usd",
    }
    assert 'name="early_access_days" value="0"' in client.get(url).content.decode()
    assert client.post(url, form).status_code == 302  # saving it as it is keeps it open
    response = client.post(url, {**form, "early_access_days": 5})
    assert response.status_code == 200
    assert "A reached crowdfunding goal made this version free for everyone" in response.content.decode()
    version.refresh_from_db()
    assert not version.in_early_access() and version.early_access_days == 0


def test_a_description_of_2000_characters_with_browser_line_breaks_is_accepted(model, goal, creator):
    text = ("x" * 98 + "\r\n") * 20  # 2,000 characters as the browser counts them (CRLF is one)
    response = as_user(creator).post(f"/models/{model.id}/goal", {"title": "T", "description": text})
    assert response.status_code == 302
    goal.refresh_from_db()
    assert goal.description == ("x" * 98 + "\n") * 19 + "x" * 98  # kept with LF, trimmed

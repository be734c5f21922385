"""entitlements(user), the order of subscription events, and the tier on CivitAI's /api/v1/me
(docs/billing.md#entitlements, docs/billing.md#event-order)."""

import datetime
import time

import pytest
from django.utils import timezone

import billing
import billing.selectors
from billing.models import Plan, Subscription
from billing.selectors import FREE_MAX_API_KEYS, FREE_TIER
from community.models import ApiKey

from .conftest import load

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(send, fan, plan):
    send("checkout.session.completed", user=fan)
    send("customer.subscription.updated")
    return fan


def test_a_user_without_a_subscription_has_the_free_tier(fan, settings):
    perks = billing.entitlements(fan)
    assert (perks.tier, perks.early_access, perks.is_member) == (FREE_TIER, False, False)
    assert (perks.upload_limit_bytes, perks.max_api_keys) == (settings.MAX_UPLOAD_SIZE, FREE_MAX_API_KEYS)


def test_anonymous_visitors_have_the_free_tier():
    from django.contrib.auth.models import AnonymousUser

    assert billing.entitlements(AnonymousUser()).tier == FREE_TIER
    assert billing.entitlements(None).tier == FREE_TIER


def test_an_active_subscription_gives_its_plans_perks(member, plan):
    perks = billing.entitlements(member)
    assert (perks.tier, perks.early_access, perks.is_member) == ("Supporter", True, True)
    assert (perks.upload_limit_bytes, perks.max_private_collections, perks.max_api_keys) == (
        50 * 1024**3,
        1000,
        50,
    )


def test_entitlements_are_frozen(member):
    perks = billing.entitlements(member)
    with pytest.raises(AttributeError):
        perks.tier = "free"


def test_a_plan_never_gives_less_than_the_free_tier(send, fan, settings):
    Plan.objects.create(
        name="Tiny",
        stripe_price_id="price_1QhubMonthly",
        amount=100,
        currency="usd",
        interval="month",
        max_api_keys=1,
    )
    send("checkout.session.completed", user=fan)
    send("customer.subscription.updated")
    perks = billing.entitlements(fan)
    assert perks.tier == "Tiny" and perks.max_api_keys == FREE_MAX_API_KEYS
    assert perks.upload_limit_bytes == settings.MAX_UPLOAD_SIZE


@pytest.mark.parametrize("status", ["canceled", "unpaid", "incomplete_expired", "incomplete"])
def test_a_lapsed_subscription_takes_the_perks_away_at_once(member, send, status):
    event = load("customer.subscription.updated", at=int(time.time()) + 60)
    event["id"] = f"evt_lapse_{status}"
    event["data"]["object"]["status"] = status
    assert send(event).status_code == 200
    assert billing.entitlements(member).tier == FREE_TIER


def test_the_cancellation_event_takes_the_perks_away(member, send):
    send("customer.subscription.deleted")
    assert billing.entitlements(member).tier == FREE_TIER


def test_a_period_that_ended_without_renewal_gives_the_free_tier(member):
    Subscription.objects.filter(user=member).update(
        current_period_end=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert billing.entitlements(member).tier == FREE_TIER


def test_past_due_keeps_the_perks_until_the_period_ends(member, send):
    send("invoice.payment_failed")
    assert Subscription.objects.get().status == "past_due"
    assert billing.entitlements(member).tier == "Supporter"


def test_an_older_update_arriving_late_does_not_overwrite_the_newer_state(send, fan, plan):
    send("checkout.session.completed", user=fan)
    send("customer.subscription.updated")  # active, created T+5
    send("customer.subscription.created")  # incomplete, created T: older, arrives later
    assert Subscription.objects.get().status == "active"
    assert billing.entitlements(fan).tier == "Supporter"


def test_a_cancellation_is_final_even_when_an_update_of_the_same_second_follows(send, fan, plan):
    send("checkout.session.completed", user=fan)
    deleted = load("customer.subscription.deleted")
    send(deleted)
    update = load("customer.subscription.updated")
    update["created"] = deleted["created"]
    send(update)
    assert Subscription.objects.get().status == "canceled"
    assert billing.entitlements(fan).tier == FREE_TIER


def test_a_stale_payment_failure_does_not_undo_a_later_recovery(send, fan, plan):
    send("checkout.session.completed", user=fan)
    recovered = load("customer.subscription.updated", at=int(time.time()) + 40 * 86400)
    send(recovered)
    send("invoice.payment_failed")  # created 30 days after RECORDED_AT: older than the recovery
    assert Subscription.objects.get().status == "active"


def test_api_v1_me_reports_the_real_tier(client, member):
    _, key = ApiKey.create(user=member, name="tool")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).json()
    assert (me["tier"], me["isMember"]) == ("Supporter", True)


def test_api_v1_me_reports_free_after_a_lapse(client, member, send):
    send("customer.subscription.deleted")
    _, key = ApiKey.create(user=member, name="tool")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).json()
    assert (me["tier"], me["isMember"]) == ("free", False)


def test_a_plan_with_more_api_keys_lets_a_member_create_more(member, fan):
    from community.services import create_api_key

    for n in range(FREE_MAX_API_KEYS + 1):
        create_api_key(user=member, name=f"tool {n}")
    assert ApiKey.objects.filter(user=member).count() == FREE_MAX_API_KEYS + 1


def test_after_a_lapse_the_free_api_key_cap_applies_again(member, send):
    from django.core.exceptions import ValidationError

    from community.services import create_api_key

    for n in range(FREE_MAX_API_KEYS):
        create_api_key(user=member, name=f"tool {n}")
    send("customer.subscription.deleted")
    with pytest.raises(ValidationError, match=f"{FREE_MAX_API_KEYS} active API keys"):
        create_api_key(user=member, name="one more")
    assert ApiKey.objects.filter(user=member).count() == FREE_MAX_API_KEYS


def test_the_api_keys_page_says_the_cap_is_reached_only_at_the_members_cap(client, member, send):
    for n in range(FREE_MAX_API_KEYS):
        ApiKey.create(user=member, name=f"tool {n}")
    client.force_login(member)
    assert "the most allowed" not in client.get("/settings/api-keys").content.decode()
    send("customer.subscription.deleted")
    assert "the most allowed" in client.get("/settings/api-keys").content.decode()


def test_a_member_has_a_badge_on_their_profile_until_the_membership_lapses(client, member, send, creator):
    page = client.get(f"/user/{member.username}").content.decode()
    assert 'data-testid="member-badge" title="Member: Supporter">Member</span>' in page
    assert 'data-testid="member-badge"' not in client.get(f"/user/{creator.username}").content.decode()
    send("customer.subscription.deleted")
    assert 'data-testid="member-badge"' not in client.get(f"/user/{member.username}").content.decode()


def test_member_ids_answers_for_a_list_in_one_query(member, creator, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert billing.selectors.member_ids([member.id, creator.id]) == {member.id}


def test_a_members_comments_carry_the_badge_until_the_membership_lapses(
    client, member, send, creator, run_on_commit
):
    from community import comments
    from tests.factories import publish_model

    model = publish_model(creator, run_on_commit).model
    target = comments.find_target(member, "model", model.id)
    comments.post_comment(member, target, "Lovely model")
    comments.post_comment(creator, target, "Thanks!")

    def badges():
        page = client.get(model.get_absolute_url()).content.decode()
        section = page[page.index('id="comments"') :]
        return section.count('data-testid="member-badge"')

    assert badges() == 1  # the member's comment, not the creator's
    send("customer.subscription.deleted")
    assert badges() == 0


def test_a_plan_with_a_larger_upload_limit_lets_a_member_upload_bigger_files(
    client, member, plan, send, settings, run_on_commit
):
    import os

    from models_app.models import FileStatus, ModelFile
    from tests.factories import make_model
    from tests.models_app.test_uploads import PART, send_parts, start

    settings.UPLOAD_PART_SIZE = PART
    settings.MAX_UPLOAD_SIZE = 6 * 1024**2  # the free tier: 6 MiB
    Plan.objects.filter(pk=plan.pk).update(upload_limit_bytes=20 * 1024**2)
    version = make_model(member, publish=False).versions.get()
    client.force_login(member)
    payload = os.urandom(2 * PART + 1)  # 10 MiB: over the free limit, under the plan's
    assert (
        f'"maxFileSize": {20 * 1024**2}'
        in client.get(f"/models/{version.model_id}/versions/{version.id}/files").content.decode()
    )
    with run_on_commit():
        response = start(client, version, name="big.txt", size=len(payload), type="Training Data")
        assert response.status_code == 201, response.content
        send_parts(client, response.json()["id"], payload)
        assert client.post(f"/api/hub/uploads/{response.json()['id']}/complete").status_code == 200
    model_file = ModelFile.objects.get(id=response.json()["id"])
    assert model_file.status == FileStatus.READY, model_file.status_message

    send("customer.subscription.deleted")  # lapsed: the free limit again, at once
    refused = start(client, version, name="again.txt", size=len(payload), type="Training Data")
    assert refused.status_code == 400 and "6 MiB" in refused.json()["detail"]


def test_private_collections_are_capped_by_the_plan(member, plan, send, settings):
    from community import collections
    from community.models import Collection

    settings.FREE_MAX_PRIVATE_COLLECTIONS = 2
    Plan.objects.filter(pk=plan.pk).update(max_private_collections=3)
    collections.favourites_of(member, create=True)  # Favourites is private and never counted
    for n in range(3):
        collections.create_collection(owner=member, name=f"Secret {n}", visibility="private")
    with pytest.raises(collections.CollectionRefused, match="3 private collections, the most your plan"):
        collections.create_collection(owner=member, name="One more", visibility="private")

    send("customer.subscription.deleted")  # lapsed: what exists stays, nothing more goes private
    assert Collection.objects.filter(owner=member, visibility="private", is_favorites=False).count() == 3
    public = collections.create_collection(owner=member, name="Open", visibility="public")
    with pytest.raises(collections.CollectionRefused, match="2 private collections"):
        collections.update_collection(collection=public, by=member, changes={"visibility": "private"})
    assert Collection.objects.get(pk=public.pk).visibility == "public"
    secret = Collection.objects.get(owner=member, name="Secret 0")
    collections.update_collection(collection=secret, by=member, changes={"name": "Still secret"})

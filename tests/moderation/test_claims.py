"""Copyright claims, DMCA-style (docs/moderation.md#copyright-claims): anyone files one; a moderator
takes the content down (audited, the owner told) or rejects it; the owner answers with a counter-notice;
after the wait a moderator restores it. Each step is dated and the claimant is emailed."""

import datetime

import pytest
from django.core import mail
from django.test import Client

from community.models import Notification
from moderation.models import ClaimStatus, CopyrightClaim, ModerationAction

from .conftest import as_user

pytestmark = pytest.mark.django_db

CLAIM = {
    "claimant_name": "Erin Painter",
    "claimant_email": "erin@example.com",
    "work": "My watercolour series, https://example.com/erin/series",
    "statement": "The training images are my paintings, used without permission.",
    "good_faith": "on",
    "accurate": "on",
    "signature": "Erin Painter",
}


def file(client, version, **changes):
    return client.post(f"/claims/model/{version.model_id}", {**CLAIM, **changes})


def test_anyone_can_file_a_claim_and_it_reaches_the_moderators(version, moderator):
    response = file(Client(), version)
    assert response.status_code == 200 and 'data-testid="claim-sent"' in response.content.decode()
    claim = CopyrightClaim.objects.get()
    assert (claim.status, claim.claimant_name, claim.target_type) == (
        ClaimStatus.RECEIVED,
        "Erin Painter",
        "model",
    )
    queue = as_user(moderator).get("/moderation/").content.decode()
    assert "1 copyright claim to decide" in queue
    assert "Erin Painter" in as_user(moderator).get("/moderation/claims/").content.decode()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"signature": "Someone Else"}, "Sign with the name you gave above."),
        ({"good_faith": ""}, "This field is required"),
        ({"work": ""}, "This field is required"),
    ],
)
def test_an_incomplete_claim_is_refused_and_nothing_is_stored(version, changes, message):
    response = file(Client(), version, **changes)
    assert message in response.content.decode()
    assert not CopyrightClaim.objects.exists()


def test_takedown_counter_notice_and_restore_with_their_dates(
    version, creator, moderator, django_capture_on_commit_callbacks
):
    file(Client(), version)
    claim = CopyrightClaim.objects.get()
    page_url = version.model.get_absolute_url()
    with django_capture_on_commit_callbacks(execute=True):
        as_user(moderator).post(
            f"/moderation/claims/{claim.id}/act", {"action": "take_down", "note": "The paintings match."}
        )
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.TAKEN_DOWN and claim.taken_down_at is not None
    assert Client().get(page_url).status_code == 404  # gone for everyone else
    record = ModerationAction.objects.get(action="remove")
    assert f"Copyright claim {claim.id}: The paintings match." == record.reason
    assert Notification.objects.filter(recipient=creator, kind="moderation").exists()  # the owner is told
    assert mail.outbox[-1].to == ["erin@example.com"] and "upheld" in mail.outbox[-1].subject

    owner = as_user(creator)
    assert 'data-testid="counter-form"' in owner.get(f"/moderation/claims/{claim.id}").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        owner.post(
            f"/moderation/claims/{claim.id}/counter",
            {"statement": "I painted the training set myself.", "accurate": "on"},
        )
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.COUNTERED and claim.counter_notice_at is not None
    assert "I painted the training set myself." in mail.outbox[-1].body

    # Too early: the claimant has 14 days to say they went to court.
    refused = as_user(moderator).post(
        f"/moderation/claims/{claim.id}/act", {"action": "restore", "note": "ok"}, follow=True
    )
    assert "has until" in refused.content.decode()
    CopyrightClaim.objects.filter(id=claim.id).update(
        counter_notice_at=claim.counter_notice_at - datetime.timedelta(days=15)
    )
    as_user(moderator).post(
        f"/moderation/claims/{claim.id}/act", {"action": "restore", "note": "No court action."}
    )
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.RESTORED and claim.restored_at is not None
    assert Client().get(page_url).status_code == 200
    page = as_user(moderator).get(f"/moderation/claims/{claim.id}").content.decode()
    for step in ("Received", "Taken down", "Counter-notice", "Restored"):
        assert step in page


def test_a_rejected_claim_leaves_the_content_and_tells_the_claimant(
    version, moderator, django_capture_on_commit_callbacks
):
    file(Client(), version)
    claim = CopyrightClaim.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        as_user(moderator).post(
            f"/moderation/claims/{claim.id}/act", {"action": "reject", "note": "Different style."}
        )
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.REJECTED and claim.rejected_at is not None
    assert Client().get(version.model.get_absolute_url()).status_code == 200
    assert mail.outbox[-1].body == "Different style."


def test_only_moderators_decide_and_only_they_and_the_owner_see_a_claim(version, creator, fan, moderator):
    file(Client(), version)
    claim = CopyrightClaim.objects.get()
    assert as_user(fan).get(f"/moderation/claims/{claim.id}").status_code == 403
    assert as_user(creator).get(f"/moderation/claims/{claim.id}").status_code == 200
    assert (
        as_user(creator)
        .post(f"/moderation/claims/{claim.id}/act", {"action": "reject", "note": "x"})
        .status_code
        == 403
    )
    assert Client().get("/moderation/claims/").status_code == 302  # to the login page
    assert as_user(fan).get("/moderation/claims/").status_code == 403
    # A counter-notice answers a takedown only.
    as_user(creator).post(f"/moderation/claims/{claim.id}/counter", {"statement": "No.", "accurate": "on"})
    assert CopyrightClaim.objects.get().status == ClaimStatus.RECEIVED

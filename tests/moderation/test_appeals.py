"""Appeals (docs/moderation.md#appeals): the owner appeals a decision once; the appeal goes to another
moderator, who alone may decide it; granting undoes the decision."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from community.models import Notification
from models_app.models import AIModel, PublishStatus
from moderation import services
from moderation.models import AppealStatus, ModerationAction

from .conftest import as_user

pytestmark = pytest.mark.django_db


def hide(moderator, version):
    return services.act(
        moderator=moderator, target_type="model", target_id=version.model_id, action="hide", reason="Spam."
    )


def test_an_appeal_goes_to_another_moderator_who_alone_decides_it(version, creator, moderator, moderator2):
    decision = hide(moderator, version)
    item = services.appeal(user=creator, action_id=decision.id, statement="It is not spam.")
    assert item.assigned_to == moderator2
    with pytest.raises(PermissionDenied):
        services.decide_appeal(moderator=moderator, appeal_id=item.id, grant=True, reason="I was wrong.")
    # The queue shows it first to its assignee.
    queue = as_user(moderator2).get("/moderation/").content.decode()
    assert 'data-testid="appeal-row"' in queue and "assigned to you" in queue
    page = as_user(moderator).get(f"/moderation/decisions/{decision.id}").content.decode()
    assert "another moderator decides its appeal" in page

    services.decide_appeal(moderator=moderator2, appeal_id=item.id, grant=True, reason="Not spam indeed.")
    item.refresh_from_db()
    assert item.status == AppealStatus.GRANTED and item.decided_by == moderator2
    assert AIModel.objects.get(id=version.model_id).status == PublishStatus.PUBLISHED
    assert ModerationAction.objects.filter(action="appeal_granted").exists()
    assert "Your appeal was granted" in Notification.objects.filter(recipient=creator).latest("id").excerpt


def test_a_decision_is_appealed_once_and_only_by_its_owner(version, creator, fan, moderator, moderator2):
    decision = hide(moderator, version)
    with pytest.raises(Exception):  # noqa: B017 (Http404: not theirs)
        services.appeal(user=fan, action_id=decision.id, statement="Me too.")
    services.appeal(user=creator, action_id=decision.id, statement="First.")
    with pytest.raises(ValidationError, match="once"):
        services.appeal(user=creator, action_id=decision.id, statement="Second.")
    with pytest.raises(ValidationError):
        services.appeal(user=creator, action_id=decision.id, statement="")


def test_a_refused_appeal_leaves_the_decision(version, creator, moderator, moderator2):
    item = services.appeal(user=creator, action_id=hide(moderator, version).id, statement="Please.")
    services.decide_appeal(moderator=moderator2, appeal_id=item.id, grant=False, reason="It is spam.")
    assert AIModel.objects.get(id=version.model_id).status == PublishStatus.HIDDEN
    with pytest.raises(ValidationError, match="already decided"):
        services.decide_appeal(moderator=moderator2, appeal_id=item.id, grant=True, reason="x")


def test_a_lone_moderator_decides_appeals_of_their_own_decisions(version, creator, moderator):
    item = services.appeal(user=creator, action_id=hide(moderator, version).id, statement="Please.")
    assert item.assigned_to == moderator
    services.decide_appeal(moderator=moderator, appeal_id=item.id, grant=True, reason="Fair enough.")
    assert AIModel.objects.get(id=version.model_id).status == PublishStatus.PUBLISHED


def test_appealing_on_the_decision_page(version, creator, moderator, moderator2):
    decision = hide(moderator, version)
    client = as_user(creator)
    url = f"/moderation/decisions/{decision.id}"
    response = client.post(url, {"statement": "Not spam: it is a style."}, follow=True)
    page = response.content.decode()
    assert "another moderator will review it" in page and 'data-testid="appeal-status"' in page
    assert 'data-testid="appeal-form"' not in page  # once
    again = client.post(url, {"statement": "Again"}, follow=True).content.decode()
    assert "can&#x27;t be appealed" in again or "can't be appealed" in again
    decide = as_user(moderator2).post(
        f"/moderation/appeals/{decision.appeal.id}/decide", {"decision": "grant", "reason": "Agreed."}
    )
    assert decide.status_code == 302
    assert AIModel.objects.get(id=version.model_id).status == PublishStatus.PUBLISHED


def test_a_lifted_sanction_on_appeal(version, creator, moderator, moderator2):
    decision = services.act(
        moderator=moderator, target_type="user", target_id=creator.id, action="ban", reason="x"
    )
    item = services.appeal(user=creator, action_id=decision.id, statement="Hacked account.")
    services.decide_appeal(moderator=moderator2, appeal_id=item.id, grant=True, reason="Recovered.")
    creator.refresh_from_db()
    assert creator.is_active

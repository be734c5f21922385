"""Reports (docs/moderation.md#reports): anyone signed in reports what they can see, once while open;
the reporter is told the outcome."""

import pytest
from django.db import IntegrityError

from community.models import Notification, NotificationKind
from models_app import demo
from moderation import services
from moderation.models import Report, ReportStatus
from tests.factories import add_example_image

from .conftest import as_user, post_comment, post_json

pytestmark = pytest.mark.django_db


def _report(client, target_type, target_id, reason="spam", details="selling stuff"):
    return post_json(
        client,
        "/api/hub/reports",
        {"target_type": target_type, "target_id": target_id, "reason": reason, "details": details},
    )


def test_a_report_is_created_and_a_second_open_one_is_a_409(version, fan):
    client = as_user(fan)
    first = _report(client, "model", version.model_id)
    assert first.status_code == 201, first.content
    assert first.json()["status"] == "open" and first.json()["reason"] == "spam"
    second = _report(client, "model", version.model_id, reason="other")
    assert second.status_code == 409
    assert "already reported" in second.json()["detail"]
    assert Report.objects.count() == 1
    # Another target, or another person, is a new report.
    assert _report(client, "version", version.id).status_code == 201


def test_bad_reason_is_400_unknown_or_invisible_target_404_anonymous_refused(version, fan, creator):
    client = as_user(fan)
    assert _report(client, "model", version.model_id, reason="ugly").status_code == 400
    assert _report(client, "planet", 1).status_code == 400
    assert _report(client, "model", 999_999).status_code == 404
    draft = services.model_services.create_model(owner=creator, name="Secret draft", type="LORA")
    assert _report(client, "model", draft.id).status_code == 404  # a draft others can't see
    assert _report(as_user(None), "model", version.model_id).status_code in (401, 403)
    assert _report(client, "model", version.model_id, details="x" * 2001).status_code == 400
    assert not Report.objects.exists()


def test_every_target_type_can_be_reported(version, fan, creator, run_on_commit):
    image = add_example_image(
        version, run_on_commit, name="cat.png", content=demo.example_image((9, 9, 9), (1, 1, 1))
    )
    comment = post_comment(creator, version, "hi")
    client = as_user(fan)
    for target_type, target_id in [
        ("model", version.model_id),
        ("version", version.id),
        ("file", version.files.get(type="Model").id),
        ("image", image.id),
        ("comment", comment.id),
        ("user", creator.id),
    ]:
        assert _report(client, target_type, target_id).status_code == 201, target_type


def test_one_open_report_is_also_a_database_constraint(version, fan):
    Report.objects.create(reporter=fan, target_type="model", target_id=version.model_id, reason="spam")
    with pytest.raises(IntegrityError):
        Report.objects.create(reporter=fan, target_type="model", target_id=version.model_id, reason="other")


def test_after_a_decision_the_same_person_may_report_again(version, fan, moderator):
    client = as_user(fan)
    assert _report(client, "model", version.model_id).status_code == 201
    services.act(
        moderator=moderator, target_type="model", target_id=version.model_id, action="dismiss", reason="Fine."
    )
    assert _report(client, "model", version.model_id).status_code == 201


def test_nobody_reports_their_own_content(version, creator):
    response = _report(as_user(creator), "model", version.model_id)
    assert response.status_code == 400
    assert "your own" in response.json()["detail"]


def test_the_report_page_sends_a_report_and_says_so_the_second_time(version, fan):
    client = as_user(fan)
    url = f"/report/model/{version.model_id}"
    page = client.get(url)
    assert page.status_code == 200 and "Tiny Watercolor" in page.content.decode()
    sent = client.post(url, {"reason": "real_person", "details": "This is my neighbour."})
    assert 'data-testid="report-sent"' in sent.content.decode()
    again = client.post(url, {"reason": "spam"})
    assert "You already reported this" in again.content.decode()
    assert Report.objects.filter(reporter=fan).count() == 1


def test_the_report_page_needs_a_login_and_a_visible_target(version, fan, client):
    response = client.get(f"/report/model/{version.model_id}")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert as_user(fan).get("/report/model/999999").status_code == 404
    assert as_user(fan).get("/report/planet/1").status_code == 404


def test_the_model_page_links_to_the_report_form(version, fan, creator):
    assert (
        f"/report/model/{version.model_id}"
        in as_user(fan).get(version.model.get_absolute_url()).content.decode()
    )
    # Not on one's own model.
    assert (
        f"/report/model/{version.model_id}"
        not in as_user(creator).get(version.model.get_absolute_url()).content.decode()
    )
    profile = as_user(fan).get(f"/user/{creator.username}").content.decode()
    assert f"/report/user/{creator.id}" in profile


def test_the_reporter_is_told_the_outcome(version, fan, moderator2, moderator):
    _report(as_user(fan), "model", version.model_id)
    _report(as_user(moderator2), "model", version.model_id, reason="real_person")
    services.act(
        moderator=moderator,
        target_type="model",
        target_id=version.model_id,
        action="hide",
        reason="A real person.",
    )
    assert set(Report.objects.values_list("status", flat=True)) == {ReportStatus.ACTIONED}
    told = Notification.objects.get(recipient=fan, kind=NotificationKind.MODERATION)
    assert "moderators acted: Hide" in told.excerpt
    page = as_user(fan).get("/notifications").content.decode()
    assert "moderators acted" in page


def test_a_dismissed_report_tells_the_reporter_no_rule_was_broken(version, fan, moderator):
    _report(as_user(fan), "model", version.model_id)
    services.act(
        moderator=moderator, target_type="model", target_id=version.model_id, action="dismiss", reason="Fine."
    )
    assert Report.objects.get().status == ReportStatus.DISMISSED
    assert "no rule broken" in Notification.objects.get(recipient=fan).excerpt


def test_image_pages_and_comments_link_to_the_report_form(version, fan, creator, run_on_commit):
    image = add_example_image(
        version, run_on_commit, name="cat.png", content=demo.example_image((9, 9, 9), (1, 1, 1))
    )
    assert f"/report/image/{image.id}" in as_user(fan).get(f"/images/{image.id}").content.decode()
    comment = post_comment(creator, version, "hello")
    section = as_user(fan).get(f"/comments/model/{version.model_id}").content.decode()
    assert f"/report/comment/{comment.id}" in section
    own = as_user(creator).get(f"/comments/model/{version.model_id}").content.decode()
    assert f"/report/comment/{comment.id}" not in own


def test_reports_are_rate_limited(version, fan, creator, settings):
    settings.REPORT_RATE_LIMIT = 2
    client = as_user(fan)
    assert _report(client, "model", version.model_id).status_code == 201
    assert _report(client, "user", creator.id).status_code == 201
    refused = _report(client, "version", version.id)
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    assert "Too many reports" in refused.json()["detail"]
    page = client.post(f"/report/version/{version.id}", {"reason": "spam"}).content.decode()
    assert "Too many reports" in page
    assert Report.objects.count() == 2

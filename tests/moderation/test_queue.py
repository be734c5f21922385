"""The queue at /moderation/ and its API (docs/moderation.md#the-queue): moderators only; open reports
grouped by target with filters; quarantined files arrive as automatic reports; bulk actions."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from models_app.models import AIModel, FileStatus, ModelFile, PublishStatus, ScanStatus
from moderation import services, signals
from moderation.models import ModerationAction, Report, ReportStatus
from tests.factories import make_user

from .conftest import as_user, post_json

pytestmark = pytest.mark.django_db


def _urls(version, decision_id, appeal_id):
    """Every moderators-only URL: (method, path, body)."""
    return [
        ("get", "/moderation/", None),
        ("post", "/moderation/bulk", {"action": "dismiss", "reason": "x"}),
        ("get", f"/moderation/t/model/{version.model_id}", None),
        ("post", f"/moderation/t/model/{version.model_id}/act", {"action": "dismiss", "reason": "x"}),
        ("post", f"/moderation/appeals/{appeal_id}/decide", {"decision": "refuse", "reason": "x"}),
        ("get", "/api/hub/moderation/queue", None),
        (
            "post",
            "/api/hub/moderation/actions",
            {"target_type": "model", "target_id": version.model_id, "action": "dismiss", "reason": "x"},
        ),
        ("get", f"/api/hub/moderation/audit?target_type=model&target_id={version.model_id}", None),
    ]


def _call(client, method, url, body):
    if method == "get":
        return client.get(url)
    if url.startswith("/api/"):
        return post_json(client, url, body)
    return client.post(url, body)


def test_permissions_on_every_moderation_url(version, creator, fan, moderator, moderator2):
    decision = services.act(
        moderator=moderator, target_type="model", target_id=version.model_id, action="hide", reason="x"
    )
    appeal = services.appeal(user=creator, action_id=decision.id, statement="Please look again.")
    for method, url, body in _urls(version, decision.id, appeal.id):
        anonymous = _call(Client(), method, url, body)
        if url.startswith("/api/"):
            assert anonymous.status_code in (401, 403), url
        else:
            assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"], url
        assert _call(as_user(fan), method, url, body).status_code == 403, url
        allowed = _call(as_user(moderator2), method, url, body)
        assert allowed.status_code in (200, 201, 302), (url, allowed.status_code)
    # The decision page: its owner and moderators; others 404, anonymous to the login page.
    page = f"/moderation/decisions/{decision.id}"
    assert Client().get(page).status_code == 302
    assert as_user(fan).get(page).status_code == 404
    assert as_user(creator).get(page).status_code == 200
    assert as_user(moderator).get(page).status_code == 200
    # Reporting: anyone signed in.
    assert as_user(fan).get(f"/report/user/{creator.id}").status_code == 200


def test_the_queue_groups_open_reports_by_target(version, fan, creator, moderator):
    carol = make_user("carol")
    for person, reason in ((fan, "spam"), (carol, "real_person")):
        services.report(reporter=person, target_type="model", target_id=version.model_id, reason=reason)
    services.report(reporter=fan, target_type="user", target_id=creator.id, reason="harassment")
    queue = as_user(moderator).get("/api/hub/moderation/queue").json()
    assert queue["total"] == 2
    model_row = next(row for row in queue["items"] if row["target_type"] == "model")
    assert model_row["report_count"] == 2 and set(model_row["reasons"]) == {"spam", "real_person"}
    assert model_row["name"] == "Tiny Watercolor" and model_row["automatic"] is False
    page = as_user(moderator).get("/moderation/").content.decode()
    assert page.count('data-testid="queue-row"') == 2 and "2 reports" in page


def test_the_queue_filters_by_reason_type_age_and_kind(version, fan, creator, moderator):
    services.report(reporter=fan, target_type="model", target_id=version.model_id, reason="spam")
    old = services.report(reporter=fan, target_type="user", target_id=creator.id, reason="harassment")
    Report.objects.filter(id=old.id).update(created_at=timezone.now() - timedelta(days=10))
    client = as_user(moderator)

    def targets(query):
        return [
            (r["target_type"], r["target_id"])
            for r in client.get(f"/api/hub/moderation/queue?{query}").json()["items"]
        ]

    assert targets("reason=spam") == [("model", version.model_id)]
    assert targets("target_type=user") == [("user", creator.id)]
    assert targets("older_than=7") == [("user", creator.id)]
    assert targets("kind=automatic") == []
    assert len(targets("kind=user")) == 2
    assert client.get("/api/hub/moderation/queue?reason=nope").status_code == 400
    page = client.get("/moderation/?reason=harassment").content.decode()
    assert page.count('data-testid="queue-row"') == 1


def test_a_quarantined_file_arrives_as_an_automatic_report_once(version, moderator):
    model_file = version.files.get(type="Model")
    ModelFile.objects.filter(id=model_file.id).update(
        status=FileStatus.QUARANTINED, scan_status=ScanStatus.QUARANTINED, scan_message="Dangerous pickle"
    )
    client = as_user(moderator)
    queue = client.get("/api/hub/moderation/queue?kind=automatic").json()
    assert [(r["target_type"], r["target_id"], r["automatic"]) for r in queue["items"]] == [
        ("file", model_file.id, True)
    ]
    report = Report.objects.get()
    assert report.reporter is None and report.source == "scan" and report.reason == "malicious_file"
    # Dismissed, it is not raised again.
    services.act(
        moderator=moderator, target_type="file", target_id=model_file.id, action="dismiss", reason="Known."
    )
    assert client.get("/api/hub/moderation/queue").json()["items"] == []
    assert Report.objects.count() == 1


def test_bulk_actions_decide_several_rows(version, fan, creator, moderator, run_on_commit):
    from tests.factories import publish_model

    other = publish_model(creator, run_on_commit, name="Other Model").model
    for model_id in (version.model_id, other.id):
        services.report(reporter=fan, target_type="model", target_id=model_id, reason="spam")
    response = as_user(moderator).post(
        "/moderation/bulk",
        {
            "target": [f"model:{version.model_id}", f"model:{other.id}"],
            "action": "hide",
            "reason": "Spam wave.",
        },
        follow=True,
    )
    assert "2 decisions recorded" in response.content.decode()
    assert set(AIModel.objects.values_list("status", flat=True)) == {PublishStatus.HIDDEN}
    assert ModerationAction.objects.filter(action="hide").count() == 2
    assert not Report.objects.filter(status=ReportStatus.OPEN).exists()
    empty = as_user(moderator).post("/moderation/bulk", {"action": "hide", "reason": "x"}, follow=True)
    assert "Select at least one row" in empty.content.decode()


def test_the_queue_paginates(fan, moderator, settings):
    settings.REPORT_RATE_LIMIT = 0  # one person reporting 27 accounts in a row, here on purpose
    people = [make_user(f"user{i}") for i in range(27)]
    for person in people:
        services.report(reporter=fan, target_type="user", target_id=person.id, reason="spam")
    client = as_user(moderator)
    first = client.get("/api/hub/moderation/queue").json()
    assert len(first["items"]) == 25 and first["next_page"] == 2 and first["total"] == 27
    second = client.get("/api/hub/moderation/queue?page=2").json()
    assert len(second["items"]) == 2 and second["next_page"] is None
    assert "page=2" in client.get("/moderation/").content.decode()


def test_the_queue_page_loads_its_keyboard_script_from_a_file(version, fan, moderator):
    services.report(reporter=fan, target_type="model", target_id=version.model_id, reason="spam")
    page = as_user(moderator).get("/moderation/").content.decode()
    assert "js/moderation-queue.js" in page
    assert "<script>" not in page  # no inline script: the CSP refuses them


def test_image_signals_arrive_as_automatic_reports_once(version, moderator, run_on_commit):
    from models_app import demo
    from moderation import blocked_images
    from resources.models import Image
    from tests.factories import add_example_image

    def image(name):
        return add_example_image(
            version, run_on_commit, name=name, content=demo.example_image((9, 9, 9), (1, 1, 1))
        )

    mature, marked, near, plain = image("a.png"), image("b.png"), image("c.png"), image("d.png")
    Image.objects.filter(id=mature.id).update(suggested_nsfw_level=8, nsfw_score=0.93)
    Image.objects.filter(id=marked.id).update(suggested_nsfw_level=8, nsfw_score=0.93, nsfw_level=8)
    Image.objects.filter(id=near.id).update(phash="f0f0f0f0f0f0f0f1")
    Image.objects.filter(id=plain.id).update(phash="0123456789abcdef")
    blocked_images.block("f0f0f0f0f0f0f0f0", note="known abuse image")

    rows = as_user(moderator).get("/api/hub/moderation/queue?kind=automatic").json()["items"]
    assert {(r["target_id"], tuple(r["reasons"])) for r in rows} == {
        (mature.id, ("mislabelled_level",)),
        (near.id, ("other",)),
    }
    assert set(Report.objects.values_list("source", flat=True)) == {"classifier", "blocked_image"}
    assert "known abuse image" in Report.objects.get(source="blocked_image").details
    assert signals.sync_all() == 0  # once

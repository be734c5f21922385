"""Moderators' actions (docs/moderation.md#actions-and-the-audit-log): each on the targets it applies
to, through the content apps' statuses; hidden content disappears for others on pages and APIs while
its owner sees why; restore brings it back; every action is an append-only audit row."""

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from community.models import Comment, CommentStatus, Notification, NotificationKind
from models_app import demo
from models_app import services as model_services
from models_app.models import AIModel, FileStatus, ModelFile, ModelVersion, PublishStatus
from moderation import services
from moderation.models import ActionKind, AuditLogIsAppendOnly, ModerationAction, UserSanction
from resources.models import Image, ImageStatus
from tests.factories import PASSWORD, add_example_image

from .conftest import as_user, post_comment, post_json

pytestmark = pytest.mark.django_db


def act(moderator, target_type, target_id, action, reason="Breaks rule 3.", **extra):
    return services.act(
        moderator=moderator,
        target_type=target_type,
        target_id=target_id,
        action=action,
        reason=reason,
        **extra,
    )


def _everywhere(client, model: AIModel, sha256: str, version_id: int) -> dict[str, bool]:
    """Where a visitor finds the model: True when it shows up there."""
    return {
        "/models/": model.name in client.get("/models/").content.decode(),
        "home": model.name in client.get("/").content.decode(),
        "search": model.name in client.get("/search/?q=watercolor").content.decode(),
        "hub API": model.name in client.get("/api/hub/models").content.decode(),
        "CivitAI list": any(m["id"] == model.id for m in client.get("/api/v1/models").json()["items"]),
        "CivitAI model": client.get(f"/api/v1/models/{model.id}").status_code == 200,
        # A removed version's tombstone still answers by hash, as "removed" (docs/moderation.md#tombstones).
        "CivitAI by hash": client.get(f"/api/v1/model-versions/by-hash/{sha256}").status_code == 200
        and client.get(f"/api/v1/model-versions/by-hash/{sha256}").json()["status"] != "removed",
        "HF list": any(
            m["id"] == f"alice/{model.slug}" for m in client.get("/api/models?author=alice").json()
        ),
        "HF repo": client.get(f"/api/models/alice/{model.slug}").status_code == 200,
        "download": client.get(f"/api/download/models/{version_id}").status_code in (302, 307),
        "page": client.get(model.get_absolute_url()).status_code == 200,
    }


@pytest.mark.parametrize("action", ["hide", "remove"])
def test_a_hidden_or_removed_model_is_gone_for_others_and_restore_brings_it_back(
    version, creator, fan, moderator, action
):
    model = version.model
    sha256 = version.files.get(type="Model").blob.sha256
    assert all(_everywhere(as_user(fan), model, sha256, version.id).values())

    act(moderator, "model", model.id, action, reason="Depicts a real person without consent.")
    model.refresh_from_db()
    assert model.status == (PublishStatus.HIDDEN if action == "hide" else PublishStatus.REMOVED)
    for client in (Client(), as_user(fan)):
        seen = _everywhere(client, model, sha256, version.id)
        assert not any(seen.values()), seen
    # The owner still sees it, with the reason, and can't publish it back.
    page = as_user(creator).get(model.get_absolute_url()).content.decode()
    assert 'data-testid="moderation-notice"' in page and "Depicts a real person without consent." in page
    # Its link leads to the decision, where the owner may appeal.
    decision = as_user(creator).get(f"/moderation/decisions/for/model/{model.id}")
    assert decision.status_code == 302 and decision["Location"].startswith("/moderation/decisions/")
    assert as_user(fan).get(f"/moderation/decisions/for/model/{model.id}").status_code == 404
    with pytest.raises(ValidationError, match="Moderators took this down"):
        model_services.republish_version(version=version, by=creator)
    # The row is kept.
    assert AIModel.objects.filter(id=model.id).exists()

    act(moderator, "model", model.id, "restore", reason="Consent was shown.")
    told = Notification.objects.filter(recipient=creator, kind=NotificationKind.MODERATION).latest("id")
    assert "Restore: Consent was shown." in told.excerpt
    model.refresh_from_db()
    assert model.status == PublishStatus.PUBLISHED and model.moderation_reason == ""
    assert all(_everywhere(as_user(fan), model, sha256, version.id).values())


def test_a_hidden_version_is_gone_for_others_and_comes_back(version, creator, fan, moderator):
    act(moderator, "version", version.id, "hide")
    assert as_user(fan).get(f"/api/v1/model-versions/{version.id}").status_code == 404
    assert as_user(fan).get(f"/api/download/models/{version.id}").status_code not in (302, 307)
    page = as_user(creator).get(version.model.get_absolute_url()).content.decode()
    assert 'data-testid="version-moderation-notice"' in page and "Breaks rule 3." in page
    act(moderator, "version", version.id, "restore", reason="ok")
    version.refresh_from_db()
    assert version.status == PublishStatus.PUBLISHED
    assert as_user(fan).get(f"/api/v1/model-versions/{version.id}").status_code == 200


def test_a_hidden_image_is_seen_only_by_its_owner_and_moderators(
    version, creator, fan, moderator, run_on_commit
):
    image = add_example_image(
        version, run_on_commit, name="ex.png", content=demo.example_image((9, 9, 9), (1, 1, 1))
    )
    assert as_user(fan).get(f"/images/{image.id}").status_code == 200
    act(moderator, "image", image.id, "hide", reason="Mislabelled.")
    assert Image.objects.get(id=image.id).status == ImageStatus.HIDDEN
    assert as_user(fan).get(f"/images/{image.id}").status_code == 404
    assert Client().get(f"/api/v1/images?modelVersionId={version.id}").json()["items"] == []
    owner_page = as_user(creator).get(f"/images/{image.id}")
    assert owner_page.status_code == 200 and "Mislabelled." in owner_page.content.decode()
    assert as_user(moderator).get(f"/images/{image.id}").status_code == 200
    act(moderator, "image", image.id, "restore", reason="ok")
    assert as_user(fan).get(f"/images/{image.id}").status_code == 200


def test_a_hidden_comment_leaves_the_thread_and_comes_back(version, creator, fan, moderator):
    comment = post_comment(fan, version, "buy my stuff")
    url = f"/api/hub/comments?target_type=model&target_id={version.model_id}"
    assert len(Client().get(url).json()["items"]) == 1
    act(moderator, "comment", comment.id, "remove", reason="Spam.")
    assert Comment.objects.get(id=comment.id).status == CommentStatus.HIDDEN
    assert Client().get(url).json()["items"] == []
    act(moderator, "comment", comment.id, "restore", reason="Not spam after all.")
    assert len(Client().get(url).json()["items"]) == 1


def test_quarantine_file_stops_its_downloads_and_unpublishes_the_version(version, fan, moderator):
    model_file = version.files.get(type="Model")
    act(moderator, "file", model_file.id, "quarantine_file", reason="Pickle with a payload.")
    model_file.refresh_from_db()
    assert model_file.status == FileStatus.QUARANTINED and "Pickle with a payload." in model_file.scan_message
    assert ModelVersion.objects.get(id=version.id).status == PublishStatus.UNPUBLISHED
    assert as_user(fan).get(f"/api/download/models/{version.id}").status_code not in (302, 307)
    with pytest.raises(ValidationError, match="already quarantined"):
        act(moderator, "file", model_file.id, "quarantine_file")
    act(moderator, "file", model_file.id, "restore", reason="False positive.")
    assert ModelFile.objects.get(id=model_file.id).status == FileStatus.READY


def test_relabel_changes_the_type_the_level_and_a_versions_base_model(version, moderator):
    act(moderator, "model", version.model_id, "relabel", model_type="Checkpoint", level=8)
    model = AIModel.objects.get(id=version.model_id)
    assert model.type == "Checkpoint" and model.nsfw is True
    act(moderator, "version", version.id, "relabel", base_model="SDXL 1.0")
    assert ModelVersion.objects.get(id=version.id).base_model.name == "SDXL 1.0"
    row = ModerationAction.objects.filter(action="relabel", target_type="version").get()
    assert row.before["base_model"] == "SD 1.5" and row.after["base_model"] == "SDXL 1.0"
    with pytest.raises(ValidationError):
        act(moderator, "model", version.model_id, "relabel")  # nothing to change
    with pytest.raises(ValidationError):
        act(moderator, "model", version.model_id, "relabel", level=3)  # not a level bit


def test_mark_poi_flags_the_model_and_mark_minor_hides_it_at_once(version, fan, moderator):
    act(moderator, "model", version.model_id, "mark_poi", reason="A real actor.")
    model = AIModel.objects.get(id=version.model_id)
    assert model.poi is True and model.status == PublishStatus.PUBLISHED
    act(moderator, "version", version.id, "mark_minor", reason="Pending review: minors.")
    model.refresh_from_db()
    assert model.minor is True and model.status == PublishStatus.HIDDEN
    assert as_user(fan).get(model.get_absolute_url()).status_code == 404


def test_warn_mute_suspend_and_ban_act_on_the_owner(version, creator, fan, moderator, client):
    act(moderator, "user", creator.id, "warn", reason="Tag your models correctly.")
    assert Notification.objects.filter(recipient=creator, kind=NotificationKind.MODERATION).exists()

    act(moderator, "model", version.model_id, "mute", reason="Spamming comments.")  # acts on the owner
    assert UserSanction.objects.get(user=creator).kind == "mute"
    refused = post_json(
        as_user(creator),
        "/api/hub/comments",
        {"target_type": "model", "target_id": version.model_id, "body": "hello"},
    )
    assert refused.status_code == 403 and "muted" in refused.json()["detail"]
    with pytest.raises(PermissionDenied, match="muted"):
        model_services.create_model(owner=creator, name="Another", type="LORA")
    created = post_json(as_user(creator), "/api/hub/models", {"name": "Another", "type": "LORA"})
    assert created.status_code == 403
    act(moderator, "user", creator.id, "restore", reason="Served.")
    assert model_services.create_model(owner=creator, name="Another", type="LORA")

    act(moderator, "user", fan.id, "suspend", reason="Harassment.", days=3)
    login = client.post("/accounts/login/", {"login": "bob", "password": PASSWORD})
    assert not client.session.get("_auth_user_id")
    assert "suspended" in client.get(login["Location"]).content.decode()

    act(moderator, "user", fan.id, "ban", reason="Repeated harassment.")
    fan.refresh_from_db()
    assert fan.is_active is False
    act(moderator, "user", fan.id, "restore", reason="Appeal accepted.")
    fan.refresh_from_db()
    assert fan.is_active is True


def test_moderators_are_not_sanctioned_here(moderator, moderator2):
    with pytest.raises(ValidationError):
        act(moderator, "user", moderator2.id, "ban")


def test_an_action_that_does_not_apply_is_refused_and_writes_nothing(version, moderator):
    with pytest.raises(ValidationError):
        act(moderator, "user", version.model.owner_id, "hide")
    with pytest.raises(ValidationError):
        act(moderator, "model", version.model_id, "quarantine_file")
    with pytest.raises(ValidationError, match="reason"):
        act(moderator, "model", version.model_id, "hide", reason="  ")
    with pytest.raises(ValidationError):
        act(moderator, "model", version.model_id, "restore")  # nothing to restore
    assert not ModerationAction.objects.exists()
    assert AIModel.objects.get(id=version.model_id).status == PublishStatus.PUBLISHED


def test_only_moderators_act(version, creator):
    with pytest.raises(PermissionDenied):
        act(creator, "model", version.model_id, "hide")


def test_the_owner_is_told_the_reason_with_a_link_to_the_decision(version, creator, moderator):
    row = act(moderator, "model", version.model_id, "hide", reason="Wrong level.")
    told = Notification.objects.get(recipient=creator, kind=NotificationKind.MODERATION)
    assert "Wrong level." in told.excerpt and told.url == f"/moderation/decisions/{row.id}"
    page = as_user(creator).get(told.url).content.decode()
    assert "Wrong level." in page and 'data-testid="appeal-form"' in page


# --- The audit log


def test_every_action_writes_an_audit_row_that_names_it(version, creator, fan, moderator, run_on_commit):
    image = add_example_image(
        version, run_on_commit, name="ex.png", content=demo.example_image((9, 9, 9), (1, 1, 1))
    )
    comment = post_comment(fan, version, "x")
    model_file = version.files.get(type="Model")
    steps = [
        ("model", version.model_id, "dismiss", {}),
        ("model", version.model_id, "relabel", {"model_type": "Checkpoint"}),
        ("model", version.model_id, "mark_poi", {}),
        ("version", version.id, "hide", {}),
        ("version", version.id, "restore", {}),
        ("image", image.id, "remove", {}),
        ("comment", comment.id, "hide", {}),
        ("file", model_file.id, "quarantine_file", {}),
        ("user", fan.id, "warn", {}),
        ("user", fan.id, "mute", {}),
        ("user", fan.id, "suspend", {}),
        ("user", fan.id, "ban", {}),
        ("model", version.model_id, "mark_minor", {}),
    ]
    for target_type, target_id, action, extra in steps:
        act(moderator, target_type, target_id, action, **extra)
    assert sorted(set(ModerationAction.objects.values_list("action", flat=True))) == sorted(
        {a for _t, _i, a, _e in steps}
    )
    audit = as_user(moderator).get(f"/api/hub/moderation/audit?target_type=user&target_id={fan.id}").json()
    assert [row["action"] for row in audit] == ["ban", "suspend", "mute", "warn"]
    assert audit[0]["before"]["is_active"] is True and audit[0]["after"]["is_active"] is False
    assert all(row["moderator"] == moderator.username and row["reason"] for row in audit)


def test_the_audit_log_refuses_updates_and_deletes(version, moderator):
    row = act(moderator, "model", version.model_id, "dismiss")
    row.reason = "rewritten"
    with pytest.raises(AuditLogIsAppendOnly):
        row.save()
    with pytest.raises(AuditLogIsAppendOnly):
        row.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        ModerationAction.objects.filter(id=row.id).update(reason="rewritten")
    with pytest.raises(AuditLogIsAppendOnly):
        ModerationAction.objects.all().delete()
    assert ModerationAction.objects.get(id=row.id).reason == "Breaks rule 3."


def test_the_actions_api(version, fan, moderator):
    url = "/api/hub/moderation/actions"
    body = {"target_type": "model", "target_id": version.model_id, "action": "hide", "reason": "Spam."}
    assert post_json(Client(), url, body).status_code in (401, 403)
    assert post_json(as_user(fan), url, body).status_code == 403
    response = post_json(as_user(moderator), url, body)
    assert response.status_code == 201, response.content
    assert response.json()["action"] == "hide" and response.json()["after"]["status"] == "hidden"
    assert post_json(as_user(moderator), url, {**body, "action": "explode"}).status_code == 400
    assert post_json(as_user(moderator), url, {**body, "target_id": 999999}).status_code == 404
    assert (
        post_json(as_user(moderator), url, {**body, "action": "restore", "target_type": "image"}).status_code
        == 404
    )
    assert ActionKind.HIDE in ModerationAction.objects.values_list("action", flat=True)


def test_the_moderators_page_act_form(version, moderator, fan):
    client = as_user(moderator)
    assert (
        f"/moderation/t/model/{version.model_id}"
        in client.get(version.model.get_absolute_url()).content.decode()
    )
    assert "/moderation/t/" not in as_user(fan).get(version.model.get_absolute_url()).content.decode()
    page = client.get(f"/moderation/t/model/{version.model_id}")
    assert page.status_code == 200 and "Tiny Watercolor" in page.content.decode()
    response = client.post(
        f"/moderation/t/model/{version.model_id}/act", {"action": "hide", "reason": "Spam."}
    )
    assert response.status_code == 302
    assert AIModel.objects.get(id=version.model_id).status == PublishStatus.HIDDEN
    bad = client.post(
        f"/moderation/t/model/{version.model_id}/act", {"action": "hide", "reason": ""}, follow=True
    )
    assert "Give a reason" in bad.content.decode()
    history = client.get(f"/moderation/t/model/{version.model_id}").content.decode()
    assert 'data-testid="history"' in history and "Spam." in history
    assert "Hidden by moderators" in history  # the status in words


def test_uploading_is_refused_to_a_muted_creator(version, creator, moderator):
    act(moderator, "user", creator.id, "mute", reason="Spam uploads.")
    with pytest.raises(PermissionDenied):
        model_services.start_upload(version=version, by=creator, filename="b.safetensors", size=10)
    with pytest.raises(PermissionDenied):
        from resources import images

        images.add_image(owner=creator, name="x.png", content=io.BytesIO(b"x"))


# --- Every action on every target type: applies where APPLIES_TO says, refused elsewhere.


@pytest.fixture
def every_target(version, creator, fan, run_on_commit):
    image = add_example_image(
        version, run_on_commit, name="ex.png", content=demo.example_image((9, 9, 9), (1, 1, 1))
    )
    comment = post_comment(creator, version, "a comment by the creator")
    return {
        "model": version.model_id,
        "version": version.id,
        "file": version.files.get(type="Model").id,
        "image": image.id,
        "comment": comment.id,
        "user": creator.id,
    }


EXTRA = {
    "relabel": {
        "model": {"model_type": "Checkpoint"},
        "version": {"base_model": "SDXL 1.0"},
        "image": {"level": 2},
    }
}


@pytest.mark.parametrize("action", services.OFFERED_ACTIONS)
def test_each_action_on_each_target_type(every_target, moderator, action):
    for target_type, target_id in every_target.items():
        applies = target_type in services.APPLIES_TO[action]
        extra = EXTRA.get(action, {}).get(target_type, {})
        if not applies:
            with pytest.raises(ValidationError, match="does not apply"):
                act(moderator, target_type, target_id, action, **extra)
            continue
        if action == "restore":  # something to restore first
            first = {"user": "mute", "file": "quarantine_file"}.get(target_type, "hide")
            act(moderator, target_type, target_id, first)
        row = act(moderator, target_type, target_id, action, **extra)
        assert row.action == action and row.target_type == target_type and row.target_id == target_id
        assert row.owner_id == every_target["user"], (action, target_type)
        # (mark_minor on the version finds its model already flagged by the step before: no change.)
        if action in ("hide", "remove", "quarantine_file", "mark_minor") and target_type not in (
            "user",
            "version",
        ):
            assert row.after != row.before, (action, target_type)


def test_restore_after_hiding_then_removing_goes_back_to_published(version, moderator):
    act(moderator, "model", version.model_id, "hide")
    act(moderator, "model", version.model_id, "remove", reason="Confirmed.")
    act(moderator, "model", version.model_id, "restore", reason="Overturned.")
    assert AIModel.objects.get(id=version.model_id).status == PublishStatus.PUBLISHED


def test_the_owner_and_moderators_still_read_a_hidden_version_in_the_civitai_api(version, creator, moderator):
    act(moderator, "version", version.id, "hide")
    for person in (creator, moderator):
        answer = as_user(person).get(f"/api/v1/model-versions/{version.id}")
        assert answer.status_code == 200 and answer.json()["status"] == "UnpublishedViolation"
        assert as_user(person).get(f"/api/v1/models/{version.model_id}").status_code == 200

"""Notifications (issue 14, item 5, and its API in item 8; docs/notifications.md): each event reaches
each recipient once, never about their own action nor about what they may not see; the bell, the
page, email opt-ins, and the batched digest sent to a real SMTP server."""

import io
import re
import socket
import threading
from datetime import timedelta

import pytest
from django.core.mail.backends.smtp import EmailBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from community import mentions, notifications
from community.models import ApiKey, Notification, NotificationKind
from community.tasks import notify_version_published, send_notification_digests
from models_app import demo, services
from models_app.models import PublishStatus
from models_app.tasks import process_file
from tests.community.conftest import SITE_NAME, body_of
from tests.conftest import ClosingClient as Client
from tests.factories import add_file, make_model, make_user

pytestmark = pytest.mark.django_db

Kind = NotificationKind


@pytest.fixture
def model(creator):
    return make_model(creator)


def api_client(user) -> Client:
    _, raw = ApiKey.create(user=user, name="script")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def review(api, version_id, text="Lovely colours", recommended=True):
    return api.put(
        f"/api/hub/versions/{version_id}/review",
        {"recommended": recommended, "text": text},
        content_type="application/json",
    )


def follow(api, target_type, target_id):
    return api.post(
        "/api/hub/follows",
        {"target_type": target_type, "target_id": target_id},
        content_type="application/json",
    )


def kinds_of(user) -> list[str]:
    return list(notifications.notifications_of(user).values_list("kind", flat=True))


def publish_new_version(model, run_on_commit, name="v2.0"):
    """Another version with a processed file, published by its creator; the on_commit fan-out runs."""
    version = services.create_version(model=model, name=name, base_model="SD 1.5", trained_words=[])
    add_file(version, run_on_commit, name=f"{name}.safetensors", content=demo.tiny_lora())
    with run_on_commit():
        services.publish_version(version=version, by=model.owner)
    version.refresh_from_db()
    assert version.status == PublishStatus.PUBLISHED
    return version


def comment_event(comment_id, author, text, *, owner=None, parent_author=None, model=None):
    """What community/comments.py tells the notifier; the mentioned users as its Markdown links them."""
    _, mentioned = mentions.link_mentions(f"<p>{text}</p>", text)
    notifications.notify_comment(
        comment_id=comment_id,
        author=author,
        text=text,
        mentioned=mentioned,
        url=f"/models/{model.id if model else 0}#comment-{comment_id}",
        target_name=model.name if model else "an image",
        target_owner=owner,
        parent_author=parent_author,
        model=model,
    )


# --- Each event once, never your own, only what you may see.


def test_a_review_tells_the_owner_once_and_editing_it_tells_nobody_again(model, creator, fan):
    version = model.versions.get()
    api = api_client(fan)
    assert review(api, version.id).status_code == 201
    assert review(api, version.id, "Edited: even better", recommended=False).status_code == 200
    [n] = notifications.notifications_of(creator)
    assert (n.kind, n.actor, n.excerpt) == (Kind.REVIEW, fan, "Lovely colours")
    assert notifications.describe(n) == f"bob reviewed {model.name} v1.0"
    assert n.url == f"{model.get_absolute_url()}#version-{version.id}"
    assert kinds_of(fan) == []


def test_a_review_hidden_by_moderation_takes_its_notification_along(model, creator, fan):
    from community.models import ReviewStatus
    from community.reviews import set_review_status

    review(api_client(fan), model.versions.get().id, "Rude words")
    set_review_status(fan.reviews.get(), ReviewStatus.HIDDEN)
    assert kinds_of(creator) == [] and notifications.unread_count(creator) == 0
    set_review_status(fan.reviews.get(), ReviewStatus.VISIBLE)
    assert kinds_of(creator) == [Kind.REVIEW]


def test_repeating_the_same_event_leaves_one_notification(model, creator, fan):
    version = model.versions.get()
    review(api_client(fan), version.id)
    row = fan.reviews.get()
    for _ in range(3):  # a retry, a double click, a second worker
        notifications.notify_review(row)
        assert notifications.notify(creator, Kind.REVIEW, actor=fan, key=f"review:{row.id}", target_name="x")
    assert Notification.objects.filter(recipient=creator).count() == 1
    assert Notification.objects.get(recipient=creator).target_name == f"{model.name} v1.0"  # the first stays


def test_nobody_is_told_about_their_own_action(model, creator, fan):
    assert not notifications.notify(creator, Kind.REVIEW, actor=creator, key="review:self")
    comment_event(1, creator, "Note to self @alice", owner=creator, parent_author=creator, model=model)
    notifications.notify_many([creator.id, fan.id], Kind.NEW_VERSION, actor=creator, key="new_version:x")
    assert kinds_of(creator) == []
    assert kinds_of(fan) == [Kind.NEW_VERSION]


def test_a_new_follower_is_told_once_even_after_unfollowing_and_following_again(creator, fan):
    api = api_client(fan)
    assert follow(api, "user", creator.id).status_code == 201
    assert follow(api, "user", creator.id).status_code == 200
    api.delete(
        "/api/hub/follows", {"target_type": "user", "target_id": creator.id}, content_type="application/json"
    )
    assert follow(api, "user", creator.id).status_code == 201
    [n] = notifications.notifications_of(creator)
    assert (n.kind, n.actor, n.url) == (Kind.FOLLOWER, fan, "/user/bob")
    assert notifications.describe(n) == "bob started following you"


def test_following_a_model_tells_its_owner_nothing(model, creator, fan):
    assert follow(api_client(fan), "model", model.id).status_code == 201
    assert kinds_of(creator) == []


def test_a_new_version_tells_each_follower_of_the_model_or_creator_once(model, creator, fan, run_on_commit):
    carol, dave, erin = make_user("carol"), make_user("dave"), make_user("erin")
    follow(api_client(fan), "model", model.id)
    follow(api_client(carol), "user", creator.id)
    follow(api_client(dave), "model", model.id)
    follow(api_client(dave), "user", creator.id)  # both: still one notification
    Notification.objects.all().delete()  # the follower notifications are not what this test is about

    version = publish_new_version(model, run_on_commit)
    for person in (fan, carol, dave):
        [n] = notifications.notifications_of(person)
        assert (n.kind, n.actor, n.version) == (Kind.NEW_VERSION, creator, version)
        assert notifications.describe(n) == f"New version from alice: {model.name} v2.0"
    assert kinds_of(creator) == [] and kinds_of(erin) == []

    # The task again (a redelivered message), and the version taken down and published again.
    notify_version_published.apply(args=[version.id])
    with run_on_commit():
        services.unpublish_version(version=version, by=creator)
    with run_on_commit():
        services.republish_version(version=version, by=creator)
    assert Notification.objects.filter(key=f"new_version:{version.id}").count() == 3


def test_a_publish_completed_by_the_worker_tells_the_followers(model, creator, fan, run_on_commit):
    follow(api_client(fan), "model", model.id)
    version = services.create_version(model=model, name="v2.0", base_model="SD 1.5", trained_words=[])
    model_file = services.add_file(
        version=version, name="v2.safetensors", content=io.BytesIO(demo.tiny_lora())
    )
    services.publish_version(version=version, by=creator)  # the file is still waiting: queued
    version.refresh_from_db()
    assert version.publish_when_ready and version.status != PublishStatus.PUBLISHED
    assert kinds_of(fan) == []
    with run_on_commit():
        process_file.apply(args=[model_file.id])  # the worker finishes the file and publishes
    assert [(n.kind, n.version_id) for n in notifications.notifications_of(fan)] == [
        (Kind.NEW_VERSION, version.id)
    ]


def test_a_version_taken_down_before_the_fan_out_tells_nobody(model, creator, fan):
    follow(api_client(fan), "model", model.id)
    draft = services.create_version(model=model, name="v3.0", base_model="SD 1.5", trained_words=[])
    assert notify_version_published.apply(args=[draft.id]).get() == 0
    assert notify_version_published.apply(args=[999999]).get() == 0
    assert kinds_of(fan) == []


def test_no_notification_points_at_what_the_recipient_may_not_see(creator, fan):
    draft = make_model(creator, name="Secret Draft", publish=False)
    assert not notifications.notify(fan, Kind.COMMENT, actor=creator, key="x:1", model=draft)
    assert not notifications.notify(fan, Kind.COMMENT, actor=creator, key="x:2", visible=lambda user: False)
    assert kinds_of(fan) == []

    public = make_model(creator, name="Public One")
    assert notifications.notify(fan, Kind.NEW_VERSION, actor=creator, key="x:3", model=public)
    assert notifications.unread_count(fan) == 1
    services.unpublish_model(model=public, by=creator)  # since: no longer theirs to see
    assert kinds_of(fan) == [] and notifications.unread_count(fan) == 0
    assert api_client(fan).get("/api/hub/notifications").json()["items"] == []
    # The owner still sees notifications about their own unpublished model.
    assert notifications.notify(creator, Kind.REVIEW, actor=fan, key="x:4", model=public)
    assert kinds_of(creator) == [Kind.REVIEW]


def test_a_notification_about_a_version_follows_the_version_and_its_model(creator, fan, run_on_commit):
    model = make_model(creator, name="Versioned")
    version = publish_new_version(model, run_on_commit)
    for person, key in ((fan, "v:1"), (creator, "v:2")):
        assert notifications.notify(
            person, Kind.COMMENT, actor=make_user(f"x{key[-1]}"), key=key, version=version
        )
    assert notifications.unread_count(fan) == notifications.unread_count(creator) == 1

    with run_on_commit():
        services.unpublish_version(version=version, by=creator)
    assert kinds_of(fan) == [] and notifications.unread_count(fan) == 0  # no longer public
    assert kinds_of(creator) == [Kind.COMMENT]  # still the owner's to see

    with run_on_commit():
        services.republish_version(version=version, by=creator)
    services.unpublish_model(model=model, by=creator)  # the version is public, its model is not
    assert kinds_of(fan) == [] and kinds_of(creator) == [Kind.COMMENT]
    services.delete_model(model=model, by=creator)  # deleted: gone for its owner too
    assert kinds_of(creator) == [] and notifications.unread_count(creator) == 0


def test_the_bells_query_joins_nothing_to_the_notifications_so_no_plan_walks_the_catalog(creator, fan):
    """The bell looks each notification's model and version up by id, in subqueries. Joined, with
    statistics older than the newest notifications, PostgreSQL chose a merge join that read every
    model of a 100k catalog: 120 ms on every page a creator opened (docs/performance.md#the-bell)."""
    model = make_model(creator, name="Bell Model")
    notifications.notify(creator, Kind.REVIEW, actor=fan, key="b:1", model=model)
    sql = str(notifications._unread_ids(creator, notifications.BELL_CAP).query)
    outer_from = sql[: sql.index(" WHERE ")]
    assert outer_from.endswith('FROM "community_notification"'), outer_from
    assert notifications.unread_count(creator, cap=notifications.BELL_CAP) == 1


def test_a_comment_tells_each_person_once_with_reply_before_mention_before_comment(model, creator, fan):
    carol, dave = make_user("carol"), make_user("dave")
    comment_event(7, carol, "@bob @BOB @alice @nobody thanks!", owner=creator, parent_author=fan, model=model)
    assert kinds_of(fan) == [Kind.REPLY]
    assert kinds_of(creator) == [Kind.MENTION]
    assert kinds_of(carol) == []
    # An edit that adds a mention tells only the newcomer.
    comment_event(7, carol, "@bob @alice @dave thanks!", owner=creator, parent_author=fan, model=model)
    assert kinds_of(dave) == [Kind.MENTION] and kinds_of(fan) == [Kind.REPLY]
    assert Notification.objects.filter(key="comment:7").count() == 3
    # Deleted or hidden: gone from every listing, never emailed.
    assert notifications.withdraw_comment(7) == 3
    assert kinds_of(fan) == kinds_of(creator) == kinds_of(dave) == []
    comment_event(8, carol, "Nice", owner=creator, model=model)
    assert kinds_of(creator) == [Kind.COMMENT]


# --- The bell, the page and the settings.


def test_the_bell_shows_the_unread_count_with_one_query_and_none_for_visitors(model, creator, fan):
    for i in range(3):
        notifications.notify(creator, Kind.FOLLOWER, actor=fan, key=f"t:{i}")
    with CaptureQueriesContext(connection) as queries:
        page = Client().get("/")
    assert 'data-testid="notification-bell"' not in page.content.decode()
    assert not [q for q in queries.captured_queries if "community_notification" in q["sql"]]

    client = logged_in(creator)
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/").content.decode()
    assert len([q for q in queries.captured_queries if "community_notification" in q["sql"]]) == 1
    assert 'data-testid="notification-count">3<' in page and "3 unread notifications" in page
    notifications.mark_read(creator, everything=True)
    assert 'data-testid="notification-count"' not in client.get("/").content.decode()
    assert 'data-testid="notification-bell"' in logged_in(fan).get("/").content.decode()


def test_the_bell_caps_a_huge_backlog(creator, fan):
    notifications.notify_many([creator.id], Kind.FOLLOWER, actor=fan, key="a")
    for i in range(notifications.BELL_CAP + 5):
        notifications.notify(creator, Kind.FOLLOWER, actor=fan, key=f"k:{i}")
    assert 'data-testid="notification-count">99+<' in logged_in(creator).get("/").content.decode()


def test_the_page_lists_newest_first_and_marks_one_or_all_read(model, creator, fan):
    client = logged_in(creator)
    empty = client.get("/notifications").content.decode()
    assert 'data-testid="notifications-empty"' in empty and "No notifications yet." in empty
    review(api_client(fan), model.versions.get().id, "First!")
    follow(api_client(make_user("carol")), "user", creator.id)
    page = client.get("/notifications").content.decode()
    assert page.index("carol started following you") < page.index(f"bob reviewed {model.name} v1.0")
    assert "First!" in page

    newest = notifications.notifications_of(creator).first()
    client.post("/notifications/read", {"id": newest.id, "next": "/notifications"})
    assert notifications.unread_count(creator) == 1
    oldest = notifications.notifications_of(creator).last()
    response = client.get(f"/notifications/{oldest.id}/open")
    assert response.status_code == 302 and response["Location"] == oldest.url
    assert notifications.unread_count(creator) == 0
    assert "You have read everything." in client.get("/notifications?unread=1").content.decode()

    review(api_client(make_user("dave")), model.versions.get().id)
    assert client.post("/notifications/read", {"all": "1"})["Location"] == "/notifications"
    assert notifications.unread_count(creator) == 0


def test_the_page_is_paginated(creator, fan):
    for i in range(35):
        notifications.notify(creator, Kind.FOLLOWER, actor=fan, key=f"p:{i}")
    client = logged_in(creator)
    first = client.get("/notifications").content.decode()
    assert first.count('class="card notification') == 30 and "?page=2" in first
    assert client.get("/notifications?page=2").content.decode().count('class="card notification') == 5
    assert client.get("/notifications?page=x").status_code == 200


def test_only_your_own_notifications_are_yours_to_open_or_mark(creator, fan):
    notifications.notify(creator, Kind.FOLLOWER, actor=fan, key="mine")
    theirs = Notification.objects.get(recipient=creator)
    client = logged_in(fan)
    assert client.get(f"/notifications/{theirs.id}/open").status_code == 404
    client.post("/notifications/read", {"id": theirs.id})
    assert api_client(fan).post(
        "/api/hub/notifications/read", {"ids": [theirs.id]}, content_type="application/json"
    ).json() == {"unread_count": 0}
    api_client(fan).post("/api/hub/notifications/read", {"all": True}, content_type="application/json")
    assert notifications.unread_count(creator) == 1
    assert Client().get("/notifications")["Location"].startswith("/accounts/login/")
    assert Client().get("/settings/notifications")["Location"].startswith("/accounts/login/")


def test_a_notification_link_never_leaves_the_hub(creator, fan):
    notifications.notify(creator, Kind.FOLLOWER, actor=fan, key="evil", url="//evil.example/x")
    row = Notification.objects.get(recipient=creator)
    assert logged_in(creator).get(f"/notifications/{row.id}/open")["Location"] == "/notifications"


def test_email_settings_default_to_direct_kinds_and_save(creator):
    client = logged_in(creator)
    page = client.get("/settings/notifications").content.decode()
    assert re.search(r'value="review"[^>]*checked', page) and re.search(
        r'value="follower"[^>]*id="[^"]+">', page
    )
    assert notifications.email_kinds(creator) == ["reply", "mention", "comment", "review", "moderation"]
    response = client.post("/settings/notifications", {"kinds": ["new_version", "follower"]})
    assert response.status_code == 302
    assert notifications.email_kinds(creator) == ["new_version", "follower"]
    assert client.post("/settings/notifications", {"kinds": ["bogus"]}).status_code == 200  # form error
    assert notifications.email_kinds(creator) == ["new_version", "follower"]
    client.post("/settings/notifications", {})
    assert notifications.email_kinds(creator) == []


# --- The email digest, against a real SMTP server.


@pytest.fixture
def mail(smtp, settings):
    """The real SMTP server; the test client's host stays allowed after the hub's own host."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    return smtp


def test_the_digest_sends_one_batched_email_per_recipient_once(model, creator, fan, mail):
    carol = make_user("carol")
    version = model.versions.get()
    review(api_client(fan), version.id, "Great for **postcards**")
    review(api_client(carol), version.id, "Not my style", recommended=False)
    comment_event(1, carol, "@bob look at this", owner=creator, model=model)
    follow(api_client(carol), "user", creator.id)  # follower: not emailed by default

    assert send_notification_digests.apply().get() == 2
    by_recipient = {m["To"]: m for m in mail.messages}
    assert sorted(by_recipient) == ["alice@example.com", "bob@example.com"]
    alice = by_recipient["alice@example.com"]
    assert alice["Subject"] == f"[{SITE_NAME}] 3 new notifications"
    body = body_of(alice)
    assert f"bob reviewed {model.name} v1.0" in body and f"carol reviewed {model.name} v1.0" in body
    assert f"carol commented on {model.name}" in body and "Great for **postcards**" in body
    assert "started following" not in body
    assert f"http://hub.example.org{model.get_absolute_url()}#version-{version.id}" in body
    assert "http://hub.example.org/settings/notifications" in body
    assert by_recipient["bob@example.com"]["Subject"] == f"[{SITE_NAME}] 1 new notification"

    assert send_notification_digests.apply().get() == 0  # nothing twice
    assert len(mail.messages) == 2
    assert not Notification.objects.filter(
        recipient=creator, kind=Kind.REVIEW, emailed_at__isnull=True
    ).exists()
    # Still under the bell, unread: emailing is not reading.
    assert notifications.unread_count(creator) == 4


def test_the_digest_is_written_in_the_language_the_recipient_chose(model, creator, fan, mail):
    """No request when the digest goes out: the language comes from the header's switcher, which a
    signed-in user's choice is kept from (community/views.set_language)."""
    owner = Client()
    owner.force_login(creator)
    response = owner.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    assert response.status_code == 302 and response.cookies["django_language"].value == "fr"
    review(api_client(fan), model.versions.get().id, "Superbe")

    assert send_notification_digests.apply().get() == 1
    message = mail.messages[0]
    assert message["Subject"] == f"[{SITE_NAME}] 1 nouvelle notification"
    assert f"bob a donné son avis sur {model.name} v1.0" in body_of(message)

    owner.post("/i18n/setlang/", {"language": "en", "next": "/"})
    review(api_client(make_user("carol")), model.versions.get().id, "Nice")
    send_notification_digests.apply().get()
    assert mail.messages[1]["Subject"] == f"[{SITE_NAME}] 1 new notification"
    owner.post("/i18n/setlang/", {"language": "xx", "next": "/"})  # unknown: ignored, nothing breaks
    assert creator.profile.language == "en"


def test_the_digest_respects_opt_outs_reads_and_confirmed_addresses(model, creator, fan, mail):
    from allauth.account.models import EmailAddress

    version = model.versions.get()
    notifications.set_email_kinds(creator, ["follower"])
    review(api_client(fan), version.id)
    carol = make_user("carol")
    EmailAddress.objects.filter(user=carol).update(verified=False)
    comment_event(2, fan, "@carol hi", model=model)
    dave = make_user("dave")
    comment_event(3, fan, "@dave hi", model=model)
    notifications.mark_read(dave, everything=True)  # read before the digest: not emailed

    assert send_notification_digests.apply().get() == 0 and mail.messages == []
    follow(api_client(fan), "user", creator.id)
    assert send_notification_digests.apply().get() == 1
    [message] = mail.messages
    assert message["To"] == "alice@example.com" and "bob started following you" in body_of(message)
    assert "reviewed" not in body_of(message)


class DigestInsideSend(EmailBackend):
    """An SMTP backend that starts a second digest run while the first is sending its first email:
    the two runs overlap exactly where a double send could happen."""

    nested = 0

    def send_messages(self, messages):
        if DigestInsideSend.nested == 0:
            DigestInsideSend.nested += 1
            notifications.send_digests()
        return super().send_messages(messages)


def test_overlapping_digest_runs_send_each_event_once(model, creator, fan, mail, settings):
    carol = make_user("carol")
    review(api_client(fan), model.versions.get().id)
    review(api_client(carol), model.versions.get().id)
    comment_event(4, carol, "@bob see", model=model)
    settings.EMAIL_BACKEND = f"{__name__}.DigestInsideSend"
    DigestInsideSend.nested = 0
    send_notification_digests.apply()
    assert DigestInsideSend.nested == 1
    assert sorted(m["To"] for m in mail.messages) == ["alice@example.com", "bob@example.com"]
    assert "2 new notifications" in [m for m in mail.messages if m["To"] == "alice@example.com"][0]["Subject"]


def test_a_claim_left_by_a_dead_run_is_taken_over_later(model, creator, fan, mail):
    review(api_client(fan), model.versions.get().id)
    claimed_at = timezone.now() - timedelta(minutes=5)
    Notification.objects.update(email_claim="deadbeef", email_claimed_at=claimed_at)
    assert notifications.send_digests() == 0  # another run may still be sending them
    Notification.objects.update(email_claimed_at=timezone.now() - notifications.CLAIM_TIMEOUT - timedelta(1))
    assert notifications.send_digests() == 1 and len(mail.messages) == 1


def test_a_failed_send_is_retried_by_the_next_run(model, creator, fan, mail, settings):
    review(api_client(fan), model.versions.get().id)
    working_port = settings.EMAIL_PORT
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        settings.EMAIL_PORT = s.getsockname()[1]  # nobody listens there once the socket is closed
    assert send_notification_digests.apply().get() == 0
    row = Notification.objects.get(recipient=creator)
    assert row.emailed_at is None and row.email_claim == ""
    settings.EMAIL_PORT = working_port
    assert send_notification_digests.apply().get() == 1
    assert [m["To"] for m in mail.messages] == ["alice@example.com"]


def test_the_development_backend_prints_digests_to_the_console(model, creator, fan, settings, capsys):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    review(api_client(fan), model.versions.get().id)
    assert notifications.send_digests() == 1
    assert "bob reviewed" in capsys.readouterr().out


# --- API.


def test_the_api_lists_your_notifications_and_marks_them_read(model, creator, fan):
    assert Client().get("/api/hub/notifications").status_code == 401
    assert Client().post("/api/hub/notifications/read", {"all": True}).status_code == 401
    for i in range(32):
        notifications.notify(creator, Kind.FOLLOWER, actor=fan, key=f"api:{i}", target_name="bob")
    review(api_client(fan), model.versions.get().id, "Nice")
    api = api_client(creator)
    first = api.get("/api/hub/notifications").json()
    assert first["unread_count"] == 33 and first["next_page"] == 2 and len(first["items"]) == 30
    top = first["items"][0]
    assert top | {"id": None, "created_at": None} == {
        "id": None,
        "kind": "review",
        "text": f"bob reviewed {model.name} v1.0",
        "actor": "bob",
        "target_name": f"{model.name} v1.0",
        "excerpt": "Nice",
        "url": f"{model.get_absolute_url()}#version-{model.versions.get().id}",
        "created_at": None,
        "read_at": None,
    }
    second = api.get("/api/hub/notifications?page=2").json()
    assert len(second["items"]) == 3 and second["next_page"] is None
    assert api.get("/api/hub/notifications?page=9").json()["items"] == []

    read = api.post("/api/hub/notifications/read", {"ids": [top["id"]]}, content_type="application/json")
    assert read.status_code == 200 and read.json() == {"unread_count": 32}
    unread = api.get("/api/hub/notifications?unread=true").json()
    assert top["id"] not in [i["id"] for i in unread["items"]] and unread["unread_count"] == 32
    assert api.get("/api/hub/notifications").json()["items"][0]["read_at"].endswith("Z")
    assert api.post("/api/hub/notifications/read", {"all": True}, content_type="application/json").json() == {
        "unread_count": 0
    }
    assert api.get("/api/hub/notifications?unread=true").json()["items"] == []
    assert api_client(fan).get("/api/hub/notifications").json()["items"] == []


@pytest.mark.parametrize(
    "query, body",
    [
        ("?page=0", None),
        ("?page=x", None),
        ("?unread=maybe", None),
        ("", {}),
        ("", {"ids": "1"}),
        ("", {"ids": [0]}),
        ("", {"ids": list(range(1, 1002))}),
        ("", {"all": "sure"}),
    ],
)
def test_bad_api_input_is_a_400(creator, query, body):
    api = api_client(creator)
    if body is None:
        response = api.get(f"/api/hub/notifications{query}")
    else:
        response = api.post("/api/hub/notifications/read", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()  # a sentence or the invalid fields, never an empty answer


def test_marking_read_without_ids_or_all_says_what_to_send(creator):
    response = api_client(creator).post("/api/hub/notifications/read", {}, content_type="application/json")
    assert response.json() == {"detail": 'Send {"ids": [...]} or {"all": true}.'}


# --- Real concurrency: threads, each with its own database connection (PostgreSQL in CI).


def _in_threads(count, work):
    barrier = threading.Barrier(count)
    errors = []

    def run(i):
        try:
            barrier.wait()
            work(i)
        except Exception as exc:  # surfaced below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_concurrent_fan_outs_and_notifies_leave_one_notification_each(base_models):
    owner, fans = make_user("owner"), [make_user(f"fan{i}") for i in range(6)]
    model = make_model(owner)
    for person in fans:
        follow(api_client(person), "model", model.id)
    version = model.versions.get()
    Notification.objects.all().delete()

    def work(i):
        notify_version_published.apply(args=[version.id])
        notifications.notify(fans[0], Kind.MENTION, actor=owner, key="comment:1", target_name="x")

    _in_threads(6, work)
    assert Notification.objects.filter(key=f"new_version:{version.id}").count() == len(fans)
    assert Notification.objects.filter(key="comment:1").count() == 1


def test_concurrent_digest_runs_email_each_event_once(base_models, mail):
    owner = make_user("owner")
    model = make_model(owner)
    fans = [make_user(f"fan{i}") for i in range(4)]
    for person in fans:
        review(api_client(person), model.versions.get().id)
        comment_event(person.id, owner, f"@{person.username} thanks", model=model)
    sent = []
    _in_threads(4, lambda i: sent.append(notifications.send_digests()))
    assert sum(sent) == len(mail.messages) == 5
    assert sorted(m["To"] for m in mail.messages) == sorted(
        ["owner@example.com"] + [f"{p.username}@example.com" for p in fans]
    )
    assert (
        "4 new notifications" in next(m for m in mail.messages if m["To"] == "owner@example.com")["Subject"]
    )
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


def test_names_and_excerpts_are_escaped_on_the_page(creator, fan):
    model = make_model(creator, name="<img src=x onerror=alert(1)>")
    review(api_client(fan), model.versions.get().id, "<script>alert(2)</script>")
    page = logged_in(creator).get("/notifications").content.decode()
    assert "<img src=x" not in page and "<script>alert(2)" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "&lt;script&gt;alert(2)&lt;/script&gt;" in page

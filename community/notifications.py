"""Notifications (docs/notifications.md): one row per event and recipient, shown under the bell, on
/notifications and in the API, and emailed in a batched digest to those who opted in.

Every writer goes through `notify` (one recipient) or `notify_many` (a fan-out). Both insert with
"insert or ignore" on the unique (recipient, key) constraint, so the same event told twice (a retry, a
double click, two workers) leaves one row. Nobody is told about their own action, and nobody is told
about something they may not see (docs/notifications.md#who-is-told-what)."""

import logging
import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext

from models_app.compiled import Built
from models_app.models import AIModel, ModelVersion, PublishStatus

from . import profiles
from .adapter import configured_host
from .models import Follow, Notification, NotificationKind, NotificationSettings, Review

log = logging.getLogger(__name__)

Kind = NotificationKind

# Emailed unless the user changed their settings: what someone did to or for you, not the news.
DEFAULT_EMAIL_KINDS = (Kind.REPLY, Kind.MENTION, Kind.COMMENT, Kind.REVIEW, Kind.MODERATION)

EXCERPT_LENGTH = 200
FAN_OUT_BATCH = 500
# The digest (docs/notifications.md#the-email-digest): how far back it looks, how many events one
# email lists, and when a claim by a digest run that died is given up.
EMAIL_WINDOW = timedelta(days=7)
MAX_PER_EMAIL = 50
CLAIM_TIMEOUT = timedelta(minutes=30)


def _excerpt(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= EXCERPT_LENGTH else text[: EXCERPT_LENGTH - 1] + "…"


def _shown(status: str, owner_id: int, recipient_id: int) -> bool:
    """The visible_models / visible_versions rule for one row: public, or the recipient's own (not deleted)."""
    return status == PublishStatus.PUBLISHED or (owner_id == recipient_id and status != PublishStatus.DELETED)


def may_see(recipient, *, model: AIModel | None = None, version: ModelVersion | None = None) -> bool:
    if model is not None and not _shown(model.status, model.owner_id, recipient.id):
        return False
    if version is not None:
        owner_id = version.model.owner_id
        if not _shown(version.status, owner_id, recipient.id) or not _shown(
            version.model.status, owner_id, recipient.id
        ):
            return False
    return True


def visible_to(user) -> Q:
    """The notifications `user` may be shown: not withdrawn, and pointing at nothing they may not see
    any more (a model or version unpublished or deleted since).

    The model and the version are each looked up for the notification by id (EXISTS under OR, which
    PostgreSQL runs per notification row) rather than joined: joined, a planner whose statistics
    predate the newest notifications chose a merge join walking every model of the catalog, 120 ms
    for the bell of a creator with 26 unread notifications at 100k models, on every page they opened
    (docs/performance.md#the-bell)."""

    def shown(status: str, owner: str) -> Q:
        """Published, or the user's own and not deleted (the row's `status` field, its `owner` path)."""
        return Q(**{status: PublishStatus.PUBLISHED}) | (
            Q(**{owner: user}) & ~Q(**{status: PublishStatus.DELETED})
        )

    model_shown = AIModel.objects.filter(shown("status", "owner"), pk=OuterRef("model_id"))
    version_shown = ModelVersion.objects.filter(
        shown("status", "model__owner") & shown("model__status", "model__owner"),
        pk=OuterRef("version_id"),
    )
    return (
        Q(hidden=False)
        & (Q(model__isnull=True) | Exists(model_shown))
        & (Q(version__isnull=True) | Exists(version_shown))
    )


def _row(recipient_id: int, kind: str, *, actor, key: str, **fields) -> Notification:
    fields["excerpt"] = _excerpt(fields.get("excerpt", ""))
    fields["target_name"] = (fields.get("target_name") or "")[:200]
    if len(fields.get("url") or "") > 500:  # a cut link leads nowhere; the page still lists it
        fields["url"] = ""
    return Notification(
        recipient_id=recipient_id,
        kind=kind,
        actor=actor,
        key=key[:200],
        **{k: v for k, v in fields.items() if v is not None},
    )


def notify(
    recipient,
    kind: str,
    *,
    actor,
    key: str,
    url: str = "",
    target_name: str = "",
    excerpt: str = "",
    model: AIModel | None = None,
    version: ModelVersion | None = None,
    object_type: str = "",
    object_id: int | None = None,
    visible: Callable[[object], bool] | None = None,
) -> bool:
    """Tell `recipient` about one event, named by `key` (e.g. "review:12"). Returns False when they are
    not told: it is their own action, their account is inactive, or they may not see what it points at
    (`model`, `version`, or the caller's `visible(recipient)`). Telling the same key again changes
    nothing (insert or ignore), so callers may repeat themselves freely."""
    if recipient is None or not recipient.is_active or (actor is not None and actor.id == recipient.id):
        return False
    if not may_see(recipient, model=model, version=version) or (
        visible is not None and not visible(recipient)
    ):
        return False
    row = _row(
        recipient.id,
        kind,
        actor=actor,
        key=key,
        url=url,
        target_name=target_name,
        excerpt=excerpt,
        model=model,
        version=version,
        object_type=object_type,
        object_id=object_id,
    )
    Notification.objects.bulk_create([row], ignore_conflicts=True)
    return True


def notify_many(recipient_ids: Iterable[int], kind: str, *, actor, key: str, **fields) -> None:
    """Tell many people about one public event (the fan-out of a new version): one batched insert
    or ignore per FAN_OUT_BATCH recipients. The caller checked that the target is public; the actor
    is left out here."""
    batch = []
    for recipient_id in recipient_ids:
        if actor is not None and recipient_id == actor.id:
            continue
        batch.append(_row(recipient_id, kind, actor=actor, key=key, **fields))
        if len(batch) >= FAN_OUT_BATCH:
            Notification.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    if batch:
        Notification.objects.bulk_create(batch, ignore_conflicts=True)


def withdraw(*keys: str, hidden: bool = True) -> int:
    """Hide every notification of these events (a comment or review deleted or hidden by
    moderation): kept, listed nowhere, never emailed. `hidden=False` shows them again (moderation
    undone). Returns how many rows changed."""
    return Notification.objects.filter(key__in=keys).exclude(hidden=hidden).update(hidden=hidden)


# --- The events wired today (docs/notifications.md#events).


def notify_review(review: Review) -> None:
    """A new review tells the model's owner. Editing the review calls nothing (reviews.submit_review
    only calls this for a new one) and the key would ignore it anyway."""
    version = review.version
    model = version.model
    notify(
        model.owner,
        Kind.REVIEW,
        actor=review.user,
        key=f"review:{review.id}",
        url=f"{model.get_absolute_url()}#version-{version.id}",
        target_name=f"{model.name} {version.name}",
        excerpt=review.text,
        model=model,
        version=version,
        object_type="review",
        object_id=review.id,
    )


def notify_follower(follow: Follow) -> None:
    """Someone followed a creator: tell the creator, once per follower (unfollowing and following
    again does not tell them twice)."""
    if follow.creator_id is None:
        return
    notify(
        follow.creator,
        Kind.FOLLOWER,
        actor=follow.follower,
        key=f"follower:{follow.follower_id}",
        url=f"/user/{follow.follower.username}",
        target_name=follow.follower.username,
    )


def notify_version_published(version_id: int) -> int:
    """Tell the followers of a newly public version's model and of its creator; returns how many were
    asked (those already told are ignored by the insert). Safe to run again: the key is the version's."""
    version = ModelVersion.objects.select_related("model__owner").filter(id=version_id).first()
    if version is None:
        return 0
    model = version.model
    if version.status != PublishStatus.PUBLISHED or model.status != PublishStatus.PUBLISHED:
        return 0  # taken down again before the worker got here: nobody may be told about it
    followers = (
        Follow.objects.filter(Q(model_id=model.id) | Q(creator_id=model.owner_id), follower__is_active=True)
        .exclude(follower_id=model.owner_id)
        .values_list("follower_id", flat=True)
        .distinct()
        .order_by("follower_id")
    )
    ids = list(followers)
    notify_many(
        ids,
        Kind.NEW_VERSION,
        actor=model.owner,
        key=f"new_version:{version.id}",
        url=f"{model.get_absolute_url()}#version-{version.id}",
        target_name=f"{model.name} {version.name}",
        model=model,
        version=version,
    )
    return len(ids)


def notify_comment(
    *,
    comment_id: int,
    author,
    text: str,
    url: str,
    target_name: str,
    mentioned: Iterable = (),
    target_owner=None,
    parent_author=None,
    model: AIModel | None = None,
    version: ModelVersion | None = None,
    visible: Callable[[object], bool] | None = None,
) -> None:
    """What the comment service calls after a comment is saved, created or edited
    (docs/notifications.md#comments). Each person hears of one comment once, in this order of
    precedence: the author of the comment replied to (reply), the people @mentioned (mention), the
    owner of the thing commented on (comment). All share the key "comment:<id>", so an edit that adds
    a mention tells only the newly mentioned person."""
    common = {
        "actor": author,
        "key": f"comment:{comment_id}",
        "url": url,
        "target_name": target_name,
        "excerpt": text,
        "model": model,
        "version": version,
        "object_type": "comment",
        "object_id": comment_id,
        "visible": visible,
    }
    if parent_author is not None:
        notify(parent_author, Kind.REPLY, **common)
    for person in mentioned:  # the users the comment links (community/mentions.py)
        notify(person, Kind.MENTION, **common)
    if target_owner is not None:
        notify(target_owner, Kind.COMMENT, **common)


def withdraw_comment(comment_id: int) -> int:
    """The comment was deleted or hidden: its notifications disappear (kept, listed nowhere)."""
    return withdraw(f"comment:{comment_id}")


# --- Reading and marking read.


def notifications_of(user, *, unread_only: bool = False) -> QuerySet[Notification]:
    """`user`'s notifications they may see, newest first."""
    rows = Notification.objects.filter(recipient=user).filter(visible_to(user))
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return rows.select_related("actor").order_by("-created_at", "-id")


BELL_CAP = 99


def _unread(user):
    return Notification.objects.filter(recipient=user, read_at__isnull=True).filter(visible_to(user))


def _unread_ids(user, cap: int):
    """The ids of at most cap + 1 of `user`'s unread notifications: what a capped count counts."""
    return _unread(user).order_by().values("id")[: cap + 1]


# The capped count is the bell's, on every page someone signed in opens: built once per cap
# (models_app/compiled.py).
_capped: dict[int, Built] = {}


def unread_count(user, *, cap: int | None = None) -> int:
    """How many of `user`'s notifications are unread: one query. With `cap`, counts at most cap + 1
    rows, so a huge backlog costs no more than a small one."""
    if cap is None:
        return _unread(user).count()
    if cap not in _capped:
        _capped[cap] = Built(lambda user_id: _unread_ids(get_user_model()(pk=user_id), cap))
    return len(_capped[cap].rows(user.pk))


def viewer_unread(viewer, model):
    """The bell's count (unread_count with BELL_CAP) as an expression on the model's row: read by
    models_app.page_cache's own-state query, so the header of a kept model page costs no query of
    its own."""
    counted = (
        Notification.objects.filter(id__in=_unread_ids(viewer, BELL_CAP))
        .order_by()
        .values("recipient_id")
        .annotate(n=Count("id"))
    )
    return Coalesce(Subquery(counted.values("n")), 0)


def mark_read(user, *, ids: Iterable[int] = (), everything: bool = False) -> int:
    """Marks `user`'s own notifications read (those in `ids`, or all of them); ids of other people's
    notifications are ignored. Returns the new unread count. Marking twice changes nothing."""
    rows = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if not everything:
        rows = rows.filter(id__in=list(ids))
    rows.update(read_at=timezone.now())
    return unread_count(user)


def describe(n: Notification) -> str:
    """The sentence shown for a notification, in the active language."""
    values = {
        "actor": n.actor.username if n.actor_id and n.actor else gettext("Someone"),
        "target": n.target_name,
    }
    sentences = {
        Kind.REPLY: gettext("%(actor)s replied to your comment on %(target)s"),
        Kind.MENTION: gettext("%(actor)s mentioned you on %(target)s"),
        Kind.COMMENT: gettext("%(actor)s commented on %(target)s"),
        Kind.REVIEW: gettext("%(actor)s reviewed %(target)s"),
        Kind.NEW_VERSION: gettext("New version from %(actor)s: %(target)s"),
        Kind.FOLLOWER: gettext("%(actor)s started following you"),
        Kind.MODERATION: gettext("A moderator decided about %(target)s"),
    }
    return sentences.get(n.kind, "%(target)s") % values


# --- Email settings and the digest.


def email_kinds(user) -> list[str]:
    """The kinds `user` wants emailed."""
    row = NotificationSettings.objects.filter(user=user).first()
    kinds = row.email_kinds if row is not None else DEFAULT_EMAIL_KINDS
    return [k for k in Kind.values if k in kinds]


def set_email_kinds(user, kinds: Iterable[str]) -> list[str]:
    """Replace `user`'s email opt-ins; unknown kinds are dropped. Returns what is stored."""
    chosen = [k for k in Kind.values if k in set(kinds)]
    NotificationSettings.objects.update_or_create(user=user, defaults={"email_kinds": chosen})
    return chosen


def _claimable(now) -> Q:
    return Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=now - CLAIM_TIMEOUT)


def _pending(now) -> QuerySet[Notification]:
    return Notification.objects.filter(
        emailed_at__isnull=True, read_at__isnull=True, hidden=False, created_at__gte=now - EMAIL_WINDOW
    ).filter(_claimable(now))


def _address(user) -> str | None:
    """A confirmed address of `user`: the hub never mails an address nobody confirmed."""
    row = EmailAddress.objects.filter(user=user, verified=True).order_by("-primary", "id").first()
    return row.email if row else None


def _absolute(path: str) -> str:
    return f"{settings.ACCOUNT_DEFAULT_HTTP_PROTOCOL}://{configured_host()}{path}"


def _send_digest(user, rows: list[Notification], address: str) -> None:
    with translation.override(profiles.language_of(user)):  # no request: the language they chose
        context = {
            "site_name": settings.SITE_NAME,
            "user": user,
            "count": len(rows),
            "items": [
                {"text": describe(n), "excerpt": n.excerpt, "url": _absolute(n.url) if n.url else ""}
                for n in rows
            ],
            "notifications_url": _absolute("/notifications"),
            "settings_url": _absolute("/settings/notifications"),
        }
        subject = " ".join(
            render_to_string("community/notifications/email/digest_subject.txt", context).split()
        )
        body = render_to_string("community/notifications/email/digest_body.txt", context)
    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [address]).send()


def send_digest_to(recipient_id: int, *, now=None) -> bool:
    """Email one recipient their unread, not yet emailed notifications of the kinds they opted into, in
    one message. The rows are first claimed with a conditional UPDATE (only rows nobody else claimed),
    so two overlapping digest runs never send the same event twice; after a failed send the claim is
    released and the next run tries again. True when an email was sent."""
    now = now or timezone.now()
    user = get_user_model().objects.filter(id=recipient_id, is_active=True).first()
    if user is None:
        return False
    kinds, address = email_kinds(user), _address(user)
    if not kinds or not address:
        return False
    ids = list(
        _pending(now)
        .filter(recipient_id=user.id, kind__in=kinds)
        .filter(visible_to(user))
        .order_by("created_at", "id")
        .values_list("id", flat=True)[:MAX_PER_EMAIL]
    )
    if not ids:
        return False
    token = uuid.uuid4().hex
    # The WHERE repeats the conditions: a concurrent run that claimed (or a reader who read) a row
    # first leaves it out of this UPDATE. PostgreSQL re-checks them on the row it waited for.
    Notification.objects.filter(
        _claimable(now), id__in=ids, emailed_at__isnull=True, read_at__isnull=True
    ).update(email_claim=token, email_claimed_at=now)
    rows = list(
        Notification.objects.filter(email_claim=token).select_related("actor").order_by("created_at", "id")
    )
    if not rows:
        return False
    try:
        _send_digest(user, rows, address)
    except OSError:  # smtplib's errors included: the server is down or refused; the next run retries
        log.warning("notification digest to user %s failed; will retry", user.id, exc_info=True)
        Notification.objects.filter(email_claim=token, emailed_at__isnull=True).update(
            email_claim="", email_claimed_at=None
        )
        return False
    Notification.objects.filter(email_claim=token).update(emailed_at=timezone.now())
    return True


def send_digests(*, now=None) -> int:
    """One digest email per recipient with something to send; returns how many were sent."""
    now = now or timezone.now()
    recipients = list(
        _pending(now).values_list("recipient_id", flat=True).distinct().order_by("recipient_id")
    )
    return sum(send_digest_to(recipient_id, now=now) for recipient_id in recipients)

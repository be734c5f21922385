"""Every write of moderation (docs/moderation.md): reports, the moderators' actions with their audit
rows, appeals and sanctions. One transaction each; content changes go through the content apps'
services and statuses, and nothing is deleted."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from community import comments as community_comments
from community import notifications
from community.models import CommentStatus, NotificationKind
from models_app import page_cache, rate_limits
from models_app import services as model_services
from models_app.models import MODERATED_STATUSES, FileStatus, ModelFile, ModelType, PublishStatus
from models_app.selectors import can_moderate
from resources import images as resource_images
from resources.models import MODERATED_IMAGE_STATUSES, ImageStatus

from . import targets
from .models import (
    MAX_DETAILS_LENGTH,
    MAX_REASON_LENGTH,
    ActionKind,
    Appeal,
    AppealStatus,
    ModerationAction,
    Report,
    ReportReason,
    ReportSource,
    ReportStatus,
    SanctionKind,
    TargetType,
    UserSanction,
)

DEFAULT_SUSPENSION_DAYS = 7
MAX_SUSPENSION_DAYS = 3650

# Which actions apply to which targets. The user actions (warn, mute, suspend, ban) act on the
# target's owner, so a moderator can sanction someone from the report about their content.
USER_ACTIONS = (ActionKind.WARN, ActionKind.MUTE, ActionKind.SUSPEND, ActionKind.BAN)
ALL_TYPES = tuple(TargetType.values)
CONTENT = (TargetType.MODEL, TargetType.VERSION, TargetType.FILE, TargetType.IMAGE, TargetType.COMMENT)
APPLIES_TO = {
    ActionKind.DISMISS: ALL_TYPES,
    ActionKind.RELABEL: (TargetType.MODEL, TargetType.VERSION, TargetType.IMAGE),
    ActionKind.HIDE: CONTENT,
    ActionKind.REMOVE: CONTENT,
    ActionKind.RESTORE: ALL_TYPES,
    ActionKind.MARK_POI: (TargetType.MODEL, TargetType.VERSION),
    ActionKind.MARK_MINOR: (TargetType.MODEL, TargetType.VERSION, TargetType.IMAGE),
    ActionKind.QUARANTINE_FILE: (TargetType.FILE,),
    **{action: ALL_TYPES for action in USER_ACTIONS},
}
OFFERED_ACTIONS = tuple(APPLIES_TO)
# Decisions an owner may appeal: the ones that took something away from them.
APPEALABLE = (
    ActionKind.RELABEL, ActionKind.HIDE, ActionKind.REMOVE, ActionKind.MARK_POI, ActionKind.MARK_MINOR,
    ActionKind.QUARANTINE_FILE, ActionKind.WARN, ActionKind.MUTE, ActionKind.SUSPEND, ActionKind.BAN,
)  # fmt: skip


def _check_moderator(user) -> None:
    if not can_moderate(user):
        raise PermissionDenied(gettext("Only moderators can do this."))


def _clean_reason(reason) -> str:
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise ValidationError(gettext("Give a reason: the owner is told it."))
    if len(reason) > MAX_REASON_LENGTH:
        raise ValidationError(
            gettext("The reason is at most %(max)d characters.") % {"max": MAX_REASON_LENGTH}
        )
    return reason


# --- Reports


class DuplicateReport(ValidationError):
    """The reporter already has an open report on this target (the API answers 409)."""


class TooManyReports(ValidationError):
    """More than REPORT_RATE_LIMIT reports this minute by this person (the API answers 429)."""


@transaction.atomic
def report(*, reporter, target_type: str, target_id: int, reason: str, details: str = "") -> Report:
    """Ask moderators to look at something `reporter` can see. Http404 when they can't (or it does not
    exist); DuplicateReport when their earlier report on it is still open."""
    if target_type not in TargetType.values:
        raise ValidationError(
            gettext("target_type must be one of: %(types)s.") % {"types": ", ".join(TargetType.values)}
        )
    if reason not in ReportReason.values:
        raise ValidationError(
            gettext("reason must be one of: %(reasons)s.") % {"reasons": ", ".join(ReportReason.values)}
        )
    if rate_limits.over_limit("report-rate", reporter.id, settings.REPORT_RATE_LIMIT):
        raise TooManyReports(gettext("Too many reports in a minute; try again shortly."))
    details = str(details or "").strip()
    if len(details) > MAX_DETAILS_LENGTH:
        raise ValidationError(
            gettext("The details are at most %(max)d characters.") % {"max": MAX_DETAILS_LENGTH}
        )
    target = targets.visible_to(reporter, target_type, target_id)
    if target is None:
        raise Http404
    if target.owner is not None and target.owner.id == reporter.id:
        raise ValidationError(gettext("You can't report your own content."))
    open_reports = Report.objects.filter(
        reporter=reporter, target_type=target_type, target_id=target_id, status=ReportStatus.OPEN
    )
    duplicate = DuplicateReport(
        gettext("You already reported this; moderators will tell you what they decide.")
    )
    if open_reports.exists():
        raise duplicate
    try:
        with transaction.atomic():  # the constraint settles a double click
            row = Report.objects.create(
                reporter=reporter, source=ReportSource.USER, target_type=target_type,
                target_id=target_id, reason=reason, details=details,
            )  # fmt: skip
    except IntegrityError:
        raise duplicate from None
    _raise_if_repeated(row)
    return row


# Open reports by different people on one target that raise it as an automatic signal too.
REPEATED_REPORTS_AT = 3


def _raise_if_repeated(report: Report) -> bool:
    """REPEATED_REPORTS_AT open reports from different people on the same target raise it as an
    automatic signal too (docs/moderation.md#automatic-signals), so it stands out in the queue."""
    reporters = (
        Report.objects.filter(
            target_type=report.target_type,
            target_id=report.target_id,
            status=ReportStatus.OPEN,
            reporter__isnull=False,
        )
        .values("reporter")
        .distinct()
        .count()
    )
    if reporters < REPEATED_REPORTS_AT:
        return False
    return raise_automatic(
        source=ReportSource.REPEATED_REPORTS, target_type=report.target_type, target_id=report.target_id,
        reason=report.reason, details=gettext("%(n)d people reported it.") % {"n": reporters},
    )  # fmt: skip


def raise_automatic(*, source: str, target_type: str, target_id: int, reason: str, details: str = "") -> bool:
    """An automatic signal (reporter NULL) puts a target in the queue; nothing when one from the same
    source is already open. Returns whether a report was opened."""
    try:
        with transaction.atomic():
            _report, created = Report.objects.get_or_create(
                reporter=None, source=source, target_type=target_type, target_id=target_id,
                status=ReportStatus.OPEN, defaults={"reason": reason, "details": details[:MAX_DETAILS_LENGTH]},
            )  # fmt: skip
    except IntegrityError:
        return False
    return created


def sync_scan_reports() -> int:
    """Quarantined files reach the queue through their own status (models_app never imports
    moderation): each one the scan quarantined gets one automatic report, once; a report dismissed
    by a moderator is not opened again. Run by the queue page and the beat task."""
    seen = Report.objects.filter(source=ReportSource.SCAN, target_type=TargetType.FILE).values("target_id")
    quarantined = ModelFile.objects.filter(status=FileStatus.QUARANTINED).exclude(id__in=seen)
    opened = 0
    for model_file in quarantined.only("id", "scan_message")[:500]:
        opened += raise_automatic(
            source=ReportSource.SCAN, target_type=TargetType.FILE, target_id=model_file.id,
            reason=ReportReason.MALICIOUS_FILE, details=model_file.scan_message or "",
        )  # fmt: skip
    return opened


def _resolve_reports(target_type: str, target_id: int, *, status: str, action: ModerationAction) -> None:
    """Close the target's open reports and tell each reporter the outcome."""
    now = timezone.now()
    open_reports = list(
        # of=self: the reporter is a nullable (outer) join, which PostgreSQL can't lock.
        Report.objects.select_for_update(of=("self",))
        .select_related("reporter")
        .filter(target_type=target_type, target_id=target_id, status=ReportStatus.OPEN)
    )
    resolution = f"{action.action}: {action.reason}"
    for row in open_reports:
        row.status, row.resolved_at, row.resolution = status, now, resolution
        row.save(update_fields=["status", "resolved_at", "resolution"])
        if row.reporter is None:
            continue
        if status == ReportStatus.DISMISSED:
            outcome = gettext("Your report was reviewed; moderators found no rule broken.")
        else:
            outcome = gettext("Your report was reviewed and moderators acted: %(action)s.") % {
                "action": ActionKind(action.action).label
            }
        notifications.notify(
            row.reporter, NotificationKind.MODERATION, actor=None, key=f"report:{row.id}",
            target_name=_target_name(action), excerpt=outcome,
        )  # fmt: skip


def _target_name(action: ModerationAction) -> str:
    target = targets.find(action.target_type, action.target_id)
    return target.name if target is not None else f"{action.target_type} {action.target_id}"


# --- Actions


def _state(target: targets.Target) -> dict:
    """What the audit row records of a target before and after an action."""
    obj = target.obj
    state = {"status": target.status}
    if target.type == TargetType.MODEL:
        state.update(type=obj.type, nsfw=obj.nsfw, poi=obj.poi, minor=obj.minor)
    elif target.type == TargetType.VERSION:
        # The flags and the status of its model too: mark_poi and mark_minor act on the model.
        model = obj.model
        state.update(
            base_model=obj.base_model.name, model_status=model.status, poi=model.poi, minor=model.minor
        )
    elif target.type == TargetType.USER:
        state.update(is_active=obj.is_active, sanctions=_sanctions_in_force(obj))
    return state


def _sanctions_in_force(user) -> list[str]:
    now = timezone.now()
    return sorted({s.kind for s in UserSanction.objects.filter(user=user) if s.in_force(now)})


def _status_before_takedown(target_type: str, target_id: int) -> str:
    """The status a model or version had before moderators took it down: the newest takedown whose
    `before` was not itself a takedown (hiding twice must not restore to "hidden")."""
    takedowns = ModerationAction.objects.filter(
        target_type=target_type,
        target_id=target_id,
        action__in=(ActionKind.HIDE, ActionKind.REMOVE, ActionKind.MARK_MINOR),
    ).order_by("-created_at", "-id")
    for row in takedowns:
        status = row.before.get("status")
        if status and status not in MODERATED_STATUSES and status != PublishStatus.DELETED:
            return status
    return PublishStatus.UNPUBLISHED  # unknown: the creator publishes it again


def _hide(target: targets.Target, *, remove: bool, reason: str, moderator) -> None:
    obj = target.obj
    if target.type in (TargetType.MODEL, TargetType.VERSION):
        status = PublishStatus.REMOVED if remove else PublishStatus.HIDDEN
        model_services.set_moderation_status(target=obj, status=status, reason=reason, by=moderator)
    elif target.type == TargetType.IMAGE:
        status = ImageStatus.REMOVED if remove else ImageStatus.HIDDEN
        resource_images.set_image_status(image=obj, status=status, reason=reason, by=moderator)
    elif target.type == TargetType.COMMENT:
        community_comments.set_comment_status(obj, CommentStatus.HIDDEN)
    elif target.type == TargetType.FILE:
        model_services.quarantine_file(model_file=obj, reason=reason, by=moderator)


def _restore(target: targets.Target, *, moderator) -> None:
    obj = target.obj
    if target.type in (TargetType.MODEL, TargetType.VERSION):
        if obj.status not in MODERATED_STATUSES:
            raise ValidationError(gettext("This is not hidden or removed; there is nothing to restore."))
        previous = _status_before_takedown(target.type, target.id)
        model_services.set_moderation_status(target=obj, status=previous, reason="", by=moderator)
        if target.type == TargetType.MODEL and obj.minor:
            model_services.set_content_flags(model=obj, minor=False, by=moderator)
    elif target.type == TargetType.IMAGE:
        if obj.status not in MODERATED_IMAGE_STATUSES:
            raise ValidationError(gettext("This is not hidden or removed; there is nothing to restore."))
        resource_images.set_image_status(image=obj, status=ImageStatus.READY, reason="", by=moderator)
    elif target.type == TargetType.COMMENT:
        if obj.status != CommentStatus.HIDDEN:
            raise ValidationError(gettext("This is not hidden or removed; there is nothing to restore."))
        community_comments.set_comment_status(obj, CommentStatus.VISIBLE)
    elif target.type == TargetType.FILE:
        model_services.release_file(model_file=obj, by=moderator)
    elif target.type == TargetType.USER:
        now = timezone.now()
        lifted = UserSanction.objects.filter(user=obj, lifted_at__isnull=True).update(lifted_at=now)
        if not lifted and obj.is_active:
            raise ValidationError(gettext("This person has no sanction to lift."))
        if not obj.is_active:
            obj.is_active = True
            obj.save(update_fields=["is_active"])


def _relabel(target: targets.Target, *, moderator, level, model_type, base_model) -> None:
    """A new level (models, versions, images), type (models) or base model (versions), through the
    content apps' services, so their rules hold here too (a real person's content stays PG-13 at most)."""
    obj = target.obj
    if target.type == TargetType.IMAGE:
        if level is None:
            raise ValidationError(gettext("Choose a new level."))
        resource_images.set_image_level(image=obj, by=moderator, nsfw_level=level)
        return
    changes = {} if level is None else {"nsfw_level": level}
    if target.type == TargetType.MODEL:
        if model_type:
            if model_type not in ModelType.values:
                raise ValidationError(
                    gettext("Unknown model type %(type)s.") % {"type": repr(model_type)[:60]}
                )
            changes["type"] = model_type
        if not changes:
            raise ValidationError(gettext("Choose a new level or type."))
        model_services.update_model(model=obj, by=moderator, **changes)
    else:
        if base_model:
            changes["base_model"] = base_model
        if not changes:
            raise ValidationError(gettext("Choose a new level or base model."))
        model_services.update_version(version=obj, by=moderator, **changes)


def _sanction(target: targets.Target, action: str, *, reason: str, days: int | None) -> None:
    person = target.owner
    if person is None:
        raise ValidationError(gettext("This has no owner to act on."))
    if can_moderate(person):
        raise ValidationError(gettext("Moderators can't sanction another moderator here; ask an admin."))
    if action == ActionKind.MUTE:
        UserSanction.objects.create(user=person, kind=SanctionKind.MUTE, reason=reason)
    elif action == ActionKind.SUSPEND:
        days = DEFAULT_SUSPENSION_DAYS if days is None else days
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_SUSPENSION_DAYS:
            raise ValidationError(
                gettext("A suspension lasts from 1 to %(max)d days.") % {"max": MAX_SUSPENSION_DAYS}
            )
        until = timezone.now() + timedelta(days=days)
        UserSanction.objects.create(user=person, kind=SanctionKind.SUSPEND, reason=reason, until=until)
    elif action == ActionKind.BAN:
        person.is_active = False
        person.save(update_fields=["is_active"])


@transaction.atomic
def act(
    *,
    moderator,
    target_type: str,
    target_id: int,
    action: str,
    reason: str,
    level: int | None = None,
    model_type: str = "",
    base_model: str = "",
    days: int | None = None,
) -> ModerationAction:
    """Apply one moderator decision to one target, write its audit row, close the target's open
    reports (telling the reporters) and tell the owner why. ValidationError for an action that does
    not apply; Http404 for an unknown target; PermissionDenied for non-moderators."""
    _check_moderator(moderator)
    if action not in OFFERED_ACTIONS:
        raise ValidationError(
            gettext("action must be one of: %(actions)s.") % {"actions": ", ".join(OFFERED_ACTIONS)}
        )
    if target_type not in TargetType.values:
        raise ValidationError(
            gettext("target_type must be one of: %(types)s.") % {"types": ", ".join(TargetType.values)}
        )
    if target_type not in APPLIES_TO[action]:
        raise ValidationError(
            gettext("%(action)s does not apply to a %(type)s.") % {"action": action, "type": target_type}
        )
    if level is not None and (isinstance(level, bool) or level not in (1, 2, 4, 8, 16, 32)):
        raise ValidationError(gettext("level is one of 1, 2, 4, 8, 16, 32 (PG to Blocked)."))
    reason = _clean_reason(reason)
    target = targets.find(target_type, target_id)
    if target is None:
        raise Http404
    before = _state(target)
    if action == ActionKind.DISMISS:
        pass
    elif action == ActionKind.RELABEL:
        _relabel(target, moderator=moderator, level=level, model_type=model_type, base_model=base_model)
    elif action in (ActionKind.HIDE, ActionKind.REMOVE):
        _hide(target, remove=action == ActionKind.REMOVE, reason=reason, moderator=moderator)
    elif action == ActionKind.RESTORE:
        _restore(target, moderator=moderator)
    elif action in (ActionKind.MARK_POI, ActionKind.MARK_MINOR):
        model = target.obj.model if target.type == TargetType.VERSION else target.obj
        if target.type == TargetType.IMAGE:  # an image has no flags: it is hidden at once
            _hide(target, remove=False, reason=reason, moderator=moderator)
        elif action == ActionKind.MARK_POI:
            model_services.set_content_flags(model=model, poi=True, by=moderator)
        else:  # content involving minors is hidden at once by the service, pending review
            model_services.set_content_flags(model=model, minor=True, by=moderator, reason=reason)
    elif action == ActionKind.QUARANTINE_FILE:
        if target.obj.status == FileStatus.QUARANTINED:
            raise ValidationError(gettext("This file is already quarantined."))
        _hide(target, remove=True, reason=reason, moderator=moderator)
    elif action in USER_ACTIONS:
        _sanction(target, action, reason=reason, days=days)
    after = _state(targets.find(target_type, target_id))
    record = ModerationAction.objects.create(
        moderator=moderator, action=action, target_type=target_type, target_id=target_id,
        owner=target.owner, before=before, after=after, reason=reason,
    )  # fmt: skip
    _resolve_reports(
        target_type,
        target_id,
        status=ReportStatus.DISMISSED if action == ActionKind.DISMISS else ReportStatus.ACTIONED,
        action=record,
    )
    if action in APPEALABLE or action == ActionKind.RESTORE:
        _tell_owner(record, target)
    if action != ActionKind.DISMISS:  # anonymous visitors' kept pages show the decision at once
        transaction.on_commit(page_cache.forget_all)
    return record


def _tell_owner(record: ModerationAction, target: targets.Target) -> None:
    """The owner learns what was decided and why, with a link to the decision (and its appeal form)."""
    owner = target.owner
    if owner is None:
        return
    excerpt = gettext("%(action)s: %(reason)s") % {
        "action": ActionKind(record.action).label,
        "reason": record.reason,
    }
    notifications.notify(
        owner, NotificationKind.MODERATION, actor=None, key=f"moderation:{record.id}",
        url=reverse("moderation:decision", args=[record.id]), target_name=target.name, excerpt=excerpt,
    )  # fmt: skip


# --- Appeals


def _moderators():
    """Active moderators (group members, superusers and anyone granted the permission)."""
    users = get_user_model().objects.filter(is_active=True).order_by("id")
    return [u for u in users if can_moderate(u)]


@transaction.atomic
def appeal(*, user, action_id: int, statement: str) -> Appeal:
    """The owner's one appeal of a decision about them. It is assigned to the moderator with the fewest
    open appeals other than the one who decided, when there is one."""
    record = ModerationAction.objects.filter(id=action_id).first()
    if record is None or record.owner_id != user.id:
        raise Http404
    if record.action not in APPEALABLE:
        raise ValidationError(gettext("This decision can't be appealed."))
    statement = str(statement or "").strip()
    if not statement:
        raise ValidationError(gettext("Say why the decision is wrong."))
    if len(statement) > MAX_DETAILS_LENGTH:
        raise ValidationError(
            gettext("The appeal is at most %(max)d characters.") % {"max": MAX_DETAILS_LENGTH}
        )
    if Appeal.objects.filter(action=record).exists():
        raise ValidationError(
            gettext("You already appealed this decision; each decision may be appealed once.")
        )
    others = [m for m in _moderators() if m.id != record.moderator_id]
    if others:
        load = {m.id: Appeal.objects.filter(assigned_to=m, status=AppealStatus.OPEN).count() for m in others}
        assignee = min(others, key=lambda m: (load[m.id], m.id))
    else:
        assignee = record.moderator
    try:
        with transaction.atomic():
            return Appeal.objects.create(
                action=record, appellant=user, statement=statement, assigned_to=assignee
            )
    except IntegrityError:
        raise ValidationError(
            gettext("You already appealed this decision; each decision may be appealed once.")
        ) from None


def may_decide(moderator, item: Appeal) -> bool:
    """A moderator may not judge their own decision while another moderator could."""
    if not can_moderate(moderator):
        return False
    if item.action.moderator_id != moderator.id:
        return True
    return not any(m.id != moderator.id for m in _moderators())


@transaction.atomic
def decide_appeal(*, moderator, appeal_id: int, grant: bool, reason: str) -> Appeal:
    """Grant (undo the decision: restore the content or lift the sanction) or refuse an appeal. Writes
    an audit row and tells the appellant."""
    _check_moderator(moderator)
    item = Appeal.objects.select_for_update().select_related("action").filter(id=appeal_id).first()
    if item is None:
        raise Http404
    if item.status != AppealStatus.OPEN:
        raise ValidationError(gettext("This appeal was already decided."))
    if not may_decide(moderator, item):
        raise PermissionDenied(gettext("Another moderator decides appeals of your own decisions."))
    reason = _clean_reason(reason)
    record = item.action
    target = targets.find(record.target_type, record.target_id)
    if target is None:
        raise Http404
    before = _state(target)
    if grant:
        _undo(record, target, moderator=moderator)
        transaction.on_commit(page_cache.forget_all)
    after = _state(targets.find(record.target_type, record.target_id))
    ModerationAction.objects.create(
        moderator=moderator, action=ActionKind.APPEAL_GRANTED if grant else ActionKind.APPEAL_UPHELD,
        target_type=record.target_type, target_id=record.target_id, owner_id=record.owner_id,
        before=before, after=after, reason=reason,
    )  # fmt: skip
    item.status = AppealStatus.GRANTED if grant else AppealStatus.REFUSED
    item.decided_by, item.decided_at, item.decision_reason = moderator, timezone.now(), reason
    item.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    outcome = (
        gettext("Your appeal was granted: %(reason)s")
        if grant
        else gettext("Your appeal was refused: %(reason)s")
    ) % {"reason": reason}
    notifications.notify(
        item.appellant, NotificationKind.MODERATION, actor=None, key=f"appeal:{item.id}",
        url=reverse("moderation:decision", args=[record.id]), target_name=target.name, excerpt=outcome,
    )  # fmt: skip
    return item


def _undo(record: ModerationAction, target: targets.Target, *, moderator) -> None:
    """What granting an appeal does: the content or the person back as they were."""
    if record.action in (
        ActionKind.HIDE,
        ActionKind.REMOVE,
        ActionKind.QUARANTINE_FILE,
        ActionKind.MARK_MINOR,
    ):
        if target.type == TargetType.VERSION and record.action == ActionKind.MARK_MINOR:
            target = targets.find(TargetType.MODEL, target.obj.model_id)
        try:
            _restore(target, moderator=moderator)
        except ValidationError:
            pass  # already restored by someone else
    elif record.action == ActionKind.MARK_POI:
        model = target.obj.model if target.type == TargetType.VERSION else target.obj
        model_services.set_content_flags(model=model, poi=False, by=moderator)
    elif record.action == ActionKind.RELABEL and target.type == TargetType.MODEL:
        changes = {k: record.before[k] for k in ("type", "nsfw") if k in record.before}
        model_services.update_model(model=target.obj, by=moderator, **changes)
    elif record.action == ActionKind.RELABEL and target.type == TargetType.VERSION:
        model_services.update_version(
            version=target.obj, by=moderator, base_model=record.before["base_model"]
        )
    elif record.action in (ActionKind.MUTE, ActionKind.SUSPEND, ActionKind.BAN):
        person = target.owner
        kind = {ActionKind.MUTE: SanctionKind.MUTE, ActionKind.SUSPEND: SanctionKind.SUSPEND}.get(
            record.action
        )
        if kind:
            UserSanction.objects.filter(user=person, kind=kind, lifted_at__isnull=True).update(
                lifted_at=timezone.now()
            )
        else:
            person.is_active = True
            person.save(update_fields=["is_active"])


# --- Sanctions, read by the content apps through models_app.sanctions (registered in apps.py)


def write_refusal(user) -> str:
    """Why `user` may not upload, comment or review now, or ""."""
    now = timezone.now()
    for sanction in UserSanction.objects.filter(user_id=user.id, lifted_at__isnull=True):
        if not sanction.in_force(now):
            continue
        if sanction.kind == SanctionKind.SUSPEND:
            return gettext("Your account is suspended until %(date)s: %(reason)s") % {
                "date": sanction.until.strftime("%Y-%m-%d %H:%M UTC"),
                "reason": sanction.reason,
            }
        return gettext("Moderators muted your account: you can't upload, comment or review. %(reason)s") % {
            "reason": sanction.reason
        }
    return ""


def login_refusal(user) -> str:
    """Why `user` may not sign in now (a suspension in force), or ""."""
    now = timezone.now()
    for sanction in UserSanction.objects.filter(
        user_id=user.id, kind=SanctionKind.SUSPEND, lifted_at__isnull=True
    ):
        if sanction.in_force(now):
            return gettext("Your account is suspended until %(date)s: %(reason)s") % {
                "date": sanction.until.strftime("%Y-%m-%d %H:%M UTC"),
                "reason": sanction.reason,
            }
    return ""

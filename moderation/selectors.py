"""Reads of moderation: the queue (open reports grouped by target, appeals first), a target's history
and the past decisions about its owner."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Min, Q
from django.utils import timezone

from . import targets
from .models import Appeal, AppealStatus, ModerationAction, Report, ReportReason, ReportStatus

PAGE_SIZE = 25


@dataclass
class QueueRow:
    target_type: str
    target_id: int
    report_count: int
    oldest: datetime
    reasons: list[str] = field(default_factory=list)
    automatic: bool = False
    target: targets.Target | None = None

    @property
    def reason_labels(self) -> list[str]:
        return [str(ReportReason(r).label) for r in self.reasons]

    @property
    def key(self) -> str:
        return f"{self.target_type}:{self.target_id}"


@dataclass
class QueuePage:
    rows: list[QueueRow]
    page: int
    has_next: bool
    total: int


def queue(
    *,
    reason: str = "",
    target_type: str = "",
    older_than_days: int | None = None,
    kind: str = "",
    page: int = 1,
) -> QueuePage:
    """Open reports, one row per target with its count and reasons, oldest first. `kind`: "automatic"
    (reporter NULL: the scan, blocked terms, repeated reports) or "user"."""
    reports = Report.objects.filter(status=ReportStatus.OPEN)
    if reason:
        reports = reports.filter(reason=reason)
    if target_type:
        reports = reports.filter(target_type=target_type)
    if kind == "automatic":
        reports = reports.filter(reporter__isnull=True)
    elif kind == "user":
        reports = reports.filter(reporter__isnull=False)
    grouped = reports.values("target_type", "target_id").annotate(
        count=Count("id"), oldest=Min("created_at"), automatic=Count("id", filter=Q(reporter__isnull=True))
    )
    if older_than_days:
        grouped = grouped.filter(oldest__lte=timezone.now() - timedelta(days=older_than_days))
    grouped = grouped.order_by("oldest", "target_type", "target_id")
    total = grouped.count()
    start = (page - 1) * PAGE_SIZE
    chunk = list(grouped[start : start + PAGE_SIZE + 1])
    rows = [
        QueueRow(g["target_type"], g["target_id"], g["count"], g["oldest"], automatic=bool(g["automatic"]))
        for g in chunk[:PAGE_SIZE]
    ]
    reasons = {}
    for r in reports.filter(
        target_type__in={row.target_type for row in rows}, target_id__in={row.target_id for row in rows}
    ).values("target_type", "target_id", "reason"):
        found = reasons.setdefault((r["target_type"], r["target_id"]), [])
        if r["reason"] not in found:
            found.append(r["reason"])
    for row in rows:
        row.reasons = reasons.get((row.target_type, row.target_id), [])
        row.target = targets.find(row.target_type, row.target_id)
    return QueuePage(rows=rows, page=page, has_next=len(chunk) > PAGE_SIZE, total=total)


def open_appeals(moderator) -> list[Appeal]:
    """Open appeals, the ones assigned to `moderator` first, then the oldest."""
    appeals = list(
        Appeal.objects.filter(status=AppealStatus.OPEN).select_related(
            "action__moderator", "appellant", "assigned_to"
        )
    )
    appeals.sort(key=lambda a: (a.assigned_to_id != moderator.id, a.created_at, a.id))
    for item in appeals:
        item.target = targets.find(item.action.target_type, item.action.target_id)
    return appeals


def history(target_type: str, target_id: int):
    """Every decision about this target, newest first."""
    return ModerationAction.objects.filter(target_type=target_type, target_id=target_id).select_related(
        "moderator"
    )


def owner_history(owner_id: int | None, *, limit: int = 20):
    """The latest decisions about this person's content and account, newest first."""
    if owner_id is None:
        return ModerationAction.objects.none()
    return ModerationAction.objects.filter(owner_id=owner_id).select_related("moderator")[:limit]


def reports_on(target_type: str, target_id: int):
    return Report.objects.filter(target_type=target_type, target_id=target_id).select_related("reporter")

"""Automatic signals into the moderation queue (docs/moderation.md#automatic-signals): an automatic
report (no reporter, a `source`) is opened when

- the classifier suggests a higher level for an image than its creator chose (`classifier`);
- an image's perceptual hash is near a blocked image's (`blocked_image`);
- an image's prompt holds a blocked term (`blocked_term`; names, descriptions, comments and tags are
  refused at the door instead, see blocked_terms.py);
- a target has services.REPEATED_REPORTS_AT open reports from different people (`repeated_reports`,
  raised by services.report itself);
- the scan quarantined a file (`scan`, services.sync_scan_reports).

Images are checked when the worker finishes them (resources' IMAGE_READY_HOOKS, registered in apps.py).
One open automatic report per source and target, as services.raise_automatic guarantees.
"""

import logging
from datetime import timedelta

from django.utils.translation import gettext as _

from models_app import levels
from models_app.content_rules import ContentRefused

from . import blocked_images, blocked_terms, services
from .models import Report, ReportReason, ReportSource, TargetType

log = logging.getLogger(__name__)


def check_image(image, *, terms=None, blocked=None) -> list[str]:
    """Open the automatic reports a finished image calls for; returns their sources. `terms` and
    `blocked`: the blocked terms and images, when the caller checks many images (read once)."""
    opened = []
    suggested = image.suggested_nsfw_level
    if suggested and suggested > image.nsfw_level and image.nsfw_level != levels.NsfwLevel.BLOCKED:
        details = _(
            "The classifier suggests %(suggested)s (score %(score).2f); its creator chose %(chosen)s."
        ) % {
            "suggested": levels.label(suggested),
            "score": image.nsfw_score or 0,
            "chosen": levels.label(image.nsfw_level),
        }
        if services.raise_automatic(
            source=ReportSource.CLASSIFIER, target_type=TargetType.IMAGE, target_id=image.id,
            reason=ReportReason.MISLABELLED_LEVEL, details=details,
        ):  # fmt: skip
            opened.append(ReportSource.CLASSIFIER)
    match = blocked_images.match(image.phash, blocked)
    if match is not None:
        details = _("Its perceptual hash is %(distance)d bits from blocked image %(hash)s (%(note)s).") % {
            "distance": blocked_images.distance(image.phash, match.phash),
            "hash": match.phash,
            "note": match.note or "-",
        }
        if services.raise_automatic(
            source=ReportSource.BLOCKED_IMAGE, target_type=TargetType.IMAGE, target_id=image.id,
            reason=ReportReason.OTHER, details=details,
        ):  # fmt: skip
            opened.append(ReportSource.BLOCKED_IMAGE)
    prompt = (image.meta or {}).get("prompt") if isinstance(image.meta, dict) else None
    if isinstance(prompt, str) and prompt:
        try:
            blocked_terms.check([("prompt", prompt)], terms=terms)
        except ContentRefused as refused:
            if services.raise_automatic(
                source=ReportSource.BLOCKED_TERM, target_type=TargetType.IMAGE, target_id=image.id,
                reason=ReportReason.OTHER, details=refused.message_text,
            ):  # fmt: skip
                opened.append(ReportSource.BLOCKED_TERM)
    return opened


def on_image_ready(image) -> None:
    """resources' hook: never let a signal break the worker's task; a failure is logged."""
    try:
        check_image(image)
    except Exception:  # noqa: BLE001 - the image is processed; a missed signal must not undo that
        log.exception("moderation: could not check image %s for automatic signals", image.id)


# Images finished this recently are checked again by sync_all, for what changed since: a newly blocked
# image or term.
RECHECK_WINDOW = timedelta(days=7)
RECHECK_BATCH = 500


def sync_recent_images() -> int:
    """Check the images finished in RECHECK_WINDOW that no automatic signal reported yet (at most
    RECHECK_BATCH), so an image blocked after a copy was posted still finds it."""
    from django.utils import timezone

    from resources.models import Image, ImageStatus

    reported = Report.objects.filter(reporter__isnull=True, target_type=TargetType.IMAGE).values("target_id")
    recent = (
        Image.objects.filter(status=ImageStatus.READY, created_at__gte=timezone.now() - RECHECK_WINDOW)
        .exclude(id__in=reported)
        .order_by("-id")[:RECHECK_BATCH]
    )
    terms, blocked = blocked_terms.active_terms(), blocked_images.blocked_list()
    return sum(len(check_image(image, terms=terms, blocked=blocked)) for image in recent)


def sync_all() -> int:
    """Every automatic signal read from the lower apps' own rows: quarantined files and recent images.
    Run by the queue page, its API and the beat task."""
    return services.sync_scan_reports() + sync_recent_images()

"""Moderation's own rows (docs/moderation.md): blocked terms and images, reports, the moderators'
decisions (an append-only audit log), appeals and sanctions on people. Content is never deleted here:
moderation hides it through the content apps' services and statuses. Report and decision targets are
named by type and id, not foreign keys: they may point at a model, a version, a file, an image, a
comment or a user, and rows stay when the content changes."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .text import normalise_term


class BlockedTerm(models.Model):
    """A word or phrase no published text may contain (docs/moderation.md#blocked-terms). Stored
    normalised (case-folded, accents removed); matched with leetspeak variants on word boundaries."""

    term = models.CharField(max_length=100, unique=True)
    note = models.CharField(max_length=255, blank=True, help_text=_("Why it is blocked (for moderators)."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["term"]

    def __str__(self):
        return self.term

    def save(self, *args, **kwargs):
        self.term = normalise_term(self.term)
        super().save(*args, **kwargs)

    def clean(self):
        if not 2 <= len(normalise_term(self.term)) <= 100:
            raise ValidationError({"term": _("A blocked term is 2 to 100 characters long.")})


class BlockedImage(models.Model):
    """An image no one may post again: its perceptual hash (docs/moderation.md#blocked-images). A new
    image within a few bits of it (resized, re-encoded, slightly recoloured) goes to the queue."""

    phash = models.CharField(max_length=16, unique=True, help_text=_("imagehash's pHash, 16 hex digits."))
    note = models.CharField(max_length=255, blank=True, help_text=_("Why it is blocked (for moderators)."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.phash


MAX_DETAILS_LENGTH = 2000
MAX_REASON_LENGTH = 2000


class TargetType(models.TextChoices):
    MODEL = "model", _("Model")
    VERSION = "version", _("Version")
    FILE = "file", _("File")
    IMAGE = "image", _("Image")
    COMMENT = "comment", _("Comment")
    USER = "user", _("User")


class ReportReason(models.TextChoices):
    """CivitAI's report reasons, by the codes the API takes."""

    MISLABELLED_LEVEL = "mislabelled_level", _("Wrong maturity level")
    REAL_PERSON = "real_person", _("Depicts a real person")
    MINOR = "minor", _("Involves a minor")
    OWNERSHIP = "ownership", _("Uses my work without permission")
    MALICIOUS_FILE = "malicious_file", _("Malicious file")
    SPAM = "spam", _("Spam")
    HARASSMENT = "harassment", _("Harassment")
    OTHER = "other", _("Something else")


class ReportSource(models.TextChoices):
    """Who raised it: a person, or one of the automatic signals (reporter NULL)."""

    USER = "user", _("A user")
    SCAN = "scan", _("The file scan")
    BLOCKED_TERM = "blocked_term", _("A blocked term")
    REPEATED_REPORTS = "repeated_reports", _("Repeated reports")
    CLASSIFIER = "classifier", _("The image classifier")
    BLOCKED_IMAGE = "blocked_image", _("A blocked image")


class ReportStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACTIONED = "actioned", _("Actioned")
    DISMISSED = "dismissed", _("Dismissed")


class Report(models.Model):
    """Someone (or an automatic signal) asks moderators to look at one target. One OPEN report per
    reporter and target (a constraint; moderation.services.report says so first)."""

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="reports"
    )
    source = models.CharField(max_length=20, choices=ReportSource.choices, default=ReportSource.USER)
    target_type = models.CharField(max_length=10, choices=TargetType.choices)
    target_id = models.PositiveBigIntegerField()
    reason = models.CharField(max_length=20, choices=ReportReason.choices)
    details = models.TextField(blank=True, default="", max_length=MAX_DETAILS_LENGTH)  # plain text
    status = models.CharField(max_length=10, choices=ReportStatus.choices, default=ReportStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True, default="")  # the decision's action and reason

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reporter", "target_type", "target_id"],
                condition=Q(status="open", reporter__isnull=False),
                name="one_open_report_per_reporter_and_target",
            ),
            models.UniqueConstraint(
                fields=["source", "target_type", "target_id"],
                condition=Q(status="open", reporter__isnull=True),
                name="one_open_automatic_report_per_source_and_target",
            ),
        ]
        indexes = [models.Index(fields=["status", "target_type", "target_id"], name="report_open_targets")]

    def __str__(self):
        return f"{self.reason} on {self.target_type} {self.target_id} ({self.status})"

    @property
    def automatic(self) -> bool:
        return self.reporter_id is None


class AuditLogIsAppendOnly(Exception):
    pass


class ModerationActionQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditLogIsAppendOnly("audit rows are never updated; a later decision is a new row")

    def delete(self):
        raise AuditLogIsAppendOnly("audit rows are never deleted")


class ActionKind(models.TextChoices):
    DISMISS = "dismiss", _("Dismiss")
    RELABEL = "relabel", _("Relabel")
    HIDE = "hide", _("Hide")
    REMOVE = "remove", _("Remove")
    RESTORE = "restore", _("Restore")
    MARK_POI = "mark_poi", _("Mark as a real person")
    MARK_MINOR = "mark_minor", _("Mark as involving minors")
    QUARANTINE_FILE = "quarantine_file", _("Quarantine the file")
    WARN = "warn", _("Warn")
    MUTE = "mute", _("Mute")
    SUSPEND = "suspend", _("Suspend")
    BAN = "ban", _("Ban")
    # Not offered as actions: what deciding an appeal writes.
    APPEAL_UPHELD = "appeal_upheld", _("Appeal refused")
    APPEAL_GRANTED = "appeal_granted", _("Appeal granted")


class ModerationAction(models.Model):
    """One decision, for ever: who, what, on which target, the state before and after, and why.
    Refuses updates and deletes (save, delete and the queryset's update and delete raise)."""

    moderator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=20, choices=ActionKind.choices)
    target_type = models.CharField(max_length=10, choices=TargetType.choices)
    target_id = models.PositiveBigIntegerField()
    # Whose content it was (the user themselves for user actions): "past decisions about its owner".
    # No database constraint: the log outlives anything it names.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    reason = models.TextField(max_length=MAX_REASON_LENGTH)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = ModerationActionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_by_target")]

    def __str__(self):
        return f"{self.action} {self.target_type} {self.target_id} by {self.moderator_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None or kwargs.get("force_update"):
            raise AuditLogIsAppendOnly("audit rows are never updated; a later decision is a new row")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly("audit rows are never deleted")


class AppealStatus(models.TextChoices):
    OPEN = "open", _("Waiting for a moderator")
    GRANTED = "granted", _("Granted: the decision was undone")
    REFUSED = "refused", _("Refused: the decision stands")


class Appeal(models.Model):
    """The owner's one appeal of one decision. It goes back to the queue, assigned to a moderator other
    than the one who decided when there is one."""

    action = models.OneToOneField(ModerationAction, on_delete=models.PROTECT, related_name="appeal")
    appellant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="appeals")
    statement = models.TextField(max_length=MAX_DETAILS_LENGTH)
    status = models.CharField(max_length=10, choices=AppealStatus.choices, default=AppealStatus.OPEN)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"appeal of {self.action_id} ({self.status})"


class SanctionKind(models.TextChoices):
    MUTE = "mute", _("Muted")  # may not upload, comment or review
    SUSPEND = "suspend", _("Suspended")  # may not sign in or write, until a date


class UserSanction(models.Model):
    """A mute or a suspension, in force from created_at until `until` (NULL: until lifted). A ban is
    the account made inactive (is_active False), which Django already refuses at sign-in."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sanctions")
    kind = models.CharField(max_length=10, choices=SanctionKind.choices)
    until = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.kind} {self.user_id}"

    def in_force(self, now=None) -> bool:
        now = now or timezone.now()
        return self.lifted_at is None and (self.until is None or self.until > now)


class ClaimStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    TAKEN_DOWN = "taken_down", _("Taken down")
    COUNTERED = "countered", _("Counter-notice received")
    RESTORED = "restored", _("Restored")
    REJECTED = "rejected", _("Rejected")


class CopyrightClaim(models.Model):
    """An ownership claim, DMCA-style (docs/moderation.md#copyright-claims): who claims what work, about
    which model, version or image, with their statements; then the takedown, the owner's counter-notice
    and the restoration, each with its date. Rows are kept whatever happens."""

    target_type = models.CharField(max_length=10, choices=TargetType.choices)
    target_id = models.PositiveBigIntegerField()
    claimant = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimant_name = models.CharField(max_length=200)
    claimant_email = models.EmailField()
    work = models.TextField(max_length=MAX_DETAILS_LENGTH, help_text=_("The work claimed, and where it is."))
    statement = models.TextField(max_length=MAX_DETAILS_LENGTH)
    signature = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=ClaimStatus.choices, default=ClaimStatus.RECEIVED)
    received_at = models.DateTimeField(default=timezone.now)
    taken_down_at = models.DateTimeField(null=True, blank=True)
    counter_notice_at = models.DateTimeField(null=True, blank=True)
    counter_statement = models.TextField(blank=True, default="", max_length=MAX_DETAILS_LENGTH)
    restored_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(
        blank=True, default="", help_text=_("The moderator's reason, told to both sides.")
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"]), models.Index(fields=["status"])]

    def __str__(self):
        return f"claim {self.id} on {self.target_type} {self.target_id} ({self.status})"

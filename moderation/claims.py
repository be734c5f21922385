"""Copyright and ownership claims, DMCA-style (docs/moderation.md#copyright-claims).

Anyone (signed in or not) files a claim about a model, version or image: who they are, the work they
say it copies, a statement in good faith and a signature. Moderators take the content down (through the
same `remove` action as the queue, so it is audited, the owner is told and may appeal) or reject the
claim. The owner may answer a takedown with a counter-notice; after COUNTER_NOTICE_WAIT days without
news of a court action, moderators may restore it. Every step keeps its date. The claimant hears of
each decision by email; the owner through the hub's notifications.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from models_app.selectors import can_moderate

from . import services, targets
from .models import MAX_DETAILS_LENGTH, ActionKind, ClaimStatus, CopyrightClaim, TargetType

CLAIMABLE = (TargetType.MODEL, TargetType.VERSION, TargetType.IMAGE)
# The usual wait between a counter-notice and putting the content back (the DMCA says 10 to 14
# business days); the moderator restores by hand once it has passed.
COUNTER_NOTICE_WAIT = timedelta(days=14)


def _text(value, name: str, *, limit: int = MAX_DETAILS_LENGTH, required: bool = True) -> str:
    value = str(value or "").strip()
    if required and not value:
        raise ValidationError(_("Fill in %(field)s.") % {"field": name})
    if len(value) > limit:
        raise ValidationError(_("%(field)s is at most %(n)d characters.") % {"field": name, "n": limit})
    return value


@transaction.atomic
def file_claim(
    *,
    target_type: str,
    target_id: int,
    claimant_name: str,
    claimant_email: str,
    work: str,
    statement: str,
    signature: str,
    good_faith: bool,
    accurate: bool,
    claimant=None,
) -> CopyrightClaim:
    """Record a claim about a published model, version or image; it appears in the moderators'
    claims list at once. Both statements must be confirmed and the signature is the claimant's name."""
    if target_type not in CLAIMABLE:
        raise ValidationError(_("A claim is about a model, a version or an image."))
    target = targets.find(target_type, target_id)
    if target is None:
        raise ValidationError(_("There is nothing to claim at this address."))
    if not (good_faith and accurate):
        raise ValidationError(_("Confirm both statements: a claim is made in good faith and is accurate."))
    name = _text(claimant_name, _("your name"), limit=200)
    if _text(signature, _("the signature"), limit=200).casefold() != name.casefold():
        raise ValidationError(_("Sign with the name you gave above."))
    email = _text(claimant_email, _("your email address"), limit=254)
    if "@" not in email:
        raise ValidationError(_("Give an email address where moderators can reach you."))
    return CopyrightClaim.objects.create(
        target_type=target_type,
        target_id=target_id,
        claimant=claimant if getattr(claimant, "is_authenticated", False) else None,
        claimant_name=name,
        claimant_email=email,
        work=_text(work, _("the work"), limit=MAX_DETAILS_LENGTH),
        statement=_text(statement, _("the statement"), limit=MAX_DETAILS_LENGTH),
        signature=name,
    )


def _locked(claim_id: int) -> CopyrightClaim:
    return CopyrightClaim.objects.select_for_update().get(id=claim_id)


def _tell_claimant(claim: CopyrightClaim, subject: str, body: str) -> None:
    transaction.on_commit(
        lambda: send_mail(
            f"[{settings.SITE_NAME}] {subject}",
            body,
            None,
            [claim.claimant_email],
            fail_silently=True,  # the decision stands; a mail server hiccup is logged by Django
        )
    )


def _check_moderator(user) -> None:
    if not can_moderate(user):
        raise PermissionDenied(_("Only moderators can decide claims."))


@transaction.atomic
def take_down(*, moderator, claim_id: int, note: str) -> CopyrightClaim:
    """Remove the claimed content (the queue's `remove` action: audited, the owner told) and date it."""
    _check_moderator(moderator)
    claim = _locked(claim_id)
    if claim.status != ClaimStatus.RECEIVED:
        raise ValidationError(_("This claim was already decided."))
    note = _text(note, _("the reason"))
    services.act(
        moderator=moderator,
        target_type=claim.target_type,
        target_id=claim.target_id,
        action=ActionKind.REMOVE,
        reason=_("Copyright claim %(id)d: %(note)s") % {"id": claim.id, "note": note},
    )
    claim.status, claim.taken_down_at = ClaimStatus.TAKEN_DOWN, timezone.now()
    claim.decided_by, claim.note = moderator, note
    claim.save()
    _tell_claimant(
        claim,
        _("Your claim was upheld"),
        _("The content you claimed was taken down: %(note)s") % {"note": note},
    )
    return claim


@transaction.atomic
def reject(*, moderator, claim_id: int, note: str) -> CopyrightClaim:
    _check_moderator(moderator)
    claim = _locked(claim_id)
    if claim.status != ClaimStatus.RECEIVED:
        raise ValidationError(_("This claim was already decided."))
    note = _text(note, _("the reason"))
    claim.status, claim.rejected_at, claim.decided_by, claim.note = (
        ClaimStatus.REJECTED,
        timezone.now(),
        moderator,
        note,
    )
    claim.save()
    _tell_claimant(claim, _("Your claim was not upheld"), note)
    return claim


@transaction.atomic
def counter_notice(*, user, claim_id: int, statement: str, accurate: bool) -> CopyrightClaim:
    """The owner of taken-down content answers the claim, once. The claimant is sent the statement."""
    claim = _locked(claim_id)
    target = targets.find(claim.target_type, claim.target_id)
    if target is None or target.owner is None or target.owner.id != user.id:
        raise PermissionDenied(_("Only the owner of the content can answer this claim."))
    if claim.status != ClaimStatus.TAKEN_DOWN:
        raise ValidationError(_("A counter-notice answers a takedown, once."))
    if not accurate:
        raise ValidationError(_("Confirm that the counter-notice is accurate and made in good faith."))
    claim.counter_statement = _text(statement, _("the counter-notice"))
    claim.status, claim.counter_notice_at = ClaimStatus.COUNTERED, timezone.now()
    claim.save()
    _tell_claimant(claim, _("A counter-notice was filed"), claim.counter_statement)
    return claim


def restorable_from(claim: CopyrightClaim):
    """When moderators may put the content back: COUNTER_NOTICE_WAIT after the counter-notice."""
    return claim.counter_notice_at + COUNTER_NOTICE_WAIT if claim.counter_notice_at else None


@transaction.atomic
def restore(*, moderator, claim_id: int, note: str) -> CopyrightClaim:
    """Put countered content back once the wait has passed (the queue's `restore`, audited)."""
    _check_moderator(moderator)
    claim = _locked(claim_id)
    if claim.status != ClaimStatus.COUNTERED:
        raise ValidationError(_("Only content with a counter-notice can be restored here."))
    if timezone.now() < restorable_from(claim):
        raise ValidationError(
            _("The claimant has until %(date)s to say they went to court.")
            % {"date": restorable_from(claim).strftime("%Y-%m-%d")}
        )
    note = _text(note, _("the reason"))
    services.act(
        moderator=moderator,
        target_type=claim.target_type,
        target_id=claim.target_id,
        action=ActionKind.RESTORE,
        reason=_("Copyright claim %(id)d: restored after a counter-notice. %(note)s")
        % {"id": claim.id, "note": note},
    )
    claim.status, claim.restored_at, claim.decided_by, claim.note = (
        ClaimStatus.RESTORED,
        timezone.now(),
        moderator,
        note,
    )
    claim.save()
    _tell_claimant(claim, _("The content was restored"), note)
    return claim


def claim_list(*, status: str = ""):
    """Claims for the moderators' list, newest first, optionally of one status."""
    rows = CopyrightClaim.objects.all()
    return rows.filter(status=status) if status else rows

"""The pages of moderation: the report form, the queue at /moderation/, a target's page with its
history and actions, bulk actions, a decision's page with the owner's appeal, and deciding appeals.
Thin: each calls one service or selector."""

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from models_app.selectors import can_moderate

from . import selectors, services, signals, targets
from .models import (
    MAX_DETAILS_LENGTH,
    MAX_REASON_LENGTH,
    ActionKind,
    Appeal,
    ClaimStatus,
    CopyrightClaim,
    ModerationAction,
    ReportReason,
    ReportSource,
    TargetType,
)


def _moderator_only(request):
    """None when the visitor is a moderator; else the login page (anonymous) or 403."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not can_moderate(request.user):
        raise PermissionDenied(gettext("Only moderators can see the moderation queue."))
    return None


class ReportForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why are you reporting it?"), choices=ReportReason.choices, widget=forms.RadioSelect
    )
    details = forms.CharField(
        label=_("Details"),
        required=False,
        max_length=MAX_DETAILS_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What moderators should know (optional, plain text)."),
    )


def report(request, target_type: str, target_id: int):
    """The report form for anything its visitor can see; one open report per person and target."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if target_type not in TargetType.values:
        raise Http404
    target = targets.visible_to(request.user, target_type, target_id)
    if target is None:
        raise Http404
    form = ReportForm(request.POST or None)
    done = False
    if request.method == "POST" and form.is_valid():
        try:
            services.report(
                reporter=request.user, target_type=target_type, target_id=target_id,
                reason=form.cleaned_data["reason"], details=form.cleaned_data["details"],
            )  # fmt: skip
            done = True
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
    return render(request, "moderation/report.html", {"form": form, "target": target, "done": done})


class QueueFilters(forms.Form):
    reason = forms.ChoiceField(
        label=_("Reason"), required=False, choices=[("", _("Any"))] + ReportReason.choices
    )
    target_type = forms.ChoiceField(
        label=_("Type"), required=False, choices=[("", _("Any"))] + TargetType.choices
    )
    older_than = forms.IntegerField(label=_("Older than (days)"), required=False, min_value=0, max_value=3650)
    kind = forms.ChoiceField(
        label=_("Raised by"),
        required=False,
        choices=[("", _("Anyone")), ("user", _("Users")), ("automatic", _("Automatic signals"))],
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000, widget=forms.HiddenInput)


def queue(request):
    refused = _moderator_only(request)
    if refused:
        return refused
    signals.sync_all()  # automatic signals enter the queue even without the beat task
    filters = QueueFilters(request.GET or None)
    values = filters.cleaned_data if filters.is_valid() else {}
    page = selectors.queue(
        reason=values.get("reason") or "",
        target_type=values.get("target_type") or "",
        older_than_days=values.get("older_than"),
        kind=values.get("kind") or "",
        page=values.get("page") or 1,
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "moderation/queue.html",
        {
            "filters": filters,
            "page": page,
            "appeals": selectors.open_appeals(request.user),
            "open_claims": CopyrightClaim.objects.filter(status=ClaimStatus.RECEIVED).count(),
            "bulk_actions": [
                (a, ActionKind(a).label) for a in (ActionKind.DISMISS, ActionKind.HIDE, ActionKind.REMOVE)
            ],
            "query": query.urlencode(),
        },
    )


def target_detail(request, target_type: str, target_id: int):
    refused = _moderator_only(request)
    if refused:
        return refused
    target = targets.find(target_type, target_id) if target_type in TargetType.values else None
    if target is None:
        raise Http404
    actions = [
        (a, ActionKind(a).label) for a in services.OFFERED_ACTIONS if target_type in services.APPLIES_TO[a]
    ]
    return render(
        request,
        "moderation/target.html",
        {
            "target": target,
            "reports": selectors.reports_on(target_type, target_id),
            "history": selectors.history(target_type, target_id),
            "owner_history": selectors.owner_history(target.owner.id if target.owner else None),
            "actions": actions,
            "max_reason": MAX_REASON_LENGTH,
            "report_sources": ReportSource,
        },
    )


def _int_or_none(value):
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        raise ValidationError(gettext("Enter a whole number.")) from None


@require_POST
def act(request, target_type: str, target_id: int):
    refused = _moderator_only(request)
    if refused:
        return refused
    try:
        services.act(
            moderator=request.user,
            target_type=target_type,
            target_id=target_id,
            action=request.POST.get("action", ""),
            reason=request.POST.get("reason", ""),
            level=_int_or_none(request.POST.get("level")),
            model_type=request.POST.get("model_type", ""),
            base_model=request.POST.get("base_model", ""),
            days=_int_or_none(request.POST.get("days")),
        )
        messages.success(request, gettext("Done: the decision is in the audit log and the owner was told."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("moderation:target", target_type=target_type, target_id=target_id)


@require_POST
def bulk(request):
    """One action on several queue rows (values "type:id"); each is its own decision and audit row."""
    refused = _moderator_only(request)
    if refused:
        return refused
    action, reason = request.POST.get("action", ""), request.POST.get("reason", "")
    keys = request.POST.getlist("target")[:100]
    done, problems = 0, []
    for key in keys:
        target_type, _sep, raw_id = key.partition(":")
        try:
            services.act(
                moderator=request.user, target_type=target_type, target_id=int(raw_id),
                action=action, reason=reason,
            )  # fmt: skip
            done += 1
        except (ValueError, Http404):
            problems.append(gettext("%(target)s: not found.") % {"target": key[:40]})
        except ValidationError as exc:
            problems.append(f"{key[:40]}: {' '.join(exc.messages)}")
    if not keys:
        messages.error(request, gettext("Select at least one row."))
    if done:
        messages.success(
            request,
            ngettext("%(count)d decision recorded.", "%(count)d decisions recorded.", done) % {"count": done},
        )
    for problem in problems[:10]:
        messages.error(request, problem)
    return redirect("moderation:queue")


class AppealForm(forms.Form):
    statement = forms.CharField(
        label=_("Why is this decision wrong?"),
        max_length=MAX_DETAILS_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


def decision(request, action_id: int):
    """One decision, for the person it was about (with the appeal form) and for moderators."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    record = ModerationAction.objects.select_related("moderator").filter(id=action_id).first()
    moderator = can_moderate(request.user)
    if record is None or not (moderator or record.owner_id == request.user.id):
        raise Http404
    existing = Appeal.objects.filter(action=record).first()
    appealable = record.owner_id == request.user.id and record.action in services.APPEALABLE
    form = AppealForm(request.POST or None) if appealable and existing is None else None
    if request.method == "POST":
        if form is None:
            messages.error(request, gettext("This decision can't be appealed (again)."))
            return redirect("moderation:decision", action_id=record.id)
        if form.is_valid():
            try:
                services.appeal(
                    user=request.user, action_id=record.id, statement=form.cleaned_data["statement"]
                )
                messages.success(request, gettext("Your appeal was sent; another moderator will review it."))
                return redirect("moderation:decision", action_id=record.id)
            except ValidationError as exc:
                form.add_error(None, " ".join(exc.messages))
    target = targets.find(record.target_type, record.target_id)
    return render(
        request,
        "moderation/decision.html",
        {
            "record": record,
            "target": target,
            "appeal": existing,
            "form": form,
            "is_moderator": moderator,
            "may_decide": existing is not None and services.may_decide(request.user, existing),
        },
    )


def latest_decision(request, target_type: str, target_id: int):
    """The newest appealable decision about this target, for the content's notice to link to."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    record = (
        ModerationAction.objects.filter(
            target_type=target_type, target_id=target_id, action__in=services.APPEALABLE
        )
        .order_by("-created_at", "-id")
        .first()
    )
    if record is None or not (can_moderate(request.user) or record.owner_id == request.user.id):
        raise Http404
    return redirect("moderation:decision", action_id=record.id)


@require_POST
def decide_appeal(request, appeal_id: int):
    refused = _moderator_only(request)
    if refused:
        return refused
    item = Appeal.objects.filter(id=appeal_id).first()
    if item is None:
        raise Http404
    try:
        services.decide_appeal(
            moderator=request.user, appeal_id=item.id, grant=request.POST.get("decision") == "grant",
            reason=request.POST.get("reason", ""),
        )  # fmt: skip
        messages.success(request, gettext("The appeal was decided and the owner told."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("moderation:decision", action_id=item.action_id)

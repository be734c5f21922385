"""The moderation API (docs/moderation.md): anyone signed in reports (POST /api/hub/reports);
moderators read the queue, act and read the audit log. The same services as the pages."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from models_app.api import DetailOutput, error_responses
from models_app.dates import iso_z
from models_app.selectors import can_moderate

from . import selectors, services, signals
from .models import (
    MAX_DETAILS_LENGTH,
    MAX_REASON_LENGTH,
    ActionKind,
    ModerationAction,
    ReportReason,
    TargetType,
)

TAGS = ["moderation"]


class IsModerator(BasePermission):
    message = gettext_lazy("Only moderators can do this.")

    def has_permission(self, request, view):
        return bool(request.user and can_moderate(request.user))


class ReportInput(serializers.Serializer):
    target_type = serializers.ChoiceField(choices=TargetType.values)
    target_id = serializers.IntegerField(min_value=1)
    reason = serializers.ChoiceField(choices=ReportReason.values)
    details = serializers.CharField(
        max_length=MAX_DETAILS_LENGTH, required=False, allow_blank=True, default="", help_text="Plain text."
    )


class ReportOutput(serializers.Serializer):
    id = serializers.IntegerField()
    target_type = serializers.ChoiceField(choices=TargetType.values)
    target_id = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=ReportReason.values)
    details = serializers.CharField(allow_blank=True)
    status = serializers.CharField(help_text="open, actioned or dismissed.")
    created_at = serializers.DateTimeField()


class QueueRowOutput(serializers.Serializer):
    target_type = serializers.ChoiceField(choices=TargetType.values)
    target_id = serializers.IntegerField()
    name = serializers.CharField(allow_blank=True)
    url = serializers.CharField(allow_blank=True)
    status = serializers.CharField(allow_blank=True)
    report_count = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.ChoiceField(choices=ReportReason.values))
    automatic = serializers.BooleanField(help_text="At least one report came from an automatic signal.")
    oldest = serializers.DateTimeField(help_text="When its oldest open report was made.")


class QueueOutput(serializers.Serializer):
    items = QueueRowOutput(many=True)
    page = serializers.IntegerField()
    next_page = serializers.IntegerField(allow_null=True)
    total = serializers.IntegerField(help_text="Targets with open reports matching the filters.")


class ActionInput(serializers.Serializer):
    target_type = serializers.ChoiceField(choices=TargetType.values)
    target_id = serializers.IntegerField(min_value=1)
    action = serializers.ChoiceField(choices=list(services.OFFERED_ACTIONS))
    reason = serializers.CharField(
        max_length=MAX_REASON_LENGTH, help_text="Told to the owner and the reporters."
    )
    level = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="relabel: the NSFW level bit (1 PG … 32 Blocked).",
    )
    model_type = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="relabel a model."
    )
    base_model = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="relabel a version."
    )
    days = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text=f"suspend: days (default {services.DEFAULT_SUSPENSION_DAYS}).",
    )


class AuditOutput(serializers.Serializer):
    id = serializers.IntegerField()
    action = serializers.ChoiceField(choices=ActionKind.values)
    target_type = serializers.ChoiceField(choices=TargetType.values)
    target_id = serializers.IntegerField()
    moderator = serializers.CharField()
    owner_id = serializers.IntegerField(allow_null=True)
    before = serializers.DictField()
    after = serializers.DictField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


def audit_json(row: ModerationAction) -> dict:
    return {
        "id": row.id,
        "action": row.action,
        "target_type": row.target_type,
        "target_id": row.target_id,
        "moderator": row.moderator.username,
        "owner_id": row.owner_id,
        "before": row.before,
        "after": row.after,
        "reason": row.reason,
        "created_at": iso_z(row.created_at),
    }


def report_json(row) -> dict:
    return {
        "id": row.id,
        "target_type": row.target_type,
        "target_id": row.target_id,
        "reason": row.reason,
        "details": row.details,
        "status": row.status,
        "created_at": iso_z(row.created_at),
    }


class Reports(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="report",
        summary="Report a model, version, file, image, comment or user to the moderators",
        description="201 with the report. One open report per person and target: a second one while the "
        "first is open is a 409. A target you can't see is a 404. You are notified of the outcome.",
        tags=TAGS,
        request=ReportInput,
        responses={
            201: ReportOutput,
            **error_responses(400, 401, 404),
            409: OpenApiResponse(DetailOutput, description="You already have an open report on it."),
            429: OpenApiResponse(DetailOutput, description="More than REPORT_RATE_LIMIT reports a minute."),
        },
    )
    def post(self, request):
        data = ReportInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            row = services.report(reporter=request.user, **data.validated_data)
        except services.DuplicateReport as exc:
            return Response({"detail": " ".join(exc.messages)}, status=409)
        except services.TooManyReports as exc:
            return Response({"detail": " ".join(exc.messages)}, status=429, headers={"Retry-After": "60"})
        return Response(report_json(row), status=201)


class Queue(APIView):
    permission_classes = [IsModerator]

    @extend_schema(
        operation_id="moderation_queue",
        summary="The moderation queue: open reports grouped by target (moderators only)",
        tags=TAGS,
        parameters=[
            OpenApiParameter("reason", str, enum=ReportReason.values),
            OpenApiParameter("target_type", str, enum=TargetType.values),
            OpenApiParameter(
                "older_than", int, description="Only targets reported at least this many days ago."
            ),
            OpenApiParameter("kind", str, enum=["user", "automatic"]),
            OpenApiParameter("page", int, default=1),
        ],
        responses={200: QueueOutput, **error_responses(400, 401, 403)},
    )
    def get(self, request):
        params = request.query_params
        reason, target_type, kind = (
            params.get("reason", ""),
            params.get("target_type", ""),
            params.get("kind", ""),
        )
        if reason and reason not in ReportReason.values:
            return Response({"detail": _("Unknown reason.")}, status=400)
        if target_type and target_type not in TargetType.values:
            return Response({"detail": _("Unknown target_type.")}, status=400)
        if kind not in ("", "user", "automatic"):
            return Response({"detail": _("kind is user or automatic.")}, status=400)
        try:
            page = int(params.get("page", "1"))
            older = int(params["older_than"]) if params.get("older_than") else None
        except ValueError:
            return Response({"detail": _("page and older_than must be whole numbers.")}, status=400)
        if not 1 <= page <= 10_000 or (older is not None and not 0 <= older <= 3650):
            return Response({"detail": _("page or older_than is out of range.")}, status=400)
        signals.sync_all()
        result = selectors.queue(
            reason=reason, target_type=target_type, older_than_days=older, kind=kind, page=page
        )
        items = [
            {
                "target_type": row.target_type,
                "target_id": row.target_id,
                "name": row.target.name if row.target else "",
                "url": row.target.url if row.target else "",
                "status": row.target.status if row.target else "",
                "report_count": row.report_count,
                "reasons": row.reasons,
                "automatic": row.automatic,
                "oldest": iso_z(row.oldest),
            }
            for row in result.rows
        ]
        next_page = page + 1 if result.has_next else None
        return Response({"items": items, "page": page, "next_page": next_page, "total": result.total})


class Actions(APIView):
    permission_classes = [IsModerator]

    @extend_schema(
        operation_id="moderation_act",
        summary="Act on a target (moderators only)",
        description="Actions: dismiss, relabel, hide, remove, restore, mark_poi, mark_minor, quarantine_file, "
        "warn, mute, suspend, ban (the last four act on the target's owner). 201 with the audit row; the "
        "target's open reports are closed and their reporters told; the owner is told the reason.",
        tags=TAGS,
        request=ActionInput,
        responses={201: AuditOutput, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request):
        data = ActionInput(data=request.data)
        data.is_valid(raise_exception=True)
        row = services.act(moderator=request.user, **data.validated_data)
        return Response(audit_json(row), status=201)


class Audit(APIView):
    permission_classes = [IsModerator]

    @extend_schema(
        operation_id="moderation_audit",
        summary="The audit log of one target, newest first (moderators only)",
        tags=TAGS,
        parameters=[
            OpenApiParameter("target_type", str, enum=TargetType.values, required=True),
            OpenApiParameter("target_id", int, required=True),
        ],
        responses={200: AuditOutput(many=True), **error_responses(400, 401, 403)},
    )
    def get(self, request):
        target_type = request.query_params.get("target_type", "")
        try:
            target_id = int(request.query_params.get("target_id", ""))
        except ValueError:
            return Response({"detail": _("target_id must be a whole number.")}, status=400)
        if target_type not in TargetType.values:
            raise ValidationError(_("Unknown target_type."))
        rows = selectors.history(target_type, target_id)[:500]
        return Response([audit_json(row) for row in rows])

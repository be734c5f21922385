"""/api/hub/notifications and /api/hub/notifications/read (docs/notifications.md#api): your own
notifications, with an API key (or the session). The same service as the pages."""

from django.core.paginator import Paginator
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from models_app.api import error_responses
from models_app.dates import iso_z

from . import notifications
from .models import Notification, NotificationKind

PAGE_SIZE = 30
MAX_IDS = 1000


class NotificationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=NotificationKind.choices)
    text = serializers.CharField(help_text="The sentence the bell page shows, in the request's language.")
    actor = serializers.CharField(allow_null=True, help_text="Who did it (username); null when unknown.")
    target_name = serializers.CharField(allow_blank=True)
    excerpt = serializers.CharField(
        allow_blank=True, help_text="The start of the review or comment, plain text."
    )
    url = serializers.CharField(allow_blank=True, help_text="A path on this hub.")
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class NotificationPageOutput(serializers.Serializer):
    items = NotificationOutput(many=True)
    unread_count = serializers.IntegerField()
    next_page = serializers.IntegerField(allow_null=True, help_text="Pass as `page` for the next page.")


class MarkReadInput(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=MAX_IDS,
        help_text="Your notifications to mark read; ids that are not yours are ignored.",
    )
    all = serializers.BooleanField(required=False, default=False, help_text="Mark every notification read.")


class UnreadOutput(serializers.Serializer):
    unread_count = serializers.IntegerField()


def notification_json(n: Notification) -> dict:
    return {
        "id": n.id,
        "kind": n.kind,
        "text": notifications.describe(n),
        "actor": n.actor.username if n.actor_id and n.actor else None,
        "target_name": n.target_name,
        "excerpt": n.excerpt,
        "url": n.url,
        "created_at": iso_z(n.created_at),
        "read_at": iso_z(n.read_at) if n.read_at else None,
    }


class Notifications(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="list_notifications",
        summary="Your notifications, newest first",
        description=f"{PAGE_SIZE} a page; `unread=true` lists only the unread ones.",
        tags=["community"],
        parameters=[
            OpenApiParameter("page", int, default=1, description="1 or more."),
            OpenApiParameter("unread", bool, default=False, description="Only unread notifications."),
        ],
        responses={200: NotificationPageOutput, **error_responses(400, 401)},
    )
    def get(self, request):
        try:
            number = int(request.query_params.get("page", "1"))
        except ValueError:
            number = 0
        if number < 1:
            return Response({"detail": gettext("page must be a whole number, 1 or more.")}, status=400)
        unread = request.query_params.get("unread", "false").lower()
        if unread not in ("true", "false", "1", "0"):
            return Response({"detail": gettext("unread must be true or false.")}, status=400)
        rows = notifications.notifications_of(request.user, unread_only=unread in ("true", "1"))
        paginator = Paginator(rows, PAGE_SIZE)
        page = paginator.get_page(number) if number <= max(paginator.num_pages, 1) else None
        return Response(
            {
                "items": [notification_json(n) for n in (page.object_list if page else [])],
                "unread_count": notifications.unread_count(request.user),
                "next_page": number + 1 if page and page.has_next() else None,
            }
        )


class MarkRead(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="mark_notifications_read",
        summary="Mark notifications read",
        description='`{"ids": [1, 2]}` marks those of yours read (others\' ids change nothing); '
        '`{"all": true}` marks all of them. Answers the new unread count. Repeating it is harmless.',
        tags=["community"],
        request=MarkReadInput,
        responses={200: UnreadOutput, **error_responses(400, 401)},
    )
    def post(self, request):
        data = MarkReadInput(data=request.data)
        data.is_valid(raise_exception=True)
        if not data.validated_data["all"] and "ids" not in data.validated_data:
            return Response({"detail": gettext('Send {"ids": [...]} or {"all": true}.')}, status=400)
        count = notifications.mark_read(
            request.user, ids=data.validated_data.get("ids", []), everything=data.validated_data["all"]
        )
        return Response({"unread_count": count})

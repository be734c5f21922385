"""The lineage API under /api/hub/versions/<id>/ (docs/lineage.md#api): read a version's parents and
children, and, for its creator, declare, confirm and remove parents. The same service as the pages
(community/lineage.py)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from models_app.api import error_responses

from . import lineage
from .models import LineageRelation, LineageSource


class ParentInput(serializers.Serializer):
    version_id = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="The parent: a hub version you can see."
    )
    relation = serializers.ChoiceField(choices=LineageRelation.values)
    weight = serializers.FloatField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=1,
        help_text="merge_of only: the parent's share, 0 to 1.",
    )


class EvidenceOutput(serializers.Serializer):
    key = serializers.CharField(help_text="The metadata key the worker read, e.g. `ss_new_sd_model_hash`.")
    value = serializers.CharField(help_text="Its value (a hash or a file name), cut to 200 characters.")


class LinkOutput(serializers.Serializer):
    version_id = serializers.IntegerField(help_text="The other version: the parent, or the child.")
    model_id = serializers.IntegerField()
    relation = serializers.ChoiceField(choices=LineageRelation.values)
    weight = serializers.FloatField(allow_null=True, help_text="merge_of only, else null.")
    confirmed = serializers.BooleanField(
        help_text="false: proposed from metadata, shown to the creator only."
    )
    source = serializers.ChoiceField(choices=LineageSource.values)
    evidence = EvidenceOutput(allow_null=True, help_text="What the worker read; null when declared.")


class LineageOutput(serializers.Serializer):
    parents = LinkOutput(many=True)
    children = LinkOutput(many=True)


def _refused(refused: lineage.LineageRefused) -> Response:
    return Response(refused.body(), status=refused.status)


class VersionLineage(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="get_version_lineage",
        summary="A version's parents and children",
        description="Confirmed links between versions you can see; the version's creator also sees the "
        "parents the worker proposed (confirmed: false).",
        tags=["lineage"],
        responses={200: LineageOutput, **error_responses(401, 404)},
    )
    def get(self, request, version_id: int):
        version = lineage.shown_version(request.user, version_id)
        return Response(lineage.lineage_of(request.user, version))


class VersionParents(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="declare_version_parent",
        summary="Declare a parent of your version",
        description="The version's creator only (403 for others). 201 when new; 200 when it replaces the "
        "relation and weight of an existing link (a proposal becomes confirmed). A parent you can't see, "
        "the version itself or a parent that descends from the version (a cycle) is refused with 400.",
        tags=["lineage"],
        request=ParentInput,
        responses={200: LinkOutput, 201: LinkOutput, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request, version_id: int):
        try:
            child = lineage.owned_version(request.user, version_id)
        except lineage.LineageRefused as refused:
            return _refused(refused)
        data = ParentInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            link, created = lineage.declare_parent(
                user=request.user,
                child=child,
                parent_id=data.validated_data["version_id"],
                relation=data.validated_data["relation"],
                weight=data.validated_data.get("weight"),
            )
        except lineage.LineageRefused as refused:
            return _refused(refused)
        return Response(
            lineage.link_json(link, link.parent_id, link.parent.model_id), status=201 if created else 200
        )


class OneParent(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="delete_version_parent",
        summary="Remove (or reject) a parent of your version",
        description="The version's creator only. The worker never proposes a removed parent again.",
        tags=["lineage"],
        responses={204: None, **error_responses(401, 403, 404)},
    )
    def delete(self, request, version_id: int, parent_id: int):
        try:
            child = lineage.owned_version(request.user, version_id)
            lineage.remove_parent(user=request.user, child=child, parent_id=parent_id)
        except lineage.LineageRefused as refused:
            return _refused(refused)
        return Response(status=204)


class ConfirmParent(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="confirm_version_parent",
        summary="Confirm a parent the worker proposed",
        description="The version's creator only. Confirming twice is harmless.",
        tags=["lineage"],
        request=None,
        responses={200: LinkOutput, **error_responses(401, 403, 404)},
    )
    def post(self, request, version_id: int, parent_id: int):
        try:
            child = lineage.owned_version(request.user, version_id)
            link = lineage.confirm_parent(user=request.user, child=child, parent_id=parent_id)
        except lineage.LineageRefused as refused:
            return _refused(refused)
        return Response(lineage.link_json(link, link.parent_id, link.parent.model_id))

"""GET /api/hub/versions/<id>/workflow: what a workflow version needs (docs/workflows.md#api)."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from models_app import selectors
from models_app.api import DetailOutput
from models_app.models import ModelVersion

from .workflows import summary_json, workflow_of


class WorkflowModelVersionOutput(serializers.Serializer):
    model_id = serializers.IntegerField()
    version_id = serializers.IntegerField()
    sha256 = serializers.CharField()


class NeededModelOutput(serializers.Serializer):
    node_id = serializers.CharField(
        allow_null=True, help_text="The node that loads it; null for a top-level models[] hint."
    )
    node_type = serializers.CharField(allow_null=True)
    filename = serializers.CharField(help_text="As the workflow names it; never a path on this hub.")
    kind = serializers.CharField(
        help_text="ComfyUI's folder: checkpoints, loras, vae, embeddings, ... or unknown."
    )
    resolved = WorkflowModelVersionOutput(
        allow_null=True, help_text="The published hub version holding this file, by hash then filename."
    )


class WorkflowOutput(serializers.Serializer):
    format = serializers.ChoiceField(choices=["ui", "api"])
    nodes = serializers.IntegerField(help_text="Node count.")
    links = serializers.IntegerField(help_text="Links whose both ends exist.")
    models = NeededModelOutput(many=True)
    custom_node_types = serializers.ListField(child=serializers.CharField())
    custom_node_packs = serializers.ListField(child=serializers.CharField())


class VersionWorkflow(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="get_version_workflow",
        summary="The ComfyUI workflow of a version: counts, models it needs, custom nodes",
        description="Each needed model is resolved to a published hub version by SHA-256 (when the "
        "workflow carries one) and by filename, else `resolved` is null. Drafts are visible to their "
        "creator (and moderators) only; 404 when the version has no processed workflow file.",
        tags=["resources"],
        responses={
            200: WorkflowOutput,
            404: OpenApiResponse(
                DetailOutput, description="No such version, not yours to see, or no workflow."
            ),
        },
    )
    def get(self, request, version_id: int):
        version = get_object_or_404(ModelVersion.objects.select_related("model"), id=version_id)
        get_object_or_404(selectors.visible_models(request.user), id=version.model_id)
        version = selectors.visible_versions(request.user, version.model).filter(id=version_id).first()
        if version is None:
            raise Http404
        _, workflow = workflow_of(selectors.visible_files(request.user, version))
        if workflow is None:
            raise Http404("This version has no workflow.")
        return Response(summary_json(workflow["summary"]))

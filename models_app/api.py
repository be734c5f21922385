"""The hub's own REST API for creators: models, versions and resumable multipart uploads.

Mounted under /api/hub/. The upload steps mirror S3's multipart protocol (start, sign a part URL,
list parts, complete, abort) so the browser's uploader and scripts use one flow on every storage.
"""

import json

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from hub.dates import iso_z

from . import selectors, services, storage
from .models import BaseModel, FileStatus, FileType, ModelFile, ModelType, ModelVersion, UsageControl


class ModelInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    type = serializers.ChoiceField(choices=ModelType.choices)
    description = serializers.CharField(required=False, allow_blank=True, max_length=50_000, default="")
    tags = serializers.ListField(child=serializers.CharField(max_length=60), required=False, default=list)
    nsfw = serializers.BooleanField(required=False, default=False)
    license = serializers.CharField(required=False, allow_blank=True, max_length=120, default="")
    allow_no_credit = serializers.BooleanField(required=False, default=True)
    allow_derivatives = serializers.BooleanField(required=False, default=True)
    allow_different_license = serializers.BooleanField(required=False, default=True)
    allow_commercial_images = serializers.BooleanField(required=False, default=True)
    allow_commercial_rent = serializers.BooleanField(required=False, default=True)
    allow_commercial_sell = serializers.BooleanField(required=False, default=False)
    require_login = serializers.BooleanField(required=False, default=False)


class VersionInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    base_model = serializers.SlugRelatedField(
        slug_field="name", queryset=BaseModel.objects.filter(is_active=True)
    )
    trained_words = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, default=list
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=50_000, default="")
    early_access_days = serializers.IntegerField(
        required=False, default=0, min_value=0, max_value=services.MAX_EARLY_ACCESS_DAYS
    )
    usage_control = serializers.ChoiceField(choices=UsageControl.choices, required=False, default="Download")


class UploadInput(serializers.Serializer):
    version_id = serializers.IntegerField(min_value=1)
    filename = serializers.CharField(max_length=1000)
    size = serializers.IntegerField(min_value=1)
    type = serializers.ChoiceField(choices=FileType.choices, required=False, default=FileType.MODEL)
    is_primary = serializers.BooleanField(required=False, allow_null=True, default=None)


def file_json(model_file: ModelFile) -> dict:
    blob = model_file.blob
    return {
        "id": model_file.id,
        "version_id": model_file.version_id,
        "name": model_file.name,
        "type": model_file.type,
        "format": model_file.format,
        "size": model_file.size,
        "primary": model_file.is_primary,
        "status": model_file.status,
        "status_label": model_file.get_status_display(),
        "status_message": model_file.status_message,
        "progress": model_file.progress,
        "finished": model_file.is_finished,
        "scan_status": model_file.scan_status,
        "scan_message": model_file.scan_message,
        "fp": model_file.fp or None,
        "size_variant": model_file.size_variant or None,
        "hashes": blob.api_hashes() if blob else None,
        "detected": model_file.metadata.get("detected"),
        "hints": model_file.metadata.get("hints", []),
        "duplicate": bool(model_file.metadata.get("duplicate_of_existing_blob")),
        "upload_id": model_file.multipart_upload_id or None,
    }


def version_json(version: ModelVersion) -> dict:
    return {
        "id": version.id,
        "model_id": version.model_id,
        "name": version.name,
        "base_model": version.base_model.name,
        "trained_words": version.trained_words,
        "status": version.status,
        "early_access_ends_at": iso_z(version.early_access_ends_at),
        "usage_control": version.usage_control,
        "files": [file_json(f) for f in version.files.all()],
    }


def _own_version(request, version_id: int) -> ModelVersion:
    version = get_object_or_404(ModelVersion.objects.select_related("model", "base_model"), id=version_id)
    if version.model.owner_id != request.user.id:
        # Someone else's draft must not even be confirmed to exist.
        get_object_or_404(selectors.visible_models(request.user), id=version.model_id)
        raise services.ValidationError("Only the creator of this model can change it.")
    return version


def _own_upload(request, file_id: int) -> ModelFile:
    model_file = get_object_or_404(ModelFile.objects.select_related("version__model"), id=file_id)
    if model_file.version.model.owner_id != request.user.id:
        raise Http404
    return model_file


class CreatorAPIView(APIView):
    permission_classes = [IsAuthenticated]


def model_card_json(card: "selectors.ModelCard") -> dict:
    """A model as the browse list shows it."""
    return {
        "id": card.id,
        "name": card.name,
        "slug": card.slug,
        "type": card.type,
        "nsfw": card.nsfw,
        "creator": card.creator,
        "tags": card.tags,
        "base_models": sorted(card.base_models),
        "download_count": card.download_count,
        "thumbs_up_count": card.thumbs_up_count,
        "thumbs_down_count": card.thumbs_down_count,
        "rating": card.rating,
        "like_count": card.like_count,
        "comment_count": card.comment_count,
        "published_at": iso_z(card.published_at),
        "url": card.url,
    }


def browse(request):
    """GET /api/hub/models: published models, with the filters and sorts of /models/ and cursor
    pagination. A plain Django view rather than DRF: it is the hub's hottest read, public, and
    bench/load.py measures it against a bare Django baseline."""
    show_nsfw = request.GET.get("nsfw", "").lower() in ("1", "true")
    try:
        query = selectors.BrowseQuery.from_params(request.GET, show_nsfw=show_nsfw, default_limit=100)
        items, next_cursor = selectors.browse_models_json(request.user, query)
    except selectors.BadQuery as exc:
        return JsonResponse({"detail": str(exc)}, status=400)
    body = f'{{"items": [{",".join(items)}], "next_cursor": {json.dumps(next_cursor)}}}'
    return HttpResponse(body, content_type="application/json")


@csrf_exempt  # as DRF's own views are: DRF checks CSRF itself for session-authenticated writes
def models_collection(request):
    """/api/hub/models: GET browses (plain view), POST creates a model (DRF, authenticated)."""
    if request.method == "GET":
        return browse(request)
    return CreateModel.as_view()(request)


class CreateModel(CreatorAPIView):
    def post(self, request):
        data = ModelInput(data=request.data)
        data.is_valid(raise_exception=True)
        model = services.create_model(owner=request.user, **data.validated_data)
        return Response(
            {
                "id": model.id,
                "name": model.name,
                "slug": model.slug,
                "status": model.status,
                "url": model.get_absolute_url(),
            },
            status=status.HTTP_201_CREATED,
        )


class CreateVersion(CreatorAPIView):
    def post(self, request, model_id: int):
        model = get_object_or_404(selectors.visible_models(request.user), id=model_id)
        if model.owner_id != request.user.id:
            raise services.ValidationError("Only the creator of this model can add versions.")
        data = VersionInput(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.create_version(model=model, **data.validated_data)
        return Response(version_json(version), status=status.HTTP_201_CREATED)


class PublishVersion(CreatorAPIView):
    def post(self, request, version_id: int):
        version = _own_version(request, version_id)
        services.publish_version(version=version, by=request.user)
        return Response(version_json(version))


class VersionFiles(APIView):
    """The files of a version and where each is in the pipeline; the pages poll this."""

    permission_classes = [AllowAny]

    def get(self, request, version_id: int):
        version = get_object_or_404(ModelVersion.objects.select_related("model", "base_model"), id=version_id)
        get_object_or_404(selectors.visible_models(request.user), id=version.model_id)
        if not selectors.visible_versions(request.user, version.model).filter(id=version.id).exists():
            raise Http404
        files = selectors.visible_files(request.user, version)
        return Response({"version_id": version.id, "files": [file_json(f) for f in files]})


class StartUpload(CreatorAPIView):
    def post(self, request):
        data = UploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        version = _own_version(request, values.pop("version_id"))
        model_file = services.start_upload(version=version, by=request.user, **values)
        return Response(
            {
                **file_json(model_file),
                "key": str(model_file.id),
                "uploadId": model_file.multipart_upload_id,
                "part_size": settings.UPLOAD_PART_SIZE,
            },
            status=status.HTTP_201_CREATED,
        )


class UploadParts(CreatorAPIView):
    def get(self, request, file_id: int):
        model_file = _own_upload(request, file_id)
        return Response(services.uploaded_parts(model_file=model_file))


class SignPart(CreatorAPIView):
    def post(self, request, file_id: int, part_number: int):
        model_file = _own_upload(request, file_id)
        url = services.part_upload_url(model_file=model_file, part_number=part_number)
        return Response(
            {"url": request.build_absolute_uri(url) if url.startswith("/") else url, "headers": {}}
        )


class CompleteUpload(CreatorAPIView):
    def post(self, request, file_id: int):
        model_file = _own_upload(request, file_id)
        model_file = services.complete_upload(model_file=model_file, by=request.user)
        return Response(file_json(model_file))


class AbortUpload(CreatorAPIView):
    def delete(self, request, file_id: int):
        model_file = _own_upload(request, file_id)
        services.abort_upload(model_file=model_file, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@method_decorator(csrf_exempt, name="dispatch")
class LocalPartUpload(APIView):
    """On local storage, the URL a part is PUT to. Like an S3 presigned URL it carries its own
    short-lived signature, so it needs no cookie, and it streams the body to disk in small blocks."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def put(self, request, token: str):
        try:
            claim = storage.read_part_token(token)
        except signing.BadSignature:
            return Response(
                {"detail": "This upload URL is invalid or has expired; ask for a new one."}, status=403
            )
        model_file = ModelFile.objects.filter(
            id=claim["f"], multipart_upload_id=claim["u"], status=FileStatus.UPLOADING
        ).first()
        if model_file is None:
            return Response({"detail": "This upload is finished or was cancelled."}, status=404)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length <= 0:
            return Response({"detail": "Send the part's bytes with a Content-Length."}, status=411)
        if length > 2 * settings.UPLOAD_PART_SIZE:
            return Response(
                {"detail": f"A part may be at most {2 * settings.UPLOAD_PART_SIZE:,} bytes."}, status=413
            )
        try:
            etag = storage.save_local_part(
                upload_id=claim["u"], part_number=claim["p"], stream=request.stream, length=length
            )
        except ValueError as exc:
            return Response({"detail": str(exc)}, status=400)
        except FileNotFoundError:
            return Response({"detail": "This upload is finished or was cancelled."}, status=404)
        response = Response(status=200)
        response["ETag"] = etag
        return response

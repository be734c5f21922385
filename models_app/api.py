"""The hub's own REST API for creators: models, versions and resumable multipart uploads.

Mounted under /api/hub/. The upload steps mirror S3's multipart protocol (start, sign a part URL,
list parts, complete, abort) so the browser's uploader and scripts use one flow on every storage.
"""

import json

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.response import Response
from rest_framework.views import APIView

from . import preferences, rate_limits, selectors, services, storage
from .dates import iso_z
from .levels import NsfwLevel, models_nsfw_mask, parse_mask
from .models import (
    MAX_DESCRIPTION_LENGTH,
    MAX_LICENSE_LENGTH,
    MAX_MODEL_NAME_LENGTH,
    MAX_TRIGGER_WORD_LENGTH,
    MAX_VERSION_NAME_LENGTH,
    OFFERED_USAGE_CONTROLS,
    TAG_MAX_LENGTH,
    BaseModel,
    FileFormat,
    FileStatus,
    FileType,
    ModelFile,
    ModelType,
    ModelVersion,
    PublishStatus,
    ScanStatus,
    UsageControl,
)


# The limits are the model's (models.py), so the API, the web forms and the database agree.
def _description():
    return serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_DESCRIPTION_LENGTH,
        default="",
        help_text=f"Markdown, at most {MAX_DESCRIPTION_LENGTH:,} characters.",
    )


LEVEL_HELP = (
    "The content level, CivitAI's bit value: 1 PG, 2 PG-13, 4 R, 8 X, 16 XXX; 32 (Blocked) is for "
    "moderators only. Anything else is a 400 (docs/moderation.md#nsfw-levels)."
)
LEGACY_NSFW_HELP = (
    "Deprecated: `nsfw_level` says more. true means 4 (R), false 1 (PG); ignored when `nsfw_level` is sent."
)


def level_input(**kwargs):
    return serializers.ChoiceField(choices=[int(v) for v in NsfwLevel.values], help_text=LEVEL_HELP, **kwargs)


def _level_from_legacy(data: dict) -> dict:
    """The deprecated boolean `nsfw` as a level, unless `nsfw_level` was sent."""
    data = dict(data)
    legacy = data.pop("nsfw", None)
    if legacy is not None and "nsfw_level" not in data:
        data["nsfw_level"] = NsfwLevel.R if legacy else NsfwLevel.PG
    return data


class ModelInput(serializers.Serializer):
    name = serializers.CharField(max_length=MAX_MODEL_NAME_LENGTH)
    type = serializers.ChoiceField(choices=ModelType.choices)
    description = _description()
    tags = serializers.ListField(
        child=serializers.CharField(max_length=TAG_MAX_LENGTH), required=False, default=list
    )
    nsfw_level = level_input(required=False)
    nsfw = serializers.BooleanField(required=False, help_text=LEGACY_NSFW_HELP)
    license = serializers.CharField(
        required=False, allow_blank=True, max_length=MAX_LICENSE_LENGTH, default=""
    )
    allow_no_credit = serializers.BooleanField(required=False, default=True)
    allow_derivatives = serializers.BooleanField(required=False, default=True)
    allow_different_license = serializers.BooleanField(required=False, default=True)
    allow_commercial_images = serializers.BooleanField(required=False, default=True)
    allow_commercial_rent = serializers.BooleanField(required=False, default=True)
    allow_commercial_sell = serializers.BooleanField(required=False, default=False)
    require_login = serializers.BooleanField(required=False, default=False)


class VersionInput(serializers.Serializer):
    name = serializers.CharField(max_length=MAX_VERSION_NAME_LENGTH)
    base_model = serializers.SlugRelatedField(
        slug_field="name", queryset=BaseModel.objects.filter(is_active=True)
    )
    trained_words = serializers.ListField(
        child=serializers.CharField(max_length=MAX_TRIGGER_WORD_LENGTH), required=False, default=list
    )
    description = _description()
    nsfw_level = level_input(required=False, default=1)
    early_access_days = serializers.IntegerField(
        required=False, default=0, min_value=0, max_value=services.MAX_EARLY_ACCESS_DAYS
    )
    # Not the generation-only options: the hub has no generator yet (models.OFFERED_USAGE_CONTROLS).
    usage_control = serializers.ChoiceField(
        choices=OFFERED_USAGE_CONTROLS, required=False, default="Download"
    )
    recommended_vae_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="A published VAE version to recommend with this one; null for none.",
    )


class UploadInput(serializers.Serializer):
    version_id = serializers.IntegerField(min_value=1)
    filename = serializers.CharField(max_length=1000)
    size = serializers.IntegerField(min_value=1)
    type = serializers.ChoiceField(choices=FileType.choices, required=False, default=FileType.MODEL)
    is_primary = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="true: make it the primary file once it is ready; false: never choose it automatically. "
        "Left out: the first ready Model file of a version without a ready primary becomes primary.",
    )


# --- What the API answers. The *_json functions below build the answers; these serializers describe
# them for the OpenAPI schema (/api/schema/), and tests/test_openapi.py checks real answers against it.


class DetailOutput(serializers.Serializer):
    detail = serializers.CharField(help_text="A sentence saying what went wrong and what to do.")


class HashesOutput(serializers.Serializer):
    """UPPERCASE hex digests, as CivitAI sends them; AutoV3 only for safetensors files."""

    AutoV1 = serializers.CharField()
    AutoV2 = serializers.CharField()
    SHA256 = serializers.CharField()
    CRC32 = serializers.CharField()
    BLAKE3 = serializers.CharField()
    AutoV3 = serializers.CharField(required=False, help_text="Only for safetensors files.")


class DetectionOutput(serializers.Serializer):
    model_type = serializers.ChoiceField(choices=ModelType.choices, allow_null=True)
    base_model = serializers.CharField(allow_null=True)
    fp = serializers.CharField(help_text="fp16, bf16, fp32, ...; empty when unknown")
    size_variant = serializers.CharField(help_text="full or pruned for checkpoints, else empty")
    confidence = serializers.FloatField()
    evidence = serializers.ListField(child=serializers.CharField())


class FileOutput(serializers.Serializer):
    id = serializers.IntegerField()
    version_id = serializers.IntegerField()
    name = serializers.CharField()
    type = serializers.ChoiceField(choices=FileType.choices)
    format = serializers.ChoiceField(choices=FileFormat.choices)
    format_label = serializers.CharField(help_text='The format in words, as pages show it ("safetensors").')
    size = serializers.IntegerField(help_text="Bytes; the declared size until the file is processed.")
    primary = serializers.BooleanField()
    status = serializers.ChoiceField(choices=FileStatus.choices)
    status_label = serializers.CharField()
    status_message = serializers.CharField()
    progress = serializers.IntegerField(min_value=0, max_value=100, help_text="Percent processed.")
    finished = serializers.BooleanField(help_text="Nothing more will happen to this file.")
    scan_status = serializers.ChoiceField(choices=ScanStatus.choices)
    scan_message = serializers.CharField(help_text="Markdown; names what the scanners found.")
    fp = serializers.CharField(allow_null=True)
    size_variant = serializers.CharField(allow_null=True)
    hashes = HashesOutput(allow_null=True, help_text="Once the file is processed.")
    detected = DetectionOutput(allow_null=True, help_text="What the safetensors header says the file is.")
    detected_summary = serializers.CharField(
        help_text='`detected` in words, e.g. "LoRA for SDXL 1.0 (95% confidence)"; empty when unknown.'
    )
    hints = serializers.ListField(child=serializers.CharField())
    duplicate = serializers.BooleanField(help_text="Identical bytes were already stored.")
    upload_id = serializers.CharField(allow_null=True, help_text="While the upload is in progress.")


class StartedUploadOutput(FileOutput):
    key = serializers.CharField(help_text="The file's id, as Uppy's S3 multipart plugin expects.")
    uploadId = serializers.CharField()  # the name Uppy's S3 multipart plugin reads
    part_size = serializers.IntegerField(
        help_text="Bytes per part: every part but the last has exactly this size, the last the rest. "
        "Only parts 1 to ceil(size / part_size) can be signed."
    )


class RecommendedVaeOutput(serializers.Serializer):
    model_id = serializers.IntegerField()
    version_id = serializers.IntegerField()
    name = serializers.CharField(help_text="The VAE model's name and the version's, e.g. `Tiny VAE v1.0`.")


class VersionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    model_id = serializers.IntegerField()
    name = serializers.CharField()
    base_model = serializers.CharField()
    trained_words = serializers.ListField(child=serializers.CharField())
    nsfw_level = serializers.IntegerField(help_text=LEVEL_HELP)
    status = serializers.ChoiceField(choices=PublishStatus.choices)
    publish_when_ready = serializers.BooleanField(
        help_text="Publishing was asked for while files were being processed: the version is published "
        "as soon as they pass their checks."
    )
    early_access_ends_at = serializers.DateTimeField(allow_null=True)
    usage_control = serializers.ChoiceField(choices=UsageControl.choices)
    recommended_vae = RecommendedVaeOutput(
        allow_null=True,
        help_text="The VAE version the creator recommends, while it is published; else null.",
    )
    files = FileOutput(many=True)


class CreatedModelOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    status = serializers.ChoiceField(choices=PublishStatus.choices)
    url = serializers.CharField(help_text="The model's page.")


class ModelCardOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    type = serializers.ChoiceField(choices=ModelType.choices)
    nsfw = serializers.BooleanField(help_text="Above PG-13.")
    nsfw_level = serializers.IntegerField(help_text=LEVEL_HELP)
    creator = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    base_models = serializers.ListField(child=serializers.CharField())
    download_count = serializers.IntegerField()
    thumbs_up_count = serializers.IntegerField()
    thumbs_down_count = serializers.IntegerField()
    rating = serializers.FloatField()
    like_count = serializers.IntegerField()
    comment_count = serializers.IntegerField()
    published_at = serializers.DateTimeField(allow_null=True)
    url = serializers.CharField(help_text="The model's page.")


class BrowsePageOutput(serializers.Serializer):
    items = ModelCardOutput(many=True)
    next_cursor = serializers.CharField(allow_null=True, help_text="Pass as `cursor` for the next page.")


class VersionFilesOutput(serializers.Serializer):
    version_id = serializers.IntegerField()
    files = FileOutput(many=True)


class PartOutput(serializers.Serializer):
    PartNumber = serializers.IntegerField()  # S3's names, as its ListParts answers
    Size = serializers.IntegerField()
    ETag = serializers.CharField()


class UploadLookupInput(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=2**63 - 1)  # what a database id can be
    name = serializers.CharField(max_length=1000)
    size = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


class UnfinishedUploadOutput(StartedUploadOutput):
    parts = PartOutput(many=True, help_text="The parts storage holds, as listing an upload's parts gives.")
    uploaded_bytes = serializers.IntegerField(help_text="Bytes of the parts that arrived whole.")


class UnfinishedUploadsOutput(serializers.Serializer):
    uploads = UnfinishedUploadOutput(many=True)


class SignedPartOutput(serializers.Serializer):
    url = serializers.CharField(help_text="PUT the part's bytes here, with a Content-Length.")
    headers = serializers.DictField(child=serializers.CharField(), help_text="Headers to send with the PUT.")


def error_responses(*codes: int) -> dict:
    """The error answers an operation can give, for extend_schema(responses=...)."""
    described = {
        400: OpenApiResponse(
            OpenApiTypes.OBJECT,
            description='Invalid input: `{"detail": "..."}`, or `{"field": ["message"]}` per invalid field.',
        ),
        401: OpenApiResponse(DetailOutput, description="No credentials, or a wrong or revoked key."),
        403: OpenApiResponse(
            DetailOutput, description="Not yours to change, or a session write without its CSRF token."
        ),
        404: OpenApiResponse(DetailOutput, description="No such thing, or not yours to see."),
        429: OpenApiResponse(DetailOutput, description="Too many requests in a minute; try again shortly."),
    }
    return {code: described[code] for code in codes}


def file_json(model_file: ModelFile) -> dict:
    blob = model_file.blob
    return {
        "id": model_file.id,
        "version_id": model_file.version_id,
        "name": model_file.name,
        "type": model_file.type,
        "format": model_file.format,
        "format_label": model_file.get_format_display(),
        "size": model_file.size,
        "primary": model_file.is_primary and model_file.is_downloadable,  # publishing.ensure_primary
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
        "detected_summary": model_file.detection_summary,
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
        "nsfw_level": version.nsfw_level,
        "status": version.status,
        "publish_when_ready": version.publish_when_ready,
        "early_access_ends_at": iso_z(version.early_access_ends_at),
        "usage_control": version.usage_control,
        "recommended_vae": _recommended_vae_json(version),
        "files": [file_json(f) for f in version.files.all() if f.status != FileStatus.DELETED],
    }


def _recommended_vae_json(version: ModelVersion) -> dict | None:
    vae = version.recommended_vae_shown
    if vae is None:
        return None
    return {"model_id": vae.model_id, "version_id": vae.id, "name": f"{vae.model.name} {vae.name}"}


def _vae_choice(validated: dict) -> dict:
    """The API names the VAE by `recommended_vae_id`; the service takes `recommended_vae`."""
    if "recommended_vae_id" in validated:
        validated["recommended_vae"] = validated.pop("recommended_vae_id")
    return validated


def _own_version(request, version_id: int) -> ModelVersion:
    version = get_object_or_404(ModelVersion.objects.select_related("model", "base_model"), id=version_id)
    if version.model.owner_id != request.user.id:
        # Someone else's draft must not even be confirmed to exist.
        get_object_or_404(selectors.visible_models(request.user), id=version.model_id)
        raise PermissionDenied("Only the creator of this model can change it.")
    return version


def _own_upload(request, file_id: int) -> ModelFile:
    """The caller's own file: 404 when they may not see it (someone's upload in progress, a draft's
    file), 403 when it is a file they can see on someone else's version."""
    model_file = get_object_or_404(ModelFile.objects.select_related("version__model"), id=file_id)
    if model_file.version.model.owner_id != request.user.id:
        if selectors.file_is_visible(request.user, model_file):
            raise PermissionDenied("Only the creator of this model can change its files.")
        raise Http404
    return model_file


class CreatorAPIView(APIView):
    permission_classes = [IsAuthenticated]


def browse(request):
    """GET /api/hub/models: published models, with the filters and sorts of /models/ and cursor
    pagination; with `q`, the matches of /search/ instead, best first, in one page. A plain Django
    view rather than DRF: it is the hub's hottest read, public, and bench/load.py measures it against
    a bare Django baseline. The items are built by the database (selectors.browse_models_json)."""
    try:
        mask = _browse_mask(request)
        query = selectors.BrowseQuery.from_params(request.GET, levels=mask, default_limit=100)
        search = " ".join(request.GET.get("q", "").split())
        items, next_cursor = selectors.browse_models_json(request.user, query, search=search)
    except selectors.BadQuery as exc:
        return JsonResponse({"detail": str(exc)}, status=400)
    body = f'{{"items": [{",".join(items)}], "next_cursor": {json.dumps(next_cursor)}}}'
    return HttpResponse(body, content_type="application/json")


def _browse_mask(request) -> int:
    """`levels` (a browsing mask) wins over `nsfw` (true: every level, false: PG); neither: the
    viewer's own levels (preferences.api_mask)."""
    if request.GET.get("levels", "").strip():
        mask = parse_mask(request.GET["levels"])
        if mask is None:
            raise selectors.BadQuery("levels is a browsing mask, a whole number from 1 to 63.")
        return preferences.api_mask(request, asked=mask)
    asked = preferences.asked_flag(request.GET.get("nsfw"))
    return preferences.api_mask(request, asked=None if asked is None else models_nsfw_mask(asked))


class CreateModel(CreatorAPIView):
    @extend_schema(
        operation_id="create_model",
        summary="Create a model (a draft)",
        description="The model stays a draft, seen only by you, until you publish one of its versions.",
        tags=["models"],
        request=ModelInput,
        responses={201: CreatedModelOutput, **error_responses(400, 401, 403)},
    )
    def post(self, request):
        data = ModelInput(data=request.data)
        data.is_valid(raise_exception=True)
        model = services.create_model(owner=request.user, **_level_from_legacy(data.validated_data))
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


# /api/hub/models as the OpenAPI schema shows it: GET is browse(), POST is CreateModel. Not routed:
# models_collection below answers GET with the plain view before DRF runs (the hot path), and lends
# drf-spectacular this class to describe the URL (it documents a callback by its `.cls`).
# tests/test_openapi.py checks real answers against the schema.
class ModelsCollection(CreateModel):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(
        operation_id="browse_models",
        summary="Browse published models",
        description="The filters and sorts of the /models/ page, with cursor pagination. Public; "
        "only models of the viewer's content levels are listed: `levels` (a browsing mask, e.g. 3 for PG "
        "and PG-13) or `nsfw` (true: every level, false: PG only) choose others; without them, the levels "
        "the signed-in viewer chose, else PG only (docs/moderation.md#nsfw-levels).",
        tags=["models"],
        auth=[],
        parameters=[
            OpenApiParameter(
                "type",
                str,
                many=True,
                enum=ModelType.values,
                description="Model types (repeat or comma-separate).",
            ),
            OpenApiParameter("base_model", str, many=True, description='Base models, e.g. "SD 1.5".'),
            OpenApiParameter("tag", str, description="One tag."),
            OpenApiParameter("creator", str, description="A creator's username."),
            OpenApiParameter("period", str, enum=["day", "week", "month", "year", "all"], default="all"),
            OpenApiParameter("safetensors", bool, description="Only models with a safetensors file."),
            OpenApiParameter("sort", str, enum=list(selectors.SORTS), default="newest"),
            OpenApiParameter("limit", int, description=f"1 to {selectors.MAX_PAGE_SIZE}.", default=100),
            OpenApiParameter("cursor", str, description="`next_cursor` of the previous page."),
            OpenApiParameter("nsfw", bool, description="true: every level; false: PG only."),
            OpenApiParameter(
                "levels",
                int,
                description="A browsing mask (1 PG, 2 PG-13, 4 R, 8 X, 16 XXX); wins over `nsfw`.",
            ),
            OpenApiParameter(
                "q", str, description="Free-text search (as /search/): the best matches first, one page."
            ),
        ],
        responses={200: BrowsePageOutput, 400: OpenApiResponse(DetailOutput, description="A bad parameter.")},
    )
    def get(self, request):
        return browse(request._request)


@csrf_exempt  # as DRF's own views are: DRF checks CSRF itself for session-authenticated writes
def models_collection(request):
    """/api/hub/models: GET browses (plain view), POST creates a model (DRF, authenticated)."""
    if request.method == "GET":
        return browse(request)
    return CreateModel.as_view()(request)


models_collection.cls = ModelsCollection  # what drf-spectacular documents for this URL
models_collection.initkwargs = {}


class CreateVersion(CreatorAPIView):
    @extend_schema(
        operation_id="create_version",
        summary="Add a version to one of your models",
        tags=["models"],
        request=VersionInput,
        responses={201: VersionOutput, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request, model_id: int):
        model = get_object_or_404(selectors.visible_models(request.user), id=model_id)
        if model.owner_id != request.user.id:
            raise PermissionDenied("Only the creator of this model can add versions.")
        data = VersionInput(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.create_version(model=model, **_vae_choice(data.validated_data))
        return Response(version_json(version), status=status.HTTP_201_CREATED)


class PublishVersion(CreatorAPIView):
    @extend_schema(
        operation_id="publish_version",
        summary="Publish a version (and its model, the first time)",
        description="Publishes once every file has passed its checks: 200 when the version is public. "
        "While files are still being processed the publish is queued (202, `publish_when_ready`) and "
        "happens as soon as they pass. 400 says what is missing or which file was quarantined.",
        tags=["models"],
        request=None,
        responses={
            200: VersionOutput,
            202: OpenApiResponse(VersionOutput, description="Queued until the files pass their checks."),
            **error_responses(400, 401, 403, 404),
        },
    )
    def post(self, request, version_id: int):
        version = _own_version(request, version_id)
        version = services.publish_version(version=version, by=request.user)
        queued = version.status != PublishStatus.PUBLISHED
        return Response(
            version_json(version), status=status.HTTP_202_ACCEPTED if queued else status.HTTP_200_OK
        )


class VersionFiles(APIView):
    """The files of a version and where each is in the pipeline; the pages poll this."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="list_version_files",
        summary="A version's files and their processing status",
        description="Hashes, detected type and hints appear once a file is processed. Drafts are "
        "visible to their creator (and moderators) only.",
        tags=["models"],
        responses={200: VersionFilesOutput, **error_responses(401, 404)},
    )
    def get(self, request, version_id: int):
        version = get_object_or_404(ModelVersion.objects.select_related("model", "base_model"), id=version_id)
        get_object_or_404(selectors.visible_models(request.user), id=version.model_id)
        if not selectors.visible_versions(request.user, version.model).filter(id=version.id).exists():
            raise Http404
        files = selectors.visible_files(request.user, version)
        return Response({"version_id": version.id, "files": [file_json(f) for f in files]})


def over_upload_limits(request) -> bool:
    """Count one more upload start by this user and this address this minute; True past either limit."""
    over_user = rate_limits.over_limit("upload-start-user", request.user.id, settings.UPLOAD_RATE_LIMIT)
    address = request.META.get("REMOTE_ADDR", "")
    over_ip = bool(address) and rate_limits.over_limit(
        "upload-start-ip", address, settings.UPLOAD_IP_RATE_LIMIT
    )
    return over_user or over_ip


class StartUpload(CreatorAPIView):
    @extend_schema(
        operation_id="start_upload",
        summary="Start a resumable multipart upload of one file",
        description="Size and file type are checked before any byte is sent, and so are your other "
        "uploads in progress: at most `MAX_OPEN_UPLOADS` at once, declaring at most "
        "`MAX_OPEN_UPLOAD_BYTES` together (400 otherwise: finish or cancel one first). Then, per part: "
        "sign its URL, PUT exactly the part's bytes there; list the parts to resume; complete. An "
        "upload left without a part signed for `ABANDONED_UPLOAD_AFTER` (7 days) is stopped and its "
        "parts deleted. More than `UPLOAD_RATE_LIMIT` starts a minute by a user (or "
        "`UPLOAD_IP_RATE_LIMIT` by an address) get 429.",
        tags=["uploads"],
        request=UploadInput,
        responses={201: StartedUploadOutput, **error_responses(400, 401, 403, 404, 429)},
    )
    def post(self, request):
        data = UploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        version = _own_version(request, values.pop("version_id"))
        if over_upload_limits(request):
            return Response(
                {"detail": gettext("Too many uploads started in a minute; try again shortly.")},
                status=429,
                headers={"Retry-After": "60"},
            )
        model_file = services.start_upload(version=version, by=request.user, **values)
        return Response(
            {
                **file_json(model_file),
                "key": str(model_file.id),
                "uploadId": model_file.multipart_upload_id,
                "part_size": model_file.part_size,
            },
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        operation_id="find_unfinished_uploads",
        summary="Unfinished uploads of a file (to resume one from another browser or machine)",
        description="Your uploads to `version` still in progress for a file of this `name` and `size`, "
        "newest first, with the parts storage already holds. A part's `ETag` is the MD5 of its bytes "
        "(quoted, as S3 gives it): compare it with the same slice of your file and send again any part "
        "that differs, so a different file that happens to share the name and size is never joined "
        "onto it. Then sign the missing parts and complete, as for any upload.",
        tags=["uploads"],
        parameters=[
            OpenApiParameter("version", int, required=True, description="The version's id."),
            OpenApiParameter("name", str, required=True, description="The file's name."),
            OpenApiParameter("size", int, required=True, description="The file's size in bytes."),
        ],
        responses={200: UnfinishedUploadsOutput, **error_responses(400, 401, 403, 404)},
    )
    def get(self, request):
        query = UploadLookupInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        version = _own_version(request, query.validated_data["version"])
        found = []
        for model_file in selectors.unfinished_uploads(
            version, name=query.validated_data["name"], size=query.validated_data["size"]
        ):
            try:
                parts = storage.list_parts(
                    key=model_file.upload_key, upload_id=model_file.multipart_upload_id
                )
            except storage.UploadGone:
                continue  # completing it will say so; nothing here to resume
            whole = [p for p in parts if p["Size"] == model_file.expected_part_size(p["PartNumber"])]
            found.append(
                {
                    **file_json(model_file),
                    "key": str(model_file.id),
                    "uploadId": model_file.multipart_upload_id,
                    "part_size": model_file.upload_part_size,
                    "parts": parts,
                    "uploaded_bytes": sum(p["Size"] for p in whole),
                }
            )
        return Response({"uploads": found})


class UploadParts(CreatorAPIView):
    @extend_schema(
        operation_id="list_upload_parts",
        summary="The parts received so far (to resume an upload)",
        tags=["uploads"],
        responses={200: PartOutput(many=True), **error_responses(400, 401, 403, 404)},
    )
    def get(self, request, file_id: int):
        model_file = _own_upload(request, file_id)
        return Response(services.uploaded_parts(model_file=model_file))


class SignPart(CreatorAPIView):
    @extend_schema(
        operation_id="sign_upload_part",
        summary="A short-lived URL to PUT one part to",
        description="A presigned S3 URL, or on local storage the hub's own `/api/hub/parts/<token>`. "
        "The PUT must carry exactly the part's length: `part_size` bytes, the last part the rest of "
        "the declared size. Only parts 1 to ceil(size / part_size) exist; others are a 400.",
        tags=["uploads"],
        request=None,
        responses={200: SignedPartOutput, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request, file_id: int, part_number: int):
        model_file = _own_upload(request, file_id)
        url = services.part_upload_url(model_file=model_file, part_number=part_number)
        return Response(
            {"url": request.build_absolute_uri(url) if url.startswith("/") else url, "headers": {}}
        )


class CompleteUpload(CreatorAPIView):
    @extend_schema(
        operation_id="complete_upload",
        summary="Finish an upload and queue the file for processing",
        description="Checks that every part arrived with exactly its expected size; the file is then "
        "`pending`. Poll the version's files for its progress. A refusal (400) is final: the upload "
        "becomes `rejected` with the reason, its parts are deleted, and the file must be uploaded again.",
        tags=["uploads"],
        request=None,
        responses={200: FileOutput, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request, file_id: int):
        model_file = _own_upload(request, file_id)
        model_file = services.complete_upload(model_file=model_file, by=request.user)
        return Response(file_json(model_file))


class AbortUpload(CreatorAPIView):
    @extend_schema(
        operation_id="abort_upload",
        summary="Cancel an upload in progress",
        tags=["uploads"],
        responses={204: None, **error_responses(400, 401, 403, 404)},
    )
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

    @extend_schema(
        operation_id="put_upload_part",
        summary="Receive one part's bytes (local storage only)",
        description="The URL comes from signing a part and carries its own signature: send no "
        "credentials. On S3 the signed URL points at the bucket instead.",
        tags=["uploads"],
        request={"application/octet-stream": OpenApiTypes.BINARY},
        responses={
            200: OpenApiResponse(description="Stored; the `ETag` header is the part's MD5, as S3's."),
            400: OpenApiResponse(
                DetailOutput,
                description="Shorter than the part must be, or the body did not match its Content-Length.",
            ),
            403: OpenApiResponse(DetailOutput, description="The URL is invalid or has expired."),
            404: OpenApiResponse(DetailOutput, description="The upload is finished or was cancelled."),
            411: OpenApiResponse(DetailOutput, description="No Content-Length."),
            413: OpenApiResponse(
                DetailOutput, description="Longer than the part must be for the file's declared size."
            ),
        },
    )
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
        # Checked before reading a byte, and save_local_part reads no more than this (issue 11).
        expected = model_file.expected_part_size(claim["p"]) or 0
        if length != expected:
            return Response(
                {
                    "detail": f"Part {claim['p']} of {model_file.name!r} must be exactly "
                    f"{services.byte_count(expected)} (the file was announced as "
                    f"{services.byte_count(model_file.size)}); this one has {services.byte_count(length)}."
                },
                status=413 if length > expected else 400,
            )
        try:
            etag = storage.save_local_part(
                upload_id=claim["u"],
                part_number=claim["p"],
                offset=(claim["p"] - 1) * model_file.upload_part_size,
                stream=request.stream,
                length=length,
            )
        except ValueError as exc:
            return Response({"detail": str(exc)}, status=400)
        except FileNotFoundError:
            return Response({"detail": "This upload is finished or was cancelled."}, status=404)
        response = Response(status=200)
        response["ETag"] = etag
        return response


# --- Editing, unpublishing and deleting (issue 12, docs/editing.md): the creator or a moderator.


class ModelPatchInput(serializers.Serializer):
    """Only the fields sent are changed."""

    name = serializers.CharField(max_length=MAX_MODEL_NAME_LENGTH, required=False)
    type = serializers.ChoiceField(choices=ModelType.choices, required=False)
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=MAX_DESCRIPTION_LENGTH, help_text="Markdown."
    )
    tags = serializers.ListField(child=serializers.CharField(max_length=TAG_MAX_LENGTH), required=False)
    nsfw_level = level_input(required=False)
    nsfw = serializers.BooleanField(required=False, help_text=LEGACY_NSFW_HELP)
    license = serializers.CharField(required=False, allow_blank=True, max_length=MAX_LICENSE_LENGTH)
    allow_no_credit = serializers.BooleanField(required=False)
    allow_derivatives = serializers.BooleanField(required=False)
    allow_different_license = serializers.BooleanField(required=False)
    allow_commercial_images = serializers.BooleanField(required=False)
    allow_commercial_rent = serializers.BooleanField(required=False)
    allow_commercial_sell = serializers.BooleanField(required=False)
    require_login = serializers.BooleanField(required=False)


class VersionPatchInput(serializers.Serializer):
    """Only the fields sent are changed."""

    name = serializers.CharField(max_length=MAX_VERSION_NAME_LENGTH, required=False)
    base_model = serializers.SlugRelatedField(
        slug_field="name", queryset=BaseModel.objects.filter(is_active=True), required=False
    )
    trained_words = serializers.ListField(
        child=serializers.CharField(max_length=MAX_TRIGGER_WORD_LENGTH), required=False
    )
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=MAX_DESCRIPTION_LENGTH, help_text="Markdown."
    )
    nsfw_level = level_input(required=False)
    early_access_days = serializers.IntegerField(
        required=False, min_value=0, max_value=services.MAX_EARLY_ACCESS_DAYS
    )
    # Only the options the hub can honour (models.OFFERED_USAGE_CONTROLS), as when the version was created.
    usage_control = serializers.ChoiceField(choices=OFFERED_USAGE_CONTROLS, required=False)
    recommended_vae_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="A published VAE version to recommend with this one; null removes the recommendation.",
    )


class ModelOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    type = serializers.ChoiceField(choices=ModelType.choices)
    status = serializers.ChoiceField(choices=PublishStatus.choices)
    description = serializers.CharField()
    description_html = serializers.CharField(help_text="The description rendered and sanitised.")
    tags = serializers.ListField(child=serializers.CharField())
    nsfw = serializers.BooleanField(help_text="Above PG-13.")
    nsfw_level = serializers.IntegerField(help_text=LEVEL_HELP)
    license = serializers.CharField()
    allow_no_credit = serializers.BooleanField()
    allow_derivatives = serializers.BooleanField()
    allow_different_license = serializers.BooleanField()
    allow_commercial_images = serializers.BooleanField()
    allow_commercial_rent = serializers.BooleanField()
    allow_commercial_sell = serializers.BooleanField()
    require_login = serializers.BooleanField()
    url = serializers.CharField(help_text="The model's page.")


def model_json(model) -> dict:
    return {
        "id": model.id,
        "name": model.name,
        "slug": model.slug,
        "type": model.type,
        "status": model.status,
        "description": model.description,
        "description_html": model.description_html,
        "tags": [tag.name for tag in model.tags.all()],
        "nsfw": model.nsfw,
        "nsfw_level": model.nsfw_level,
        **{name: getattr(model, name) for name in services.LICENSE_FIELDS},
        "url": model.get_absolute_url(),
    }


def _managed(request, row, model):
    """`row` (of `model`) when the caller is its creator or a moderator: 404 when they may not even
    see it (someone's draft or unpublished model stays unconfirmed), 403 when they see it."""
    if selectors.can_manage(request.user, model):
        return row
    if selectors.visible_models(request.user).filter(id=model.id).exists():
        raise PermissionDenied("Only the creator of this model or a moderator can change it.")
    raise Http404


def _managed_model(request, model_id: int):
    model = get_object_or_404(selectors.visible_models(request.user), id=model_id)
    return _managed(request, model, model)


def _managed_version(request, version_id: int) -> ModelVersion:
    version = get_object_or_404(
        ModelVersion.objects.select_related("model", "base_model").exclude(status=PublishStatus.DELETED),
        id=version_id,
    )
    get_object_or_404(selectors.visible_models(request.user), id=version.model_id)
    return _managed(request, version, version.model)


def _managed_file(request, file_id: int) -> ModelFile:
    model_file = get_object_or_404(
        ModelFile.objects.select_related("version__model").exclude(status=FileStatus.DELETED), id=file_id
    )
    if selectors.can_manage(request.user, model_file.version.model):
        if model_file.version.status == PublishStatus.DELETED:
            raise Http404
        return model_file
    if selectors.file_is_visible(request.user, model_file):
        raise PermissionDenied("Only the creator of this model or a moderator can change its files.")
    raise Http404


class ManageModel(CreatorAPIView):
    @extend_schema(
        operation_id="update_model",
        summary="Change a model's details",
        description="Creator or moderator. Only the fields sent change. A new name gives the model a "
        "new slug; the old one keeps working (the page redirects, the Hugging Face repo id resolves).",
        tags=["models"],
        request=ModelPatchInput,
        responses={200: ModelOutput, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request, model_id: int):
        model = _managed_model(request, model_id)
        data = ModelPatchInput(data=request.data)
        data.is_valid(raise_exception=True)
        model = services.update_model(model=model, by=request.user, **_level_from_legacy(data.validated_data))
        return Response(model_json(model))

    @extend_schema(
        operation_id="delete_model",
        summary="Delete a model, its versions and files",
        description="Creator or moderator. Deleting is final for everyone, the creator included; stored "
        "bytes are released once no other file uses them.",
        tags=["models"],
        responses={204: None, **error_responses(400, 401, 403, 404)},
    )
    def delete(self, request, model_id: int):
        model = _managed_model(request, model_id)
        services.delete_model(model=model, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UnpublishModel(CreatorAPIView):
    @extend_schema(
        operation_id="unpublish_model",
        summary="Unpublish a model and all its versions",
        description="It leaves every listing, search and API, and its downloads stop; the creator still "
        "sees it and can publish a version again.",
        tags=["models"],
        request=None,
        responses={200: ModelOutput, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request, model_id: int):
        model = _managed_model(request, model_id)
        model = services.unpublish_model(model=model, by=request.user)
        return Response(model_json(model))


class ManageVersion(CreatorAPIView):
    @extend_schema(
        operation_id="update_version",
        summary="Change a version's details",
        description="Creator or moderator. Only the fields sent change. The early-access window of a "
        "published version counts from its publish date.",
        tags=["models"],
        request=VersionPatchInput,
        responses={200: VersionOutput, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request, version_id: int):
        version = _managed_version(request, version_id)
        data = VersionPatchInput(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.update_version(
            version=version, by=request.user, **_vae_choice(data.validated_data)
        )
        return Response(version_json(version))

    @extend_schema(
        operation_id="delete_version",
        summary="Delete a version (a draft or a published one) and its files",
        tags=["models"],
        responses={204: None, **error_responses(400, 401, 403, 404)},
    )
    def delete(self, request, version_id: int):
        version = _managed_version(request, version_id)
        services.delete_version(version=version, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UnpublishVersion(CreatorAPIView):
    @extend_schema(
        operation_id="unpublish_version",
        summary="Unpublish a version",
        description="It leaves every listing, search and API and its downloads stop (its model too when "
        "no other version is public); publish it again with the publish operation.",
        tags=["models"],
        request=None,
        responses={200: VersionOutput, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request, version_id: int):
        version = _managed_version(request, version_id)
        version = services.unpublish_version(version=version, by=request.user)
        return Response(version_json(version))


class ManageFile(CreatorAPIView):
    @extend_schema(
        operation_id="delete_file",
        summary="Delete a file (or cancel its unfinished upload)",
        description="An upload still in progress is stopped and its parts deleted. When the primary file "
        "goes, the next ready file becomes primary. The bytes stay while another file uses them.",
        tags=["models"],
        responses={204: None, **error_responses(400, 401, 403, 404)},
    )
    def delete(self, request, file_id: int):
        model_file = _managed_file(request, file_id)
        services.delete_file(model_file=model_file, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PrimaryFile(CreatorAPIView):
    @extend_schema(
        operation_id="set_primary_file",
        summary="Make a file the version's primary file",
        description="The file tools download by default. Only a ready file can be primary: 409 for one "
        "that is uploading, processing, rejected or quarantined.",
        tags=["models"],
        request=None,
        responses={
            200: FileOutput,
            409: OpenApiResponse(DetailOutput, description="The file is not ready."),
            **error_responses(401, 403, 404),
        },
    )
    def post(self, request, file_id: int):
        model_file = _managed_file(request, file_id)
        try:
            model_file = services.set_primary_file(model_file=model_file, by=request.user)
        except services.NotReady as exc:
            return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_409_CONFLICT)
        return Response(file_json(model_file))

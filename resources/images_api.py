"""The hub API for images (docs/images.md#api): one image with its settings and resources, and a
multipart upload for scripts. Mounted under /api/hub/ by resources/urls_images.py."""

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotAuthenticated
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from models_app.api import LEVEL_HELP, error_responses, level_input
from models_app.download_views import MAX_ID, public_user
from models_app.selectors import can_moderate

from . import images, workflows
from .image_views import image_path
from .models import Image, ImageStatus, Post


class ImageResourceVersionOutput(serializers.Serializer):
    model_id = serializers.IntegerField()
    version_id = serializers.IntegerField()
    sha256 = serializers.CharField(allow_null=True)


class ResourceOutput(serializers.Serializer):
    kind = serializers.CharField(help_text="checkpoint, lora, embedding, vae, ...")
    name = serializers.CharField(allow_blank=True)
    hash = serializers.CharField(allow_null=True)
    weight = serializers.FloatField(allow_null=True)
    resolved = ImageResourceVersionOutput(
        allow_null=True, help_text="The hub version holding a file with this hash."
    )


class ImageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField(help_text="The image's stable address (no GPS or camera facts in it).")
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    nsfw_level = serializers.IntegerField(help_text=LEVEL_HELP)
    meta = serializers.DictField(
        allow_null=True,
        help_text="Generation settings with CivitAI's keys (prompt, negativePrompt, steps, sampler, "
        "cfgScale, seed, Size, Model, clipSkip, ...), or null.",
    )
    resources = ResourceOutput(many=True)
    workflow = serializers.DictField(
        allow_null=True,
        help_text="The ComfyUI workflow the image carries, as GET /api/hub/versions/<id>/workflow "
        "describes one (format, nodes, links, models with `resolved`, custom node types and packs), or null.",
    )


class ImageStateOutput(serializers.Serializer):
    id = serializers.IntegerField()
    post_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ImageStatus.choices)
    message = serializers.CharField(allow_blank=True, help_text="Why it was rejected, as a sentence.")
    nsfw_level = serializers.IntegerField(help_text=LEVEL_HELP)


class UploadImageInput(serializers.Serializer):
    file = serializers.FileField(help_text="A PNG, JPEG, WebP or GIF image.")
    version_id = serializers.IntegerField(required=False, help_text="The version it was made with.")
    post_id = serializers.IntegerField(required=False, help_text="One of your posts to add it to.")
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    nsfw_level = level_input(required=False, default=1)


class ImagePatchInput(serializers.Serializer):
    nsfw_level = level_input()


def image_json(request, image: Image) -> dict:
    return {
        "id": image.id,
        "url": request.build_absolute_uri(image_path(image)),
        "width": image.width,
        "height": image.height,
        "nsfw_level": image.nsfw_level,
        "meta": image.meta if isinstance(image.meta, dict) else None,
        "resources": images.image_resources(image),
        "workflow": workflows.summary_of_text(image.workflow or image.prompt_graph),
    }


def state_json(image: Image) -> dict:
    return {
        "id": image.id,
        "post_id": image.post_id,
        "status": image.status,
        "message": image.status_message,
        "nsfw_level": image.nsfw_level,
    }


class ImageDetail(APIView):
    @extend_schema(
        operation_id="get_image",
        summary="An image with its generation settings and resources",
        description="Public for published images. The uploader asking about an image that is still "
        "being processed or was rejected gets 409 with its status and the sentence saying why.",
        tags=["images"],
        responses={
            200: ImageOutput,
            409: OpenApiResponse(ImageStateOutput, description="Not ready: processing, or rejected."),
            **error_responses(404),
        },
    )
    def get(self, request, image_id: int):
        if image_id > MAX_ID:
            raise Http404
        image = images.visible_images(public_user(request)).filter(id=image_id).first()
        if image is None:
            own = Image.objects.filter(id=image_id, owner_id=request.user.id).first()
            if own is None or not request.user.is_authenticated:
                raise Http404
            return Response(state_json(own), status=status.HTTP_409_CONFLICT)
        return Response(image_json(request, image))

    @extend_schema(
        operation_id="update_image",
        summary="Change an image's content level",
        description="Its uploader or a moderator. `nsfw_level` is CivitAI's bit value (docs/moderation.md#nsfw-levels).",
        tags=["images"],
        request=ImagePatchInput,
        responses={200: ImageStateOutput, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request, image_id: int):
        if not request.user.is_authenticated:
            raise NotAuthenticated
        image = Image.objects.filter(id=image_id).first() if image_id <= MAX_ID else None
        if image is None or not (image.owner_id == request.user.id or can_moderate(request.user)):
            raise Http404
        data = ImagePatchInput(data=request.data)
        data.is_valid(raise_exception=True)
        image = images.set_image_level(
            image=image, by=request.user, nsfw_level=data.validated_data["nsfw_level"]
        )
        return Response(state_json(image))


class UploadImage(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="upload_image",
        summary="Post an image (multipart)",
        description="Stores the file and queues it for the worker, like every upload: the answer is "
        "202 with the image id; GET /api/hub/images/{id} answers once it is ready (409 with the reason "
        "while not). Without post_id a new post holds it. For files too big for one request, use the "
        "resumable upload of a version's files with type Image.",
        tags=["images"],
        request={"multipart/form-data": UploadImageInput},
        responses={202: ImageStateOutput, **error_responses(400, 401, 403)},
    )
    def post(self, request):
        data = UploadImageInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        post = None
        if values.get("post_id") is not None:
            post = Post.objects.filter(id=values["post_id"]).first()
            if post is None:
                return Response({"detail": "There is no post with this id."}, status=400)
        version_ids = [values["version_id"]] if values.get("version_id") is not None else []
        if post is None:
            post = images.create_post(
                owner=request.user, title=values.get("title", ""), version_ids=version_ids
            )
        upload = values["file"]
        image = images.add_image(owner=request.user, name=upload.name, content=upload, post=post,
                                 version_ids=version_ids, nsfw_level=values["nsfw_level"])  # fmt: skip
        return Response(state_json(image), status=status.HTTP_202_ACCEPTED)

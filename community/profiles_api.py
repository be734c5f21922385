"""/api/hub/users/<username> (a public profile with its figures) and /api/hub/profile (your own,
to read and PATCH) (docs/profiles.md#api). The same service as /settings/profile."""

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from models_app.api import error_responses
from models_app.dates import iso_z
from resources.models import ImageStatus

from . import profiles
from .collections_api import TOO_MANY
from .models import MAX_BIO_LENGTH, MAX_LINK_LENGTH, MAX_PROFILE_LINKS


class ProfilePatchInput(serializers.Serializer):
    bio = serializers.CharField(
        required=False, allow_blank=True, max_length=MAX_BIO_LENGTH, help_text="Markdown."
    )
    links = serializers.ListField(
        child=serializers.CharField(max_length=MAX_LINK_LENGTH, allow_blank=True),
        required=False,
        max_length=MAX_PROFILE_LINKS,
        help_text=f"Up to {MAX_PROFILE_LINKS} http:// or https:// addresses; the list replaces the old one.",
    )


class AvatarInput(serializers.Serializer):
    avatar = serializers.FileField(help_text="A PNG, JPEG or WebP image, at most 5 MB.")


class AvatarOutput(serializers.Serializer):
    image_id = serializers.IntegerField(help_text="The posted image (GET /api/hub/images/{id}).")
    status = serializers.ChoiceField(choices=ImageStatus.choices)
    message = serializers.CharField(allow_blank=True, help_text="Why the worker refused it, as a sentence.")
    avatar_url = serializers.CharField(allow_null=True, help_text="The thumbnail, once it is ready.")


def avatar_json(image) -> dict:
    return {
        "image_id": image.id,
        "status": image.status,
        "message": image.status_message if image.status == ImageStatus.REJECTED else "",
        "avatar_url": f"/images/thumbnails/{image.id}.webp" if image.is_ready else None,
    }


class StatsOutput(serializers.Serializer):
    models = serializers.IntegerField(help_text="Models you may see.")
    followers = serializers.IntegerField()
    downloads = serializers.IntegerField(help_text="Downloads of those models.")
    thumbs_up = serializers.IntegerField(help_text="Recommending reviews of those models.")
    thumbs_down = serializers.IntegerField()


class ProfileOutput(serializers.Serializer):
    username = serializers.CharField()
    joined_at = serializers.DateTimeField()
    bio = serializers.CharField(allow_blank=True, help_text="The Markdown as written.")
    bio_html = serializers.CharField(allow_blank=True, help_text="Rendered and sanitised, safe to show.")
    links = serializers.ListField(child=serializers.CharField())
    avatar_url = serializers.CharField(allow_null=True, help_text="The avatar's thumbnail, once it is ready.")
    url = serializers.CharField()
    stats = StatsOutput()


def profile_json(person, viewer) -> dict:
    from models_app.selectors import visible_models

    profile = profiles.profile_of(person)
    avatar = profiles.avatar_state(profile)["image"]
    return {
        "username": person.username,
        "joined_at": iso_z(person.date_joined),
        "bio": profile.bio if profile else "",
        "bio_html": profile.bio_html if profile else "",
        "links": list(profile.links) if profile else [],
        "avatar_url": f"/images/thumbnails/{avatar.id}.webp" if avatar else None,
        "url": f"/user/{person.username}",
        "stats": {
            "models": visible_models(viewer).filter(owner=person).count(),
            **profiles.profile_stats(person, viewer),
        },
    }


class PublicProfile(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="get_user_profile",
        summary="A user's public profile and figures",
        tags=["profiles"],
        responses={200: ProfileOutput, **error_responses(401, 404)},
    )
    def get(self, request, username: str):
        person = get_object_or_404(get_user_model(), username=username, is_active=True)
        return Response(profile_json(person, request.user))


class OwnProfile(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="get_own_profile",
        summary="Your profile",
        tags=["profiles"],
        responses={200: ProfileOutput, **error_responses(401)},
    )
    def get(self, request):
        return Response(profile_json(request.user, request.user))

    @extend_schema(
        operation_id="update_own_profile",
        summary="Change your bio or links",
        description="Only the fields given change. A link that is not http:// or https:// is refused "
        "(400). The avatar is set with POST /api/hub/profile/avatar or on /settings/profile.",
        tags=["profiles"],
        request=ProfilePatchInput,
        responses={200: ProfileOutput, **error_responses(400, 401, 403), 429: TOO_MANY},
    )
    def patch(self, request):
        data = ProfilePatchInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            profiles.update_profile(user=request.user, changes=data.validated_data)
        except profiles.ProfileRefused as refused:
            return Response(refused.body(), status=refused.status)
        return Response(profile_json(request.user, request.user))


class OwnAvatar(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="set_own_avatar",
        summary="Set your avatar (multipart)",
        description="The image is posted like any other and checked by the worker (docs/profiles.md#avatar): "
        "202 with its state; GET this again to see it `ready` or `rejected` with the reason. A name that is "
        "not .png, .jpg, .jpeg or .webp, or a file over 5 MB, is refused at once (400).",
        tags=["profiles"],
        request={"multipart/form-data": AvatarInput},
        responses={202: AvatarOutput, **error_responses(400, 401, 403), 429: TOO_MANY},
    )
    def post(self, request):
        data = AvatarInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["avatar"]
        try:
            profile = profiles.set_avatar(
                user=request.user, name=upload.name, content=upload, size=upload.size
            )
        except profiles.ProfileRefused as refused:
            return Response(refused.body(), status=refused.status)
        return Response(avatar_json(profile.avatar), status=202)

    @extend_schema(
        operation_id="get_own_avatar",
        summary="Your avatar's state",
        tags=["profiles"],
        responses={200: AvatarOutput, **error_responses(401, 404)},
    )
    def get(self, request):
        profile = profiles.profile_of(request.user)
        if profile is None or profile.avatar is None:
            return Response({"detail": "You have no avatar."}, status=404)
        return Response(avatar_json(profile.avatar))

    @extend_schema(
        operation_id="remove_own_avatar",
        summary="Remove your avatar",
        description="204 whether or not you had one; the posted image stays yours.",
        tags=["profiles"],
        responses={204: None, **error_responses(401, 403)},
    )
    def delete(self, request):
        profiles.remove_avatar(user=request.user)
        return Response(status=204)

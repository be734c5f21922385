"""/api/hub/follows and /api/hub/feed (docs/follows.md): the same services as the pages, with an
API key (or the session)."""

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from models_app import preferences
from models_app.api import DetailOutput, error_responses
from models_app.dates import iso_z
from models_app.levels import models_nsfw_mask

from . import follows
from .models import Follow


class FollowInput(serializers.Serializer):
    target_type = serializers.ChoiceField(choices=["user", "model"])
    target_id = serializers.IntegerField(min_value=1)


class FollowOutput(serializers.Serializer):
    id = serializers.IntegerField()
    target_type = serializers.ChoiceField(choices=["user", "model"])
    target_id = serializers.IntegerField()
    name = serializers.CharField(help_text="The creator's username or the model's name.")
    url = serializers.CharField()
    created_at = serializers.DateTimeField()


class FollowsOutput(serializers.Serializer):
    items = FollowOutput(many=True)


class FeedItemOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["version", "image"])
    id = serializers.IntegerField(help_text="The version's or the image's id.")
    name = serializers.CharField()
    url = serializers.CharField()
    date = serializers.DateTimeField(help_text="When the version was published or the image posted.")
    model_id = serializers.IntegerField(allow_null=True)
    model_name = serializers.CharField(allow_blank=True)
    creator = serializers.CharField()


class FeedOutput(serializers.Serializer):
    items = FeedItemOutput(many=True)
    page = serializers.IntegerField()
    next_page = serializers.IntegerField(allow_null=True)


def follow_json(row: Follow) -> dict:
    if row.creator_id:
        person = row.creator
        target = ("user", person.id, person.username, f"/user/{person.username}")
    else:
        target = ("model", row.model_id, row.model.name, row.model.get_absolute_url())
    return {
        "id": row.id,
        "target_type": target[0],
        "target_id": target[1],
        "name": target[2],
        "url": target[3],
        "created_at": iso_z(row.created_at),
    }


def _target(request) -> dict:
    data = FollowInput(data=request.data)
    data.is_valid(raise_exception=True)
    target = follows.find_target(
        request.user, data.validated_data["target_type"], data.validated_data["target_id"]
    )
    if target is None:
        raise Http404
    return target


class Follows(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="list_follows",
        summary="What you follow",
        tags=["community"],
        responses={200: FollowsOutput, **error_responses(401)},
    )
    def get(self, request):
        return Response({"items": [follow_json(row) for row in follows.follows_of(request.user)[:1000]]})

    @extend_schema(
        operation_id="follow",
        summary="Follow a creator or a model",
        description="201 with the follow; 200 when you already follow it. You can't follow yourself (400).",
        tags=["community"],
        request=FollowInput,
        responses={
            201: FollowOutput,
            200: FollowOutput,
            **error_responses(400, 401, 403, 404),
            429: OpenApiResponse(DetailOutput, description="Too many follows in a minute."),
        },
    )
    def post(self, request):
        target = _target(request)
        try:
            row, created = follows.follow(follower=request.user, target=target)
        except ValidationError as exc:
            return Response({"detail": exc.messages[0]}, status=status.HTTP_400_BAD_REQUEST)
        except follows.RateLimited as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_429_TOO_MANY_REQUESTS)
        row = Follow.objects.select_related("creator", "model").get(id=row.id)
        return Response(follow_json(row), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        operation_id="unfollow",
        summary="Stop following a creator or a model",
        description="204 whether or not you followed it.",
        tags=["community"],
        request=FollowInput,
        responses={204: None, **error_responses(400, 401, 403, 404)},
    )
    def delete(self, request):
        follows.unfollow(follower=request.user, target=_target(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class OneFollow(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="delete_follow",
        summary="Stop following, by the follow's id",
        tags=["community"],
        responses={204: None, **error_responses(401, 403, 404)},
    )
    def delete(self, request, follow_id: int):
        get_object_or_404(Follow, id=follow_id, follower=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class Feed(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="feed",
        summary="Your feed: new versions and images of what you follow",
        description="Newest first, of your content levels only (docs/moderation.md#nsfw-levels): "
        "`nsfw=true` asks for every level, `nsfw=false` for PG only.",
        tags=["community"],
        parameters=[
            OpenApiParameter("page", int, default=1, description=f"1 to {follows.MAX_FEED_PAGE}."),
            OpenApiParameter(
                "nsfw", bool, description="true: every level; false: PG only; absent: your levels."
            ),
        ],
        responses={200: FeedOutput, **error_responses(400, 401)},
    )
    def get(self, request):
        try:
            page = int(request.query_params.get("page", 1))
        except ValueError:
            page = 0
        if not 1 <= page <= follows.MAX_FEED_PAGE:
            return Response(
                {"detail": f"page must be a number from 1 to {follows.MAX_FEED_PAGE}."},
                status=status.HTTP_400_BAD_REQUEST,
            )
        asked = preferences.asked_flag(request.query_params.get("nsfw"))
        mask = preferences.api_mask(
            request._request, asked=None if asked is None else models_nsfw_mask(asked)
        )
        items, has_next = follows.feed(request.user, levels=mask, page=page)
        return Response(
            {
                "items": [
                    {
                        "kind": i.kind,
                        "id": i.id,
                        "name": i.name,
                        "url": i.url,
                        "date": iso_z(i.date),
                        "model_id": i.model_id,
                        "model_name": i.model_name,
                        "creator": i.creator,
                    }
                    for i in items
                ],
                "page": page,
                "next_page": page + 1 if has_next else None,
            }
        )

"""The review API under /api/hub/versions/<id>/: PUT and DELETE your own review, GET everyone's
(docs/reviews.md#api). The same service as the model page's form (community/reviews.py)."""

from django.core.paginator import Paginator
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from models_app.api import DetailOutput, error_responses

from . import reviews
from .models import MAX_REVIEW_LENGTH

PAGE_SIZE = 20


class ReviewInput(serializers.Serializer):
    recommended = serializers.BooleanField()
    text = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=MAX_REVIEW_LENGTH,
        help_text=f"Markdown, at most {MAX_REVIEW_LENGTH:,} characters.",
    )


class ReviewOutput(serializers.Serializer):
    id = serializers.IntegerField()
    version_id = serializers.IntegerField()
    user = serializers.CharField(help_text="The reviewer's username.")
    recommended = serializers.BooleanField()
    text = serializers.CharField(help_text="The Markdown as written.")
    text_html = serializers.CharField(help_text="The text rendered and sanitised, safe to show.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ReviewPageOutput(serializers.Serializer):
    items = ReviewOutput(many=True)
    count = serializers.IntegerField(help_text="Visible reviews of the version.")
    recommended_count = serializers.IntegerField()
    next_page = serializers.IntegerField(allow_null=True, help_text="Pass as `page` for the next page.")


def _refused(refused: reviews.ReviewRefused) -> Response:
    return Response(refused.body(), status=refused.status)


class VersionReview(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="put_version_review",
        summary="Review a version (create or replace your review)",
        description="One review per user and version: a second PUT replaces the first (201 when "
        "created, 200 when replaced). The model's creator can't review it (400); an account younger "
        "than an hour without a confirmed email gets 403; more than REVIEW_RATE_LIMIT writes a "
        "minute get 429.",
        tags=["reviews"],
        request=ReviewInput,
        responses={
            200: ReviewOutput,
            201: ReviewOutput,
            **error_responses(400, 401, 403, 404),
            429: DetailOutput,
        },
    )
    def put(self, request, version_id: int):
        version = reviews.reviewable_version(request.user, version_id)
        data = ReviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            review, created = reviews.submit_review(
                request.user, version, data.validated_data["recommended"], data.validated_data["text"]
            )
        except reviews.ReviewRefused as refused:
            return _refused(refused)
        return Response(reviews.review_json(review), status=201 if created else 200)

    @extend_schema(
        operation_id="delete_version_review",
        summary="Delete your review of a version",
        tags=["reviews"],
        responses={204: None, **error_responses(401, 404)},
    )
    def delete(self, request, version_id: int):
        version = reviews.reviewable_version(request.user, version_id)
        if not reviews.delete_review(request.user, version):
            return Response({"detail": "You have not reviewed this version."}, status=404)
        return Response(status=204)


class VersionReviews(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="list_version_reviews",
        summary="A version's reviews, newest first",
        description=f"Public; {PAGE_SIZE} a page. Hidden reviews are not listed.",
        tags=["reviews"],
        parameters=[OpenApiParameter("page", int, description="1 or more.", default=1)],
        responses={200: ReviewPageOutput, **error_responses(400, 401, 404)},
    )
    def get(self, request, version_id: int):
        version = reviews.reviewable_version(request.user, version_id)
        try:
            number = int(request.GET.get("page", "1"))
        except ValueError:
            number = 0
        if number < 1:
            return Response({"detail": "page must be a whole number, 1 or more."}, status=400)
        visible = reviews.visible_reviews(version)
        paginator = Paginator(visible, PAGE_SIZE)
        page = paginator.get_page(number) if number <= max(paginator.num_pages, 1) else None
        items = list(page.object_list) if page else []
        return Response(
            {
                "items": [reviews.review_json(r) for r in items],
                "count": paginator.count,
                "recommended_count": visible.filter(recommended=True).count(),
                "next_page": number + 1 if page and page.has_next() else None,
            }
        )

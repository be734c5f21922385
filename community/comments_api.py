"""The comment and reaction API (docs/comments.md#api): /api/hub/comments[/<id>[/pin]] and
/api/hub/reactions, with an API key or the session. The same service as the pages (community/comments.py)."""

from django.db.models import prefetch_related_objects
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.response import Response
from rest_framework.views import APIView

from models_app.api import DetailOutput, error_responses

from . import abuse, comments
from .models import MAX_COMMENT_LENGTH, CommentTarget, ReactionKind

TOO_MANY = {429: OpenApiResponse(DetailOutput, description="Too many writes in a minute.")}


class CommentInput(serializers.Serializer):
    target_type = serializers.ChoiceField(choices=CommentTarget.values)
    target_id = serializers.IntegerField(min_value=1)
    body = serializers.CharField(
        max_length=MAX_COMMENT_LENGTH, help_text=f"Markdown, 1 to {MAX_COMMENT_LENGTH:,} characters."
    )
    parent_id = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, help_text="The comment this one replies to."
    )


class CommentEditInput(serializers.Serializer):
    body = serializers.CharField(max_length=MAX_COMMENT_LENGTH)


class ReactionCounts(serializers.Serializer):
    like = serializers.IntegerField()
    heart = serializers.IntegerField()
    laugh = serializers.IntegerField()
    cry = serializers.IntegerField()


class CommentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    target_type = serializers.ChoiceField(choices=CommentTarget.values)
    target_id = serializers.IntegerField()
    parent_id = serializers.IntegerField(allow_null=True)
    depth = serializers.IntegerField(help_text="0 for a top-level comment, at most 5.")
    user = serializers.CharField(allow_null=True, help_text="The author's username; null once deleted.")
    body = serializers.CharField(allow_blank=True, help_text="The Markdown as written; empty once deleted.")
    body_html = serializers.CharField(
        allow_blank=True, help_text="The body rendered and sanitised, safe to show."
    )
    deleted = serializers.BooleanField(help_text='Deleted but kept as "[deleted]" because it has replies.')
    pinned = serializers.BooleanField()
    edited = serializers.BooleanField()
    reactions = ReactionCounts()
    my_reactions = serializers.ListField(
        child=serializers.ChoiceField(choices=ReactionKind.values), help_text="Yours, when signed in."
    )
    mentions = serializers.ListField(child=serializers.CharField(), help_text="Usernames mentioned.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ThreadOutput(CommentOutput):
    replies = CommentOutput(many=True, help_text="Every shown reply below, depth first, oldest first.")


class ThreadPageOutput(serializers.Serializer):
    items = ThreadOutput(many=True)
    page = serializers.IntegerField()
    next_page = serializers.IntegerField(allow_null=True, help_text="Pass as `page` for older threads.")


class PinInput(serializers.Serializer):
    pinned = serializers.BooleanField(default=True)


class ReactionInput(serializers.Serializer):
    target_type = serializers.ChoiceField(choices=["comment"])
    target_id = serializers.IntegerField(min_value=1)
    kind = serializers.ChoiceField(choices=ReactionKind.values)


class ReactionOutput(serializers.Serializer):
    target_type = serializers.ChoiceField(choices=["comment"])
    target_id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ReactionKind.values)
    reactions = ReactionCounts()


def _refused(refused: comments.CommentRefused) -> Response:
    return Response(refused.body(), status=refused.status)


def _one(comment) -> dict:
    prefetch_related_objects([comment], "mentions")
    return comments.comment_json(comment)


class Comments(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(
        operation_id="list_comments",
        summary="The comments on a model, a version or an image, threaded",
        description=f"Public for what you may see. {comments.THREADS_PER_PAGE} top-level threads a page, "
        "the pinned one first, then newest first; each with all its replies. Hidden comments (and their "
        'replies) are not listed; a deleted comment with replies is listed as "[deleted]" '
        "(`deleted: true`, no user, no body). `target_type=model` lists the model's own comments, not "
        "its versions'.",
        tags=["comments"],
        parameters=[
            OpenApiParameter("target_type", str, enum=CommentTarget.values, required=True),
            OpenApiParameter("target_id", int, required=True),
            OpenApiParameter("page", int, default=1, description="1 or more."),
        ],
        responses={200: ThreadPageOutput, **error_responses(400, 401, 404)},
    )
    def get(self, request):
        target_type = request.query_params.get("target_type", "")
        try:
            target_id = int(request.query_params.get("target_id", ""))
            page = int(request.query_params.get("page", "1"))
        except ValueError:
            return Response({"detail": _("target_id and page must be whole numbers.")}, status=400)
        if target_type not in CommentTarget.values:
            return Response(
                {
                    "detail": _("target_type must be one of: %(types)s.")
                    % {"types": ", ".join(CommentTarget.values)}
                },
                status=400,
            )
        if not 1 <= page <= comments.MAX_PAGE:
            return Response(
                {"detail": _("page must be a number from 1 to %(last)s.") % {"last": comments.MAX_PAGE}},
                status=400,
            )
        target = comments.find_target(request.user, target_type, target_id)
        roots, has_next = comments.threads(target, page=page, viewer=request.user)
        every = [n.comment for root in roots for n in (root, *root.walk())]
        prefetch_related_objects(every, "mentions")
        items = []
        for root in roots:
            thread = comments.comment_json(root.comment, root.mine)
            thread["replies"] = [comments.comment_json(n.comment, n.mine) for n in root.walk()]
            items.append(thread)
        return Response({"items": items, "page": page, "next_page": page + 1 if has_next else None})

    @extend_schema(
        operation_id="post_comment",
        summary="Comment on a model, a version or an image, or reply to a comment",
        description="201 with the comment. Replies nest at most 5 deep: a reply to a comment at depth 5 "
        "is refused (400). An account younger than COMMENT_MIN_ACCOUNT_AGE without a confirmed email "
        "gets 403; more than COMMENT_RATE_LIMIT comments a minute per user, or COMMENT_IP_RATE_LIMIT per "
        "IP address, get 429.",
        tags=["comments"],
        request=CommentInput,
        responses={201: CommentOutput, **error_responses(400, 401, 403, 404), **TOO_MANY},
    )
    def post(self, request):
        data = CommentInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        target = comments.find_target(request.user, values["target_type"], values["target_id"])
        try:
            comment = comments.post_comment(
                request.user,
                target,
                values["body"],
                parent_id=values.get("parent_id"),
                ip=abuse.client_ip(request),
            )
        except comments.CommentRefused as refused:
            return _refused(refused)
        return Response(_one(comment), status=201)


class OneComment(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="edit_comment",
        summary="Edit your comment",
        description="Only its author (others get 403). The body is rendered again.",
        tags=["comments"],
        request=CommentEditInput,
        responses={200: CommentOutput, **error_responses(400, 401, 403, 404), **TOO_MANY},
    )
    def patch(self, request, comment_id: int):
        comment, _target = comments.visible_comment(request.user, comment_id)
        if comment.user_id != request.user.id:
            return Response({"detail": _("Only the comment's author can change it.")}, status=403)
        data = CommentEditInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            comment = comments.edit_comment(
                request.user, comment, data.validated_data["body"], ip=abuse.client_ip(request)
            )
        except comments.CommentRefused as refused:
            return _refused(refused)
        return Response(_one(comment))

    @extend_schema(
        operation_id="delete_comment",
        summary="Delete your comment",
        description='Only its author (others get 403). With replies it stays as "[deleted]".',
        tags=["comments"],
        responses={204: None, **error_responses(401, 403, 404)},
    )
    def delete(self, request, comment_id: int):
        comment, _target = comments.visible_comment(request.user, comment_id)
        try:
            comments.delete_comment(request.user, comment)
        except comments.CommentRefused as refused:
            return _refused(refused)
        return Response(status=204)


class CommentPin(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="pin_comment",
        summary="Pin a top-level comment (the target's creator)",
        description="The creator of the model (or the image's owner) pins one top-level comment; it "
        "is listed first. `pinned: false` unpins it. Pinning another replaces the pin.",
        tags=["comments"],
        request=PinInput,
        responses={200: CommentOutput, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request, comment_id: int):
        comment, target = comments.visible_comment(request.user, comment_id)
        data = PinInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            comments.set_pinned(request.user, comment, target, data.validated_data["pinned"])
        except comments.CommentRefused as refused:
            return _refused(refused)
        comment.refresh_from_db()
        return Response(_one(comment))


def _reaction_input(request) -> dict:
    data = ReactionInput(data=request.data or request.query_params)
    data.is_valid(raise_exception=True)
    return data.validated_data


class Reactions(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="add_reaction",
        summary="React to a comment (like, heart, laugh, cry)",
        description="One reaction of each kind per user and comment: 201 when added, 200 when you had "
        "it already. More than REACTION_RATE_LIMIT a minute get 429.",
        tags=["comments"],
        request=ReactionInput,
        responses={
            201: ReactionOutput,
            200: ReactionOutput,
            **error_responses(400, 401, 403, 404),
            **TOO_MANY,
        },
    )
    def post(self, request):
        values = _reaction_input(request)
        comment, _target = comments.visible_comment(request.user, values["target_id"])
        try:
            created = comments.add_reaction(request.user, comment, values["kind"])
        except comments.CommentRefused as refused:
            return _refused(refused)
        return Response(_reaction_json(comment, values["kind"]), status=201 if created else 200)

    @extend_schema(
        operation_id="remove_reaction",
        summary="Take back your reaction to a comment",
        description="The same fields as POST, in the body or as query parameters. 204 whether or not "
        "you had that reaction.",
        tags=["comments"],
        request=ReactionInput,
        parameters=[
            OpenApiParameter("target_type", str, enum=["comment"], required=False),
            OpenApiParameter("target_id", int, required=False),
            OpenApiParameter("kind", str, enum=ReactionKind.values, required=False),
        ],
        responses={204: None, **error_responses(400, 401, 404)},
    )
    def delete(self, request):
        values = _reaction_input(request)
        comment, _target = comments.visible_comment(request.user, values["target_id"])
        comments.remove_reaction(request.user, comment, values["kind"])
        return Response(status=204)


def _reaction_json(comment, kind: str) -> dict:
    comment.refresh_from_db(fields=[f"{k}_count" for k in ReactionKind.values])
    return {
        "target_type": "comment",
        "target_id": comment.id,
        "kind": kind,
        "reactions": {k: getattr(comment, f"{k}_count") for k in ReactionKind.values},
    }

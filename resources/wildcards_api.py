"""The wildcard endpoints of the hub API (docs/wildcards.md#api): a pack's lists, and trying a template."""

import secrets

from django.conf import settings
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from models_app import rate_limits

from . import wildcard_packs, wildcards
from .wildcard_worker import ExpansionError

_DETAIL = OpenApiResponse(OpenApiTypes.OBJECT, description='`{"detail": "a sentence"}`')


class ListsOutput(serializers.Serializer):
    version_id = serializers.IntegerField()
    lists = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Each wildcard name (`dir/sub` for nested folders) and its values, as in the pack.",
    )


class ExpandInput(serializers.Serializer):
    template = serializers.CharField(
        max_length=wildcards.MAX_TEMPLATE_CHARS,
        trim_whitespace=False,
        help_text="Dynamic Prompts syntax: `{a|b}`, `__name__`, `${v=...}`; `#` starts a comment.",
    )
    version_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1),
        max_length=wildcard_packs.MAX_PACKS,
        default=list,
        help_text="Wildcard packs (version ids) whose lists the template may use; a name in several packs "
        "offers the values of all of them.",
    )
    mode = serializers.ChoiceField(choices=wildcards.MODES, default="random")
    count = serializers.IntegerField(min_value=1, max_value=wildcards.MAX_PROMPTS, default=10)
    seed = serializers.IntegerField(
        min_value=0,
        max_value=2**32 - 1,
        required=False,
        allow_null=True,
        help_text="Random mode: the same seed gives the same prompts. Omitted: a new seed, returned.",
    )
    with_count = serializers.BooleanField(
        default=False,
        help_text="Also count the combinatorial expansions (always done in combinatorial mode).",
    )


class ExpandOutput(serializers.Serializer):
    prompts = serializers.ListField(child=serializers.CharField())
    seed = serializers.IntegerField(allow_null=True)
    combinatorial_count = serializers.IntegerField(
        allow_null=True, help_text=f"Distinct combinatorial prompts, counted up to {wildcards.COUNT_CAP:,}."
    )
    combinatorial_count_more = serializers.BooleanField(
        help_text=f"True when there are more than {wildcards.COUNT_CAP:,} (the count stopped there)."
    )
    missing = serializers.ListField(
        child=serializers.CharField(), help_text="Wildcards the template names that no chosen pack has."
    )


class PackOutput(serializers.Serializer):
    version_id = serializers.IntegerField()
    model_id = serializers.IntegerField()
    model_name = serializers.CharField()
    version_name = serializers.CharField()


class VersionWildcards(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="version_wildcards",
        summary="A wildcard pack's lists",
        description="Every list of a Wildcards version's ready files. Drafts are visible to their creator "
        "(and moderators) only; a version that is not a wildcard pack is a 404.",
        tags=["wildcards"],
        responses={200: ListsOutput, 404: _DETAIL},
    )
    def get(self, request, version_id: int):
        version = wildcard_packs.visible_pack(request.user, version_id)
        return Response({"version_id": version.id, "lists": wildcard_packs.version_lists(version)})


class ExpandWildcards(APIView):
    permission_classes = [AllowAny]
    api_key_reads = (
        True  # the POST only computes prompts: a read-only API key may call it (community/auth.py)
    )

    @extend_schema(
        operation_id="expand_wildcards",
        summary="Try a template over wildcard packs",
        description=f"Random (seeded, reproducible) or combinatorial expansions, at most "
        f"{wildcards.MAX_PROMPTS}, computed in a child process stopped after "
        f"`WILDCARD_EXPAND_TIMEOUT` seconds. A cycle between lists, a cap or the time limit answers 400 "
        f"with a sentence; too many requests a minute, 429.",
        tags=["wildcards"],
        request=ExpandInput,
        responses={200: ExpandOutput, 400: _DETAIL, 404: _DETAIL, 429: _DETAIL},
    )
    def post(self, request):
        if over_expand_limit(request):
            return Response(
                {"detail": gettext("Too many expansions this minute; wait a moment and try again.")},
                status=429,
            )
        data = ExpandInput(data=request.data)
        data.is_valid(raise_exception=True)
        args = data.validated_data
        packs = [
            wildcard_packs.version_lists(wildcard_packs.visible_pack(request.user, vid))
            for vid in dict.fromkeys(args["version_ids"])
        ]
        seed = args.get("seed")
        if seed is None and args["mode"] == "random":
            seed = secrets.randbits(32)
        try:
            result = wildcards.expand_template(
                wildcards.merge(packs),
                template=args["template"],
                mode=args["mode"],
                count=args["count"],
                seed=seed,
                with_count=args["with_count"],
            )
        except (wildcards.WildcardError, ExpansionError) as exc:
            return Response({"detail": str(exc)}, status=400)
        return Response({**result, "seed": seed if args["mode"] == "random" else None})


class WildcardPacks(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="list_wildcard_packs",
        summary="Published wildcard packs by name",
        description="For choosing packs to combine in an expansion.",
        tags=["wildcards"],
        parameters=[OpenApiParameter("q", str, description="Part of the model's name.")],
        responses={200: PackOutput(many=True)},
    )
    def get(self, request):
        return Response(wildcard_packs.published_packs(query=request.query_params.get("q", "").strip()))


def over_expand_limit(request) -> bool:
    """More than WILDCARD_EXPAND_RATE_LIMIT expansions this minute by this visitor."""
    who = f"u{request.user.id}" if request.user.is_authenticated else request.META.get("REMOTE_ADDR", "")
    return rate_limits.over_limit("wildcard-expand", who, settings.WILDCARD_EXPAND_RATE_LIMIT)

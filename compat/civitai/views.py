"""CivitAI's public API v1 under /api/v1/ (docs/civitai-api.md), so its clients work by changing a base URL.

Thin views: parse the query liberally (lists repeated or comma-joined, `true`/`True`, sort names
with spaces), answer bad input with 400 `{"error": ...}`, read through the selectors and render with
shapes. Public GETs send CORS `*` and the cache rules of docs/civitai-api.md.
"""

import functools
import json
import math
from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import quote

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, F, Q, Value
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

import billing
from community import collections
from community.auth import reads_only
from models_app import downloads, levels, page_cache, preferences, selectors
from models_app.download_views import BadApiKey, caller, public_user
from models_app.files import bounded_json
from models_app.models import (
    BaseModel,
    FileFormat,
    FileStatus,
    ModelType,
    ModelVersion,
    PublishStatus,
    Tag,
    normalize_tag,
)
from resources import images as resources_images
from resources.models import ImageStatus, ImageVersion

from . import items_sql, shapes
from .shapes import Viewer

MAX_API_ID = 2**31 - 1  # CivitAI's ids are 32-bit; larger ones are junk (docs/hostile-input.md, item 16)
MAX_LIST_VALUES = 100
MAX_IDS = 1000
MAX_PAGE = 100_000
MAX_SEARCH_CANDIDATES = 1000
MAX_HASHES = 100
MAX_HASH_IDS = 10_000
PUBLIC_CACHE = "public, s-maxage=300, stale-while-revalidate=150"
BY_HASH_CACHE = "public, s-maxage=3600, stale-while-revalidate=150"
PRIVATE_CACHE = "private, no-store"

MODEL_SORTS = {
    "highestrated": "rated",
    "mostdownloaded": "downloads",
    "mostliked": "liked",
    "mostdiscussed": "discussed",
    "mostcollected": "liked",  # saving to favourites is the hub's collecting
    "mostimages": "rated",  # the hub keeps no image counter; the nearest useful order
    "newest": "newest",
    "oldest": "oldest",
}
PERIODS = {"alltime": "all", "year": "year", "month": "month", "week": "week", "day": "day"}
IMAGE_SORTS = {"mostreactions", "mostcomments", "mostcollected", "newest", "oldest", "random"}
# `nsfw` as a browsing mask (bit flags, models_app/levels.py, DESIGN §8.3): the legacy strings
# (None, Soft, Mature, X) on both lists; `true` is every level on /models but mature only on /images.
MODEL_NSFW_LEVELS = {**levels.IMAGE_NSFW_PARAM, "true": levels.ALL, "1": levels.ALL, "0": 1}
IMAGE_NSFW_LEVELS = {**levels.IMAGE_NSFW_PARAM, "1": 60, "0": 1}


def _levels(params, table) -> int | None:
    """The mask a request asked for: `browsingLevel` (a bitmask, 0 to 63) wins over `nsfw`; None when
    it sent neither."""
    mask = _int(params, "browsingLevel", low=0, high=levels.EVERYTHING)
    if mask is not None:
        return mask
    raw = params.get("nsfw", "").strip().lower()
    if not raw:
        return None
    if raw not in table:
        raise BadParam("nsfw takes None, Soft, Mature, X, true or false.")
    return table[raw]


CHECKPOINT_TYPES = {"trained", "merge", "standard"}


class BadParam(ValueError):
    """A query parameter the API can't use; the message is the 400's error."""


# --- Answers


def _answer(user, body, *, status: int = 200, cache: str = PUBLIC_CACHE) -> HttpResponse:
    return _answer_text(user, _dumps(body), status=status, cache=cache)


def _dumps(data) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder)


def _answer_text(user, body: str, *, status: int = 200, cache: str = PUBLIC_CACHE) -> HttpResponse:
    """_answer for a body already encoded (items built by the database)."""
    response = HttpResponse(body, status=status, content_type="application/json")
    response["Access-Control-Allow-Origin"] = "*"
    response["Vary"] = "Authorization"
    if status >= 400:
        response["Cache-Control"] = "no-store"
    else:
        response["Cache-Control"] = PRIVATE_CACHE if user.is_authenticated else cache
    return response


def _error(status: int, message: str) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "no-store"
    return response


def _preflight() -> HttpResponse:
    """Browsers ask before a cross-origin POST with a JSON body or an Authorization header."""
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
    response["Access-Control-Max-Age"] = "86400"
    return response


def _viewer(request, user) -> Viewer:
    return Viewer(user=user, origin=request.build_absolute_uri("/").rstrip("/"))


def api_endpoint(view):
    """GET/HEAD (and the CORS preflight) only; BadParam becomes a 400."""

    @require_http_methods(["GET", "HEAD", "OPTIONS"])
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method == "OPTIONS":
            return _preflight()
        try:
            return view(request, *args, **kwargs)
        except (BadParam, selectors.BadQuery) as exc:
            return _error(400, str(exc))

    return wrapped


# --- Parameters: liberal in what they accept


def _values(params, *names) -> list[str]:
    """Every value of these parameters, repeated (`a=1&a=2`), comma-joined (`a=1,2`) or with `[]`."""
    values = [
        v.strip()
        for name in names
        for key in (name, f"{name}[]")
        for raw in params.getlist(key)
        for v in raw.split(",")
        if v.strip()
    ]
    if len(values) > MAX_LIST_VALUES:
        raise BadParam(f"{names[0]} takes at most {MAX_LIST_VALUES} values.")
    return values


def _bool(params, *names) -> bool | None:
    for name in names:
        raw = params.get(name)
        if raw is None or raw.strip() == "":
            continue
        value = raw.strip().lower()
        if value in ("true", "1"):
            return True
        if value in ("false", "0"):
            return False
        raise BadParam(f"{name} must be true or false.")
    return None


def _int(params, name, *, default=None, low=1, high=MAX_API_ID):
    raw = params.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise BadParam(f"{name} must be a whole number.") from None
    if not low <= value <= high:
        raise BadParam(f"{name} must be between {low} and {high}.")
    return value


def _id(raw: str, name: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_API_ID:
        raise BadParam(f"{name} must be a whole number between 1 and {MAX_API_ID}, not {raw[:40]!r}.")
    return int(raw)


def _word(raw: str) -> str:
    """`Highest Rated`, `highest_rated`, `HighestRated` and `highest+rated` are the same sort."""
    return "".join(ch for ch in raw.lower() if ch.isalnum())


def _choice(params, name, choices, default: str):
    raw = params.get(name)
    if raw is None or not raw.strip():
        raw = default
    key = _word(raw)
    if key not in choices:
        raise BadParam(f"Unknown {name} {raw[:60]!r}.")
    return choices[key] if isinstance(choices, dict) else key


def _model_types(params) -> list[str]:
    known = {_word(t): t for t in ModelType.values}
    known["lycoris"] = "LoCon"  # the name CivitAI's site shows for LoCon
    known["workflow"] = "Workflows"
    types = []
    for raw in _values(params, "types", "type"):
        if _word(raw) not in known:
            emitted = ", ".join(shapes.EMITTED_MODEL_TYPES)
            raise BadParam(f"Unknown type {raw[:60]!r}; use one of {emitted}.")
        types.append(known[_word(raw)])
    return types


def _page_urls(request, *, page: int | None, total_pages: int, next_cursor: str | None):
    """nextPage and prevPage as absolute URLs: page numbers in page mode, the cursor otherwise."""
    base = request.build_absolute_uri(request.path)

    def with_params(**changes):
        params = request.GET.copy()
        for key, value in changes.items():
            params.pop(key, None)
            if value is not None:
                params[key] = str(value)
        return f"{base}?{params.urlencode()}"

    if page is not None:
        next_page = with_params(page=page + 1, cursor=None) if page < total_pages else None
        prev_page = with_params(page=page - 1, cursor=None) if page > 1 else None
        return next_page, prev_page
    return (with_params(cursor=next_cursor, page=None) if next_cursor else None), None


def _metadata(request, *, total: int, limit: int, current: int | None, page_mode: bool, next_cursor=None):
    total_pages = math.ceil(total / limit) if total else 0
    next_page, prev_page = _page_urls(
        request, page=current if page_mode else None, total_pages=total_pages, next_cursor=next_cursor
    )
    return {
        "totalItems": total,
        "currentPage": current,
        "pageSize": limit,
        "totalPages": total_pages,
        "nextPage": next_page,
        "prevPage": prev_page,
    }


# --- /models


@api_endpoint
def models_list(request):
    """GET /api/v1/models: published models, filtered, sorted, by page or by cursor."""
    user = public_user(request)
    params = request.GET
    if (_bool(params, "favorites") or _bool(params, "hidden")) and not user.is_authenticated:
        return _error(401, "Unauthorized")
    # The same URL gives every anonymous caller the same answer: kept a few seconds, as popular
    # pages are asked for at once (models_app/page_cache.py).
    kept_key = (
        page_cache.request_key("civitai-models", request)
        if page_cache.on() and not user.is_authenticated
        else None
    )
    if kept_key and (kept := page_cache.get(kept_key, lists=True)) is not None:
        return _answer_text(user, kept)
    built_in = page_cache.generation(lists=True) if kept_key else ""
    limit = _int(params, "limit", default=100, high=selectors.MAX_PAGE_SIZE)
    page = _int(params, "page", high=MAX_PAGE)
    cursor = params.get("cursor", "").strip()
    # Without `nsfw` or `browsingLevel`: the levels the key's (or session's) user chose, else PG.
    mask = preferences.api_mask(request, asked=_levels(params, MODEL_NSFW_LEVELS), user=user)
    checkpoint_type = params.get("checkpointType", "").strip()
    if checkpoint_type and _word(checkpoint_type) not in CHECKPOINT_TYPES:
        raise BadParam(f"Unknown checkpointType {checkpoint_type[:60]!r}; use Trained or Merge.")
    uses = _values(params, "allowCommercialUse")
    commercial = {_word(u): u for u in [*selectors.COMMERCIAL_USES, "None"]}
    if any(_word(u) not in commercial for u in uses):
        raise BadParam("allowCommercialUse takes None, Image, RentCivit, Rent or Sell.")
    query = selectors.BrowseQuery(
        types=_model_types(params),
        base_models=_values(params, "baseModels", "baseModel"),
        tag=normalize_tag(params.get("tag", "")),
        creator=params.get("username", "").strip()[:150],
        period=_choice(params, "period", PERIODS, "AllTime"),
        sort=_choice(params, "sort", MODEL_SORTS, "Highest Rated"),
        limit=limit,
        cursor=cursor,
        levels=mask,
        allow_no_credit=_bool(params, "allowNoCredit"),
        allow_derivatives=_bool(params, "allowDerivatives"),
        allow_different_license=_bool(params, "allowDifferentLicense", "allowDifferentLicenses"),
        commercial_uses=[commercial[_word(u)] for u in uses],
    )
    ids = [_id(raw, "ids") for raw in _values(params, "ids")] if params.get("ids") else None
    if ids is not None and len(ids) > MAX_IDS:
        raise BadParam(f"ids takes at most {MAX_IDS} ids.")
    if _bool(params, "favorites"):  # the key owner's Favourites (docs/collections.md#civitai)
        favourites = collections.favourite_model_ids(user)
        ids = favourites if ids is None else sorted(set(ids) & set(favourites))
    if _bool(params, "hidden"):
        ids = []  # the hub keeps no per-user hidden models yet
    text = params.get("query", "").strip()
    if text:
        found = selectors.search_model_ids(user, text, limit=MAX_SEARCH_CANDIDATES, levels=mask)
        wanted = set(ids or ())
        ids = found if ids is None else [i for i in found if i in wanted]
    query.ids = ids

    sort_field = selectors.SORTS[query.sort][0]
    everything = selectors.browse_queryset(user, query, after_cursor=False)
    total = selectors.cached_count(everything)
    page_mode = page is not None and not cursor
    if page_mode:
        offset = (page - 1) * limit
        rows = list(everything.values("id", sort_field)[offset : offset + limit + 1])
        current = page
    else:
        rest = selectors.browse_queryset(user, query) if cursor else everything
        rows = list(rest.values("id", sort_field)[: limit + 1])
        current = (total - selectors.cached_count(rest)) // limit + 1 if cursor else 1
    next_cursor = selectors.cursor_after(query, rows[limit - 1]) if len(rows) > limit else None
    rows = rows[:limit]
    viewer = replace(_viewer(request, user), levels=mask)
    primary_only = bool(_bool(params, "primaryFileOnly"))
    items = model_items(user, [row["id"] for row in rows], viewer, primary_file_only=primary_only)
    metadata = _metadata(
        request, total=total, limit=limit, current=current, page_mode=page_mode, next_cursor=next_cursor
    )
    metadata["nextCursor"] = next_cursor
    body = f'{{"items": [{", ".join(items)}], "metadata": {_dumps(metadata)}}}'
    if kept_key:
        page_cache.put(kept_key, body, built_in)
    return _answer_text(user, body)


@api_endpoint
def model_detail(request, model_id: str):
    """GET /api/v1/models/<id>."""
    user = public_user(request)
    pk = _id(model_id, "id")
    visible = selectors.visible_models(user, include_archived=True).filter(id=pk).exists()
    primary_only = bool(_bool(request.GET, "primaryFileOnly"))
    items = model_items(user, [pk], _viewer(request, user), primary_file_only=primary_only) if visible else []
    if not items:
        return _error(404, f"No model with id {pk}")
    return _answer_text(user, items[0])


def model_items(user, ids: list[int], viewer: Viewer, *, primary_file_only: bool) -> list[str]:
    """The models with these ids, in this order, as JSON texts of shapes.model_json: built by
    PostgreSQL where items_sql can (a fixed number of queries), by shapes for the others."""
    texts: dict[int, str | None] = {}
    if items_sql.available(user):
        texts = items_sql.model_items(
            user, ids, viewer, primary_file_only=primary_file_only, now=timezone.now()
        )
        rest = [i for i in ids if i in texts and texts[i] is None]
    else:
        rest = ids
    for model in api_models(user, rest, levels=viewer.levels):
        texts[model.id] = _dumps(shapes.model_json(model, viewer=viewer, primary_file_only=primary_file_only))
    return [texts[i] for i in ids if texts.get(i) is not None]


# --- /model-versions


def _version_answer(request, user, version_id: int | None, *, cache: str = PUBLIC_CACHE):
    """The standalone Version of `version_id` as `user` may see it, or the 404 CivitAI sends."""
    model_id = ModelVersion.objects.filter(id=version_id).values_list("model_id", flat=True).first()
    if (
        model_id is None
        or not selectors.visible_models(user, include_archived=True).filter(id=model_id).exists()
    ):
        return _error(404, "Model not found")
    viewer = _viewer(request, user)
    data = _item_versions(user, [model_id], viewer)[0].get(version_id)
    if data is None:  # not in the database's item (no file to offer, hidden, odd): as shapes says
        [model] = api_models(user, [model_id])
        versions = list(model.versions.all())
        version = next((v for v in versions if v.id == version_id), None)
        if version is None:
            return _error(404, "Model not found")
        data = shapes.version_json(version, viewer=viewer, model=model, index=versions.index(version))
        if data is None:
            return _error(404, "Missing model file")
    return _answer(user, data, cache=cache)


def _item_versions(user, model_ids: list[int], viewer: Viewer) -> tuple[dict[int, dict], list[int]]:
    """The versions of these models as their items built by PostgreSQL hold them, by id
    (shapes.version_json is one object for a version inside its model and standing alone), and the
    models whose versions shapes must build."""
    if not items_sql.available(user):
        return {}, list(model_ids)
    texts = items_sql.model_items(user, model_ids, viewer, primary_file_only=False, now=timezone.now())
    versions, rest = {}, []
    for model_id in model_ids:
        if texts.get(model_id) is None:
            rest.append(model_id)
            continue
        versions.update((v["id"], v) for v in json.loads(texts[model_id])["modelVersions"])
    return versions, rest


@api_endpoint
def version_detail(request, version_id: str):
    """GET /api/v1/model-versions/<id>."""
    user = public_user(request)
    return _version_answer(request, user, _id(version_id, "id"))


@api_endpoint
def version_by_hash(request, hash: str):
    """GET /api/v1/model-versions/by-hash/<hash>: any of the six hash kinds (docs/hashes.md#case-and-lookups)."""
    user = public_user(request)
    version = downloads.find_version_by_hash(user, hash)
    if version is None:
        removed = downloads.find_removed_version_by_hash(hash)
        if removed is not None:  # a tombstone: tools that saw the file can still identify it
            return _answer(user, shapes.tombstone_json(removed), cache=BY_HASH_CACHE)
        return _error(404, "Model not found")
    return _version_answer(request, user, version.id, cache=BY_HASH_CACHE)


def _sha256_list(request, most: int) -> list[str]:
    """The POST body: a JSON array of at most `most` full SHA-256 digests, UPPERCASEd."""
    message = "Request must include an array of SHA256 Hashes."
    try:
        body = bounded_json.loads(request.body or b"null")
    except bounded_json.JSONRejected as exc:
        raise BadParam(f"{message} {exc}") from None
    if not isinstance(body, list):
        raise BadParam(f"{message} Send a JSON array of strings.")
    if len(body) > most:
        raise BadParam(f"{message} Too many hashes: at most {most}.")
    hashes = []
    for value in body:
        normalized = downloads.normalize_hash(value)
        if normalized is None or len(normalized) != 64:
            raise BadParam(f"{message} Invalid hash: each must be 64 hexadecimal characters.")
        hashes.append(normalized)
    return hashes


def _hash_endpoint(view):
    @reads_only  # a read-only API key may post these look-ups
    @csrf_exempt  # a read: nothing changes, and tools post without a session
    @require_http_methods(["POST", "OPTIONS"])
    @functools.wraps(view)
    def wrapped(request):
        if request.method == "OPTIONS":
            return _preflight()
        try:
            return view(request)
        except BadParam as exc:
            return _error(400, str(exc))

    return wrapped


@_hash_endpoint
def versions_by_hashes(request):
    """POST /api/v1/model-versions/by-hash: up to 100 SHA-256 digests → the Versions holding them."""
    user = public_user(request)
    found = downloads.find_versions_by_sha256(user, _sha256_list(request, MAX_HASHES))
    version_ids = sorted(set(found.values()))
    # A set: .distinct() keeps one row per (model, ordering column), so a model with two of the
    # versions asked for came twice, and so did each of its versions.
    model_ids = sorted(
        set(ModelVersion.objects.filter(id__in=version_ids).values_list("model_id", flat=True))
    )
    viewer = _viewer(request, user)
    built, rest = _item_versions(user, model_ids, viewer)
    items = [built[i] for i in version_ids if i in built]
    for model in api_models(user, rest):
        for index, version in enumerate(model.versions.all()):
            if version.id in version_ids:
                data = shapes.version_json(version, viewer=viewer, model=model, index=index)
                if data is not None:
                    items.append(data)
    items.sort(key=lambda item: item["id"])
    return _answer(user, items, cache=BY_HASH_CACHE)


@_hash_endpoint
def version_ids_by_hashes(request):
    """POST /api/v1/model-versions/by-hash/ids: up to 10,000 SHA-256 digests → version ids."""
    user = public_user(request)
    found = downloads.find_versions_by_sha256(user, _sha256_list(request, MAX_HASH_IDS))
    models = dict(ModelVersion.objects.filter(id__in=set(found.values())).values_list("id", "model_id"))
    items = [
        {"modelVersionId": version_id, "modelId": models[version_id], "hash": sha256}
        for sha256, version_id in sorted(found.items())
        if version_id in models
    ]
    return _answer(user, items, cache=BY_HASH_CACHE)


# --- /images


@api_endpoint
def images_list(request):
    """GET /api/v1/images: the example images of published versions."""
    user = public_user(request)
    params = request.GET
    limit = _int(params, "limit", default=100, high=200)
    page = _int(params, "page", high=MAX_PAGE)
    sort = _choice(params, "sort", IMAGE_SORTS, "Most Reactions")
    period = _choice(params, "period", PERIODS, "AllTime")
    # Without `nsfw` or `browsingLevel`: the key's (or session's) user's levels, else PG.
    mask = preferences.api_mask(request, asked=_levels(params, IMAGE_NSFW_LEVELS), user=user)
    # Public images only (the rule /images/<id>/<name> serves by): Blocked ones are not public.
    images = _in_levels(resources_images.visible_images(AnonymousUser()), mask)
    linked = False
    for name, field in (("modelId", "version_links__version__model_id"), ("modelVersionId", "version_links__version_id"),
                        ("imageId", "id"), ("userId", "owner_id"), ("postId", "post_id")):  # fmt: skip
        value = _int(params, name)
        if value is not None:
            images = images.filter(**{field: value})
            linked |= field.startswith("version_links")
    if params.get("username", "").strip():
        images = images.filter(owner__username=params["username"].strip()[:150])
    base_models = _values(params, "baseModels")
    if base_models:
        images = images.filter(version_links__version__base_model__name__in=base_models)
        linked = True
    if linked:  # one row per image, however many of its links matched
        images = images.filter(id__in=images.values("id"))
    if params.get("tags"):
        images = images.none()  # the hub has no image tags
    media_type = params.get("type", "").strip().lower()
    if media_type and media_type not in ("image", "video", "audio"):
        raise BadParam("type takes image, video or audio.")
    if media_type == "video":
        images = images.filter(mime_type__startswith="video/")
    elif media_type == "image":
        images = images.exclude(mime_type__startswith="video/")
    elif media_type == "audio":
        images = images.none()
    if period != "all":
        since = timezone.now() - timedelta(days=selectors.PERIODS[period])
        images = images.filter(created_at__gte=since)
    ascending = sort == "oldest"
    total = selectors.cached_count(images)
    cursor = params.get("cursor", "").strip()
    page_mode = page is not None and not cursor
    ordered = images.order_by("id" if ascending else "-id")
    if page_mode:
        offset = (page - 1) * limit
        window = ordered[offset : offset + limit + 1]
        current = page
    else:
        after = ordered
        if cursor:
            after_id = _id(cursor, "cursor")
            after = ordered.filter(id__gt=after_id) if ascending else ordered.filter(id__lt=after_id)
        window = after[: limit + 1]
        current = (total - selectors.cached_count(after)) // limit + 1 if cursor else 1
    with_meta = bool(_bool(params, "withMeta"))
    meta_columns = ("meta", "workflow", "prompt_graph") if with_meta else ()
    rows = [SimpleNamespace(**row) for row in window.values(*_IMAGE_COLUMNS, *meta_columns, **_IMAGE_VALUES)]
    _attach_versions(rows)
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    viewer = _viewer(request, user)
    items = [shapes.image_json(f, viewer=viewer, with_meta=with_meta) for f in rows[:limit]]
    metadata = _metadata(
        request, total=total, limit=limit, current=current, page_mode=page_mode, next_cursor=next_cursor
    )
    metadata["nextCursor"] = next_cursor
    return _answer(user, {"items": items, "metadata": metadata})


def _in_levels(images, mask: int):
    """resources.images.in_levels as a bit test: the same images (levels are single bits), but
    PostgreSQL estimates `level & mask <> 0` to keep most rows where it guessed `level IN (...)`
    keeps 0.5%, and so walks the id index for a page instead of sorting every image
    (docs/performance.md#the-images-list-and-the-hugging-face-list)."""
    level_bits = resources_images.effective_level().bitand(Value(int(mask)))
    return images.alias(level_bits=level_bits).exclude(level_bits=0)


# What shapes.image_json reads of an image, as plain values: the ComfyUI texts and `meta` (large)
# only when the request asks for withMeta.
_IMAGE_COLUMNS = (
    "id",
    "name",
    "blurhash",
    "width",
    "height",
    "mime_type",
    "nsfw_level",
    "created_at",
    "post_id",
)
_IMAGE_VALUES = {
    "username": F("owner__username"),
    "post_version_level": F("post__version__nsfw_level"),
    "post_model_level": F("post__version__model__nsfw_level"),
}


def _attach_versions(rows) -> None:
    """Each image's linked public version ids and the first of them (its id, model id and base
    model), in one query for the page."""
    links = (
        ImageVersion.objects.filter(image_id__in=[image.id for image in rows])
        .filter(version__status=PublishStatus.PUBLISHED, version__model__status=PublishStatus.PUBLISHED)
        .order_by("id")
        .values_list("image_id", "version_id", "version__model_id", "version__base_model__name")
    )
    by_image: dict[int, list[SimpleNamespace]] = {}
    for image_id, version_id, model_id, base_model in links:
        version = SimpleNamespace(id=version_id, model_id=model_id, base_model=base_model)
        by_image.setdefault(image_id, []).append(version)
    for image in rows:
        versions = by_image.get(image.id, [])
        image.version_ids = [v.id for v in versions]
        image.version = versions[0] if versions else None


# What shapes.version_image_json reads of an example image.
EXAMPLE_LINK_FIELDS = (
    "id", "version_id", "image_id", "image__id", "image__name", "image__nsfw_level", "image__width",
    "image__height", "image__blurhash", "image__mime_type", "image__meta", "image__workflow",
    "image__prompt_graph",
)  # fmt: skip


def api_models(user, ids, *, levels=None):
    """selectors.api_models plus each version's example images (`example_links`), one query more."""
    models = selectors.api_models(user, ids, levels=levels)
    versions = [version for model in models for version in model.versions.all()]
    if not versions:
        return models
    links = (
        ImageVersion.objects.filter(
            version_id__in=[version.id for version in versions],
            role=ImageVersion.Role.EXAMPLE,
            image__status=ImageStatus.READY,
            image__blob__isnull=False,
        )
        .exclude(image__source_file__status=FileStatus.DELETED)
        .select_related("image")
        .only(*EXAMPLE_LINK_FIELDS)
        .order_by("image_id")
    )
    grouped: dict[int, list] = {}
    for link in links:
        grouped.setdefault(link.version_id, []).append(link)
    for version in versions:
        version.example_links = grouped.get(version.id, [])
    return models


# --- /tags, /creators


def _small_page(params) -> tuple[int, int, str]:
    limit = _int(params, "limit", default=20, high=200)
    page = _int(params, "page", default=1, high=MAX_PAGE)
    return limit, page, params.get("query", "").strip()[:150]


_PUBLISHED_MODEL = Q(status=PublishStatus.PUBLISHED)


@api_endpoint
def tags_list(request):
    """GET /api/v1/tags: tags of published models, the most used first."""
    user = public_user(request)
    limit, page, text = _small_page(request.GET)
    tags = Tag.objects.annotate(
        model_count=Count("ai_models", filter=Q(ai_models__status=PublishStatus.PUBLISHED))
    ).filter(model_count__gt=0)
    if text:
        tags = tags.filter(name__icontains=text)
    total = selectors.cached_count(tags)
    offset = (page - 1) * limit
    origin = _viewer(request, user).origin
    page_rows = tags.order_by("-model_count", "name")[offset : offset + limit]
    items = [
        {"name": name, "modelCount": count, "link": f"{origin}/api/v1/models?tag={_q(name)}"}
        for name, count in selectors.cached_values_list(page_rows, "name", "model_count")
    ]
    metadata = _metadata(request, total=total, limit=limit, current=page, page_mode=True)
    return _answer(user, {"items": items, "metadata": metadata})


@api_endpoint
def creators_list(request):
    """GET /api/v1/creators: people with published models, by username."""
    user = public_user(request)
    limit, page, text = _small_page(request.GET)
    creators = (
        get_user_model()
        .objects.annotate(model_count=Count("ai_models", filter=Q(ai_models__status=PublishStatus.PUBLISHED)))
        .filter(model_count__gt=0, is_active=True)
    )
    if text:
        creators = creators.filter(username__icontains=text)
    total = selectors.cached_count(creators)
    offset = (page - 1) * limit
    origin = _viewer(request, user).origin
    page_rows = creators.order_by("username")[offset : offset + limit]
    items = [
        {
            "username": username,
            "modelCount": count,
            "link": f"{origin}/api/v1/models?username={_q(username)}",
            "image": None,
        }
        for username, count in selectors.cached_values_list(page_rows, "username", "model_count")
    ]
    metadata = _metadata(request, total=total, limit=limit, current=page, page_mode=True)
    return _answer(user, {"items": items, "metadata": metadata})


def _q(value: str) -> str:
    return quote(value, safe="")


# --- /me, /enums


@api_endpoint
def me(request):
    """GET /api/v1/me: who the key belongs to. Needs a key (or a session); a bad key is a 401."""
    try:
        user = caller(request)
    except BadApiKey:
        return _error(401, "Unauthorized")
    if not user.is_authenticated:
        return _error(401, "Unauthorized")
    perks = billing.entitlements(user)
    return _answer(
        user,
        {
            "id": user.id,
            "username": user.username,
            "tier": perks.tier,
            "status": "active" if user.is_active else "banned",
            "isMember": perks.is_member,
            "subscriptions": [],
            "isModerator": selectors.can_moderate(user),
            "email": user.email or None,
            "emailVerified": None,
        },
    )


@api_endpoint
def enums(request):
    """GET /api/v1/enums: the values filters and objects use."""
    user = public_user(request)
    names = list(BaseModel.objects.order_by("position", "name").values_list("name", "is_active"))
    return _answer(
        user,
        {
            "ModelType": list(shapes.EMITTED_MODEL_TYPES),
            "ModelFileType": list(shapes.FILE_TYPES),
            "ModelFileFormat": list(FileFormat.values),
            "BaseModel": [name for name, _ in names],
            "ActiveBaseModel": [name for name, active in names if active],
            "BaseModelType": list(shapes.BASE_MODEL_TYPES),
        },
    )

"""Reads with rules: who may see which models."""

import base64
import binascii
import hashlib
import json
import math
from dataclasses import astuple, dataclass, field, replace
from datetime import datetime, timedelta
from urllib.parse import quote

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import F, Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from . import sqlite_search
from .compiled import Built
from .levels import ALL, DEFAULT_MASK, NsfwLevel, is_mature
from .levels import in_filter as levels_in_filter
from .levels import label as level_label
from .models import (
    AIModel,
    FileFormat,
    FileStatus,
    ModelFile,
    ModelType,
    ModelVersion,
    PublishStatus,
    normalize_tag,
)
from .text import clean_filename


def can_moderate(user) -> bool:
    return user.is_authenticated and user.has_perm("models_app.moderate_content")


def can_manage(user, model: AIModel) -> bool:
    """The model's creator or a moderator: they see drafts and files that failed their checks."""
    return can_moderate(user) or (user.is_authenticated and model.owner_id == user.id)


def visible_models(user, *, include_archived: bool = False) -> QuerySet[AIModel]:
    """Published models for everyone; a creator also sees their own drafts, moderators see all.

    `include_archived`: archived models too, as CivitAI's API shows them (without files) when asked
    for one by id.
    """
    moderator = can_moderate(user)
    return _visible_models(moderator, user.pk if user.is_authenticated else None, include_archived)


def _visible_models(moderator: bool, owner_id: int | None, include_archived: bool) -> QuerySet[AIModel]:
    # Deleted is gone for everyone, moderators and the creator included (docs/editing.md).
    models = AIModel.objects.select_related("owner").exclude(status=PublishStatus.DELETED)
    if moderator:
        return models
    published = Q(status=PublishStatus.PUBLISHED)
    if include_archived:
        published |= Q(status=PublishStatus.ARCHIVED)
    # Blocked (a moderator's level) is for its creator and moderators only, on every path.
    published &= ~Q(nsfw_level=NsfwLevel.BLOCKED)
    if owner_id is not None:
        return models.filter(published | Q(owner_id=owner_id))
    return models.filter(published)


def one_visible_to_signed_in(pk: int, user_id: int) -> QuerySet[AIModel]:
    """The model `pk` if a signed-in person who is no moderator may see it (visible_models)."""
    return _visible_models(False, user_id, False).filter(pk=pk)


# The model page's lookup, the same rule built once per kind of viewer (models_app/compiled.py):
# compiling it with the ORM cost three times as much as running it.
_ONE_VISIBLE_MODEL = {
    "anonymous": Built(lambda pk: _visible_models(False, None, False).filter(pk=pk)),
    "signed-in": Built(one_visible_to_signed_in),
    "moderator": Built(lambda pk: _visible_models(True, None, False).filter(pk=pk)),
}


def is_model_id(pk: int) -> bool:
    """Whether a model id from a URL may name a row: out of range, the database would refuse it."""
    smallest, largest = connection.ops.integer_field_range(AIModel._meta.pk.get_internal_type())
    return smallest <= pk <= largest


def visible_model(user, pk: int) -> AIModel | None:
    """The model `pk` if visible_models(user) holds it (with its owner), else None."""
    if not is_model_id(pk):
        return None
    if can_moderate(user):
        found = _ONE_VISIBLE_MODEL["moderator"].objects(pk)
    elif user.is_authenticated:
        found = _ONE_VISIBLE_MODEL["signed-in"].objects(pk, user.pk)
    else:
        found = _ONE_VISIBLE_MODEL["anonymous"].objects(pk)
    return found[0] if found else None


def versions_changed_annotations() -> dict:
    """When any of a model's versions or files last changed, as annotations on its row: a worker's
    step (a file ready, a version published when ready) changes them without its creator doing
    anything (models_app/page_cache.py keeps pages until they change)."""
    versions = ModelVersion.objects.filter(model_id=OuterRef("pk")).order_by().values("model_id")
    files = ModelFile.objects.filter(version__model_id=OuterRef("pk")).order_by().values("version__model_id")
    return {
        "versions_changed_at": Subquery(versions.annotate(at=Max("updated_at")).values("at")),
        "files_changed_at": Subquery(files.annotate(at=Max("updated_at")).values("at")),
    }


# Built once, as it runs on every page kept for one viewer (page_cache.own_model_page_key).
_VERSIONS_CHANGED_AT = Built(
    lambda pk: (
        AIModel.objects.filter(pk=pk)
        .annotate(**versions_changed_annotations())
        .values_list("versions_changed_at", "files_changed_at")
    )
)


def versions_changed_at(model_id: int) -> str:
    """versions_changed_annotations for the model, as text for a key."""
    found = _VERSIONS_CHANGED_AT.rows(model_id)
    return ",".join(map(str, found[0])) if found else ""  # a datetime, or text on SQLite: either will do


# A recommended VAE is shown as a link (its name, its model's name and address): its descriptions,
# up to 20,000 characters each plus their HTML, are not read with every version that names it.
_VAE_DESCRIPTIONS = [
    "recommended_vae__description",
    "recommended_vae__description_html",
    "recommended_vae__model__description",
    "recommended_vae__model__description_html",
]


def visible_versions(user, model: AIModel) -> QuerySet[ModelVersion]:
    versions = (
        model.versions.select_related("base_model", "recommended_vae__model")
        .defer(*_VAE_DESCRIPTIONS)
        .prefetch_related(
            Prefetch(
                "files", queryset=ModelFile.objects.select_related("blob").exclude(status=FileStatus.DELETED)
            )
        )
        .exclude(status=PublishStatus.DELETED)
    )
    if can_manage(user, model):
        return versions
    return versions.filter(status=PublishStatus.PUBLISHED).exclude(nsfw_level=NsfwLevel.BLOCKED)


def visible_version(user, version_id) -> ModelVersion | None:
    """The version with this id when `user` may see it (its model and the version itself), with its
    model loaded; None otherwise, so callers answer 404 without confirming it exists."""
    version = ModelVersion.objects.select_related("model").filter(id=version_id).first()
    if version is None or not visible_models(user).filter(id=version.model_id).exists():
        return None
    if not visible_versions(user, version.model).filter(id=version.id).exists():
        return None
    return version


def visible_files(user, version: ModelVersion) -> list[ModelFile]:
    """A version's files as this viewer may see them: the creator and moderators see every file with
    its problems; everyone else only files that passed (or are still being) processed."""
    files = [f for f in version.files.all() if f.status != FileStatus.DELETED]
    if can_manage(user, version.model):
        return files
    shown = {FileStatus.READY, FileStatus.PENDING, FileStatus.PROCESSING}
    return [f for f in files if f.status in shown]


def unfinished_uploads(version: ModelVersion, *, name: str, size: int) -> list[ModelFile]:
    """The version's uploads still open for a file of this name and declared size, newest first: what
    the uploader offers to resume when the same file is picked again, in any browser (issue 12).
    `name` is compared in the clean form the upload stored."""
    return list(
        version.files.filter(name=clean_filename(name), size=size, status=FileStatus.UPLOADING)
        .exclude(multipart_upload_id="")
        .order_by("-updated_at", "-id")
    )


def file_is_visible(user, model_file: ModelFile) -> bool:
    """May `user` see this file listed (visible_files), on a version and model they may see?"""
    version = model_file.version
    if visible_version(user, version.id) is None:
        return False
    return any(f.id == model_file.id for f in visible_files(user, version))


def compact_number(n: int) -> str:
    """999 → "999", 1234 → "1.2K", 45678 → "46K", 1234567 → "1.2M", as model cards on hubs show counts."""
    for limit, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K")):
        if n >= limit:
            value = n / limit
            text = f"{value:.1f}" if value < 10 else f"{value:.0f}"
            return text.removesuffix(".0") + suffix
    return str(n)


@dataclass
class ModelCard:
    """What a list shows of a model: a plain row, built with a fixed number of queries per page."""

    id: int
    name: str
    slug: str
    type: str
    nsfw_level: int
    status: str
    creator: str
    download_count: int
    thumbs_up_count: int
    thumbs_down_count: int
    rating: float
    like_count: int
    comment_count: int
    published_at: datetime | None
    preview_image_id: int | None = None
    tags: list[str] = field(default_factory=list)
    base_models: list[str] = field(default_factory=list)
    # Above the viewer's levels but listed blurred, with a reveal control (preferences.Browsing.blurs).
    blurred: bool = False

    @property
    def nsfw(self) -> bool:
        return is_mature(self.nsfw_level)

    @property
    def level_label(self) -> str:
        return level_label(self.nsfw_level)

    @property
    def preview_url(self) -> str | None:
        """The thumbnail of its first example image (download_views.serve_thumbnail), if it has one."""
        return f"/images/thumbnails/{self.preview_image_id}.webp" if self.preview_image_id else None

    @property
    def url(self) -> str:
        return f"/models/{self.id}/{self.slug}"  # = AIModel.get_absolute_url(), without a reverse() per row

    @property
    def creator_url(self) -> str:
        return f"/user/{quote(self.creator)}"  # = the community:user_profile URL, without a reverse()

    # Counts as a card shows them (1.2K, 34K, 5.6M): plain strings, which the template engine does not
    # have to localize one by one.
    @property
    def downloads_short(self) -> str:
        return compact_number(self.download_count)

    @property
    def thumbs_up_short(self) -> str:
        return compact_number(self.thumbs_up_count)

    @property
    def likes_short(self) -> str:
        return compact_number(self.like_count)

    @property
    def comments_short(self) -> str:
        return compact_number(self.comment_count)

    @property
    def type_label(self) -> str:
        return ModelType(self.type).label

    @property
    def status_label(self) -> str:
        return PublishStatus(self.status).label

    @property
    def base_model(self) -> str:
        return self.base_models[0] if self.base_models else ""


CARD_FIELDS = (
    "id", "name", "slug", "type", "nsfw_level", "status", "download_count", "thumbs_up_count",
    "thumbs_down_count", "rating", "like_count", "comment_count", "published_at", "preview_image_id",
)  # fmt: skip


CARD_VALUES = {"creator": F("owner__username")}


def _card(row: dict) -> ModelCard:
    row = dict(row)
    tags, base_models = row.pop("tag_names"), row.pop("base_model_names")
    return ModelCard(**row, tags=tags, base_models=base_models)


def model_cards(ids: list[int]) -> list[ModelCard]:
    """Cards for these models, in this order: one single-table query (tags and base models are
    copied onto the model row, see cards.refresh_card_fields)."""
    if not ids:
        return []
    rows = AIModel.objects.filter(id__in=ids).values(
        *CARD_FIELDS, "tag_names", "base_model_names", **CARD_VALUES
    )
    by_id = {row["id"]: row for row in rows}
    return [_card(by_id[i]) for i in ids if i in by_id]


# Public API answers carry totals and aggregate lists (tags, creators by model count) that cost more
# than the page itself on a large catalog; they are remembered this long, keyed by the exact query.
LIST_CACHE_SECONDS = 60


def _query_key(prefix: str, queryset) -> str | None:
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:
        return None
    return f"{prefix}:" + hashlib.sha256(repr((sql, params)).encode()).hexdigest()


def cached_count(queryset) -> int:
    """queryset.count(), remembered for LIST_CACHE_SECONDS: totals may lag that much behind."""
    key = _query_key("count", queryset)
    if key is None:
        return 0
    count = cache.get(key)
    if count is None:
        count = queryset.count()
        cache.set(key, count, LIST_CACHE_SECONDS)
    return count


def cached_values_list(queryset, *fields) -> list[tuple]:
    """list(queryset.values_list(*fields)), remembered for LIST_CACHE_SECONDS."""
    rows_query = queryset.values_list(*fields)
    key = _query_key("rows", rows_query)
    if key is None:
        return []
    rows = cache.get(key)
    if rows is None:
        rows = list(rows_query)
        cache.set(key, rows, LIST_CACHE_SECONDS)
    return rows


def in_levels(mask: int, field: str = "nsfw_level") -> Q:
    """Rows whose level is one of the mask's bits (models_app/levels.py)."""
    return Q(**{f"{field}__in": levels_in_filter(mask)})


def mark_blurred(cards: list[ModelCard], browsing) -> list[ModelCard]:
    """Flag the cards a page lists blurred for this viewer (preferences.Browsing)."""
    for card in cards:
        card.blurred = browsing.blurs(card.nsfw_level)
    return cards


def latest_models(user, *, limit: int = 24, levels: int = DEFAULT_MASK) -> list[ModelCard]:
    models = visible_models(user).filter(status=PublishStatus.PUBLISHED).filter(in_levels(levels))
    ids = list(models.order_by("-published_at", "-id").values_list("id", flat=True)[:limit])
    return model_cards(ids)


# The ranking runs in the database function models_app_search (migration 0033): it reads the narrow
# search table (models.SearchDocument), gathers candidates (the words, typos only when the words found
# less than a page, tags, the creator) and returns the best `limit` (model id, score, downloads). It
# is a function so that PostgreSQL keeps one plan per connection instead of planning this statement
# on every request, which cost more than running it (docs/performance.md#search-and-the-browse-list).
# Its arguments are cast: the driver may send a small int as int2 or int8.
SEARCH_CALL = "models_app_search(%(q)s::text, %(limit)s::integer, %(levels)s::integer) best"
SEARCH_FROM = (
    f"{SEARCH_CALL} JOIN models_app_aimodel m ON m.id = best.r_model_id JOIN auth_user u ON u.id = m.owner_id"
)
SEARCH_ORDER = "ORDER BY best.r_score DESC, best.r_downloads DESC, best.r_model_id DESC"
SEARCH_SQL = "SELECT {card_columns} FROM {source} {order}".format(
    card_columns=", ".join(
        [*(f"m.{name}" for name in CARD_FIELDS), "u.username", "m.tag_names", "m.base_model_names"]
    ),
    source=SEARCH_FROM,
    order=SEARCH_ORDER,
)
SEARCH_IDS_SQL = f"SELECT best.r_model_id FROM {SEARCH_CALL} {SEARCH_ORDER}"


def _search_text(query: str) -> str:
    return " ".join(query.split())[:200]


def _search_rows(query: str, *, limit: int, levels: int) -> list[tuple]:
    """PostgreSQL only: SEARCH_SQL's rows (the cards' columns), best first."""
    with connection.cursor() as cursor:
        cursor.execute(SEARCH_SQL, {"q": query, "limit": limit, "levels": int(levels)})
        return cursor.fetchall()


def search_models(user, query: str, *, limit: int = 24, levels: int = DEFAULT_MASK) -> list[ModelCard]:
    """Published models matching a free-text query, best first (see search_model_ids), of the
    `levels` mask only. On PostgreSQL the search query returns the cards' columns too: one round
    trip for the page."""
    query = _search_text(query)
    if query and connection.vendor == "postgresql":
        return [_card_from_search_row(row) for row in _search_rows(query, limit=limit, levels=levels)]
    return model_cards(search_model_ids(user, query, limit=limit, levels=levels))


def _card_from_search_row(row) -> ModelCard:
    *fields, creator, tag_names, base_model_names = row  # JSON columns come as text from a raw cursor
    return ModelCard(
        **dict(zip(CARD_FIELDS, fields, strict=True)),
        creator=creator,
        tags=json.loads(tag_names),
        base_models=json.loads(base_model_names),
    )


def search_model_ids(user, query: str, *, limit: int = 24, levels: int = DEFAULT_MASK) -> list[int]:
    """Ids of published models matching a free-text query, best first, of the `levels` mask only.

    On PostgreSQL every way of matching uses an index (migrations 0012, 0034, 0035): full-text search
    over name, tags, trigger words and description (one stored, weighted tsvector), the most
    downloaded documents first; for typos, each query word corrected to the closest word of a
    published name, and trigram similarity on tags; the creator. The candidates are then ranked by
    text rank plus name similarity.
    On SQLite: an FTS5 trigram index for substrings and typos, scored by field and by trigram
    similarity (sqlite_search.py); trigger words are those of published versions, as on PostgreSQL.
    """
    query = _search_text(query)
    if not query:
        return []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(SEARCH_IDS_SQL, {"q": query, "limit": limit, "levels": int(levels)})
            return [row[0] for row in cursor.fetchall()]
    models = visible_models(user).filter(status=PublishStatus.PUBLISHED).filter(in_levels(levels))
    return sqlite_search.search_ids(models, query, limit=limit)


# --- Browsing: filters from the URL, sorts, cursor pagination with a constant number of queries.

PERIODS = {"day": 1, "week": 7, "month": 30, "year": 365}
SORTS = {
    "rated": ("rating", gettext_lazy("Highest Rated")),
    "downloads": ("download_count", gettext_lazy("Most Downloaded")),
    "newest": ("published_at", gettext_lazy("Newest")),
    "oldest": ("published_at", gettext_lazy("Oldest")),
    "liked": ("like_count", gettext_lazy("Most Liked")),
    "discussed": ("comment_count", gettext_lazy("Most Discussed")),
}
ASCENDING_SORTS = {"oldest"}
MAX_PAGE_SIZE = 100
# CivitAI's allowCommercialUse values and the permission each one needs (RentCivit is renting on
# the hub itself, which the hub's one "rent" permission covers).
COMMERCIAL_USES = {
    "Image": "allow_commercial_images",
    "Rent": "allow_commercial_rent",
    "RentCivit": "allow_commercial_rent",
    "Sell": "allow_commercial_sell",
}


class BadQuery(ValueError):
    """A browse parameter the hub can't use; the message says which and why."""


@dataclass
class BrowseQuery:
    types: list[str] = field(default_factory=list)
    base_models: list[str] = field(default_factory=list)
    tag: str = ""
    creator: str = ""
    period: str = "all"
    safetensors_only: bool = False
    sort: str = "newest"
    limit: int = 24
    cursor: str = ""
    levels: int = DEFAULT_MASK  # the browsing mask (models_app/levels.py)
    # Used by the CivitAI-compatible API (compat/civitai/views.py); the pages leave them unset.
    ids: list[int] | None = None  # only these models, e.g. a search's matches (None: no such restriction)
    allow_no_credit: bool | None = None
    allow_derivatives: bool | None = None
    allow_different_license: bool | None = None
    commercial_uses: list[str] = field(default_factory=list)  # any of COMMERCIAL_USES, or "None"

    @classmethod
    def from_params(cls, params, *, levels: int = DEFAULT_MASK, default_limit: int = 24) -> "BrowseQuery":
        def listed(name):
            return [v.strip() for raw in params.getlist(name) for v in raw.split(",") if v.strip()]

        types = listed("type")
        unknown = [t for t in types if t not in ModelType.values]
        if unknown:
            raise BadQuery(f"Unknown type {unknown[0]!r}; use one of {', '.join(ModelType.values)}.")
        sort = params.get("sort", "newest")
        if sort not in SORTS:
            raise BadQuery(f"Unknown sort {sort!r}; use one of {', '.join(SORTS)}.")
        period = params.get("period", "all")
        if period != "all" and period not in PERIODS:
            raise BadQuery(f"Unknown period {period!r}; use one of day, week, month, year, all.")
        try:
            limit = int(params.get("limit", default_limit))
        except ValueError:
            raise BadQuery("limit must be a whole number.") from None
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise BadQuery(f"limit must be between 1 and {MAX_PAGE_SIZE}.")
        return cls(
            types=types,
            base_models=listed("base_model"),
            tag=normalize_tag(params.get("tag", "")),
            creator=params.get("creator", "").strip()[:150],
            period=period,
            safetensors_only=params.get("safetensors", "").lower() in ("1", "true", "on"),
            sort=sort,
            limit=limit,
            cursor=params.get("cursor", ""),
            levels=levels,
        )


def _encode_cursor(value, pk: int) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    return base64.urlsafe_b64encode(json.dumps([value, pk]).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort_field: str):
    try:
        value, pk = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if sort_field == "published_at":
            value = datetime.fromisoformat(value)
            if timezone.is_naive(value):
                raise ValueError
        elif sort_field == "rating":
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError
            value = float(value)
        elif isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
            raise ValueError
        if isinstance(pk, bool) or not isinstance(pk, int) or not 0 <= pk < 2**63:
            raise ValueError
        return value, pk
    except (ValueError, TypeError, OverflowError, binascii.Error, json.JSONDecodeError, UnicodeDecodeError):
        raise BadQuery("The cursor is malformed; start again from the first page.") from None


def browse_queryset(user, query: BrowseQuery, *, after_cursor: bool = True) -> QuerySet[AIModel]:
    """Published models matching the query's filters, in its sort order (the sort field, then id),
    starting after its cursor unless `after_cursor` is False."""
    sort_field = SORTS[query.sort][0]
    models = visible_models(user).filter(status=PublishStatus.PUBLISHED, published_at__isnull=False)
    models = models.filter(in_levels(query.levels))
    if query.ids is not None:
        models = models.filter(id__in=query.ids)
    if query.types:
        models = models.filter(type__in=query.types)
    if query.base_models:
        models = models.filter(
            versions__base_model__name__in=query.base_models, versions__status=PublishStatus.PUBLISHED
        )
    if query.tag:
        models = models.filter(tags__name=query.tag)
    if query.creator:
        models = models.filter(owner__username=query.creator)
    if query.period != "all":
        models = models.filter(published_at__gte=timezone.now() - timedelta(days=PERIODS[query.period]))
    if query.safetensors_only:
        models = models.filter(
            versions__files__format=FileFormat.SAFETENSOR, versions__files__status=FileStatus.READY
        )
    for name in ("allow_no_credit", "allow_derivatives", "allow_different_license"):
        if getattr(query, name) is not None:
            models = models.filter(**{name: getattr(query, name)})
    if query.commercial_uses:
        wanted = Q()
        for use in query.commercial_uses:
            if use == "None":
                wanted |= Q(**{permission: False for permission in COMMERCIAL_USES.values()})
            else:
                wanted |= Q(**{COMMERCIAL_USES[use]: True})
        models = models.filter(wanted)
    if query.base_models or query.safetensors_only:
        models = models.distinct()
    ascending = query.sort in ASCENDING_SORTS
    if query.cursor and after_cursor:
        value, pk = _decode_cursor(query.cursor, sort_field)
        after = "gt" if ascending else "lt"
        models = models.filter(
            Q(**{f"{sort_field}__{after}": value}) | Q(**{sort_field: value, f"id__{after}": pk})
        )
    if ascending:
        return models.order_by(sort_field, "id")
    return models.order_by(f"-{sort_field}", "-id")


def cursor_after(query: BrowseQuery, row) -> str:
    """The cursor of the page that follows `row` (a model, or a values() dict) in the query's order."""
    sort_field = SORTS[query.sort][0]
    if isinstance(row, dict):
        return _encode_cursor(row[sort_field], row["id"])
    return _encode_cursor(getattr(row, sort_field), row.id)


def browse_models(user, query: BrowseQuery) -> tuple[list[ModelCard], str | None]:
    """One page of published models matching the query, and the cursor of the next page (or None).

    Keyset pagination on (sort field, id): each page costs the same whatever its depth, and it is
    one query whatever the page size (the card's tags and base models are copies on the row).
    """
    rows = list(
        browse_queryset(user, query).values(*CARD_FIELDS, "tag_names", "base_model_names", **CARD_VALUES)[
            : query.limit + 1
        ]
    )
    next_cursor = None
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        next_cursor = cursor_after(query, rows[-1])
    return [_card(row) for row in rows], next_cursor


# The browse API's items are built by the database. Per database: a timestamp as iso_z formats it (UTC,
# milliseconds, Z), a timestamp as exact text for cursors, booleans and JSON columns inside an object.
# SQLite stores timestamps as 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC; its strftime('%f') would round.
_SQL = {
    "postgresql": {
        "iso_z": "to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
        "exact_time": "to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')",
        "bool": "{0}",
        "json": "{0}",
        "object": "json_build_object({0})::text",
    },
    "sqlite": {
        "iso_z": "substr({0}, 1, 10) || 'T' || substr({0}, 12, 8) || '.' || substr(substr({0}, 21) || '000', 1, 3) || 'Z'",
        "exact_time": "{0} || '+00:00'",
        "bool": "json(CASE WHEN {0} THEN 'true' ELSE 'false' END)",
        "json": "json({0})",
        "object": "json_object({0})",
    },
}

# (key, SQL over the model row {m} and its owner's username {user}, kind): what the browse API says
# of a model.
_ITEM_FIELDS = (
    ("id", "{m}.id", ""), ("name", "{m}.name", ""), ("slug", "{m}.slug", ""), ("type", "{m}.type", ""),
    ("nsfw", "({m}.nsfw_level > 2)", "bool"), ("nsfw_level", "{m}.nsfw_level", ""), ("creator", "{user}", ""),
    ("tags", "{m}.tag_names", "json"), ("base_models", "{m}.base_model_names", "json"),
    ("download_count", "{m}.download_count", ""), ("thumbs_up_count", "{m}.thumbs_up_count", ""),
    ("thumbs_down_count", "{m}.thumbs_down_count", ""), ("rating", "{m}.rating", ""),
    ("like_count", "{m}.like_count", ""), ("comment_count", "{m}.comment_count", ""),
    ("published_at", "{m}.published_at", "iso_z"), ("url", "'/models/' || {m}.id || '/' || {m}.slug", ""),
)  # fmt: skip


def _item_sql(vendor: str, model: str, username: str, fields=_ITEM_FIELDS) -> str:
    """The SQL of one item's JSON text, over the model row `model` and the owner's `username`."""
    sql = _SQL[vendor]
    pairs = []
    for key, expr, kind in fields:
        expr = expr.format(m=model, user=username)
        pairs.append(f"'{key}', {sql[kind].format(expr) if kind else expr}")
    return sql["object"].format(", ".join(pairs))


_compiled_pages: dict[str, tuple[str, tuple | None]] = {}
_COMPILED_PAGES_MAX = 512


def _page_sql(user, query: BrowseQuery, fields=_ITEM_FIELDS) -> tuple[str, tuple | None]:
    """The SQL (and parameters) of one browse API page: (id, cursor value, item JSON) per row.

    One flat query over the model rows: the ORM picks the rows (browse_queryset, so the filters stay
    in one place) and the database builds each item on them; the owner's name is an indexed lookup
    per row. Compiling the ORM query costs as much as running it, and most requests ask for the same
    few pages (the first page of a sort), so the compiled text is remembered per viewer kind and
    query; the rows are always read fresh. A period filter depends on the clock, and a search's ids
    differ every time: those are compiled each time."""
    sort_field = SORTS[query.sort][0]
    key = None
    if query.period == "all" and query.ids is None:
        viewer = "moderator" if can_moderate(user) else (user.pk if user.is_authenticated else "anonymous")
        key = repr((connection.vendor, viewer, astuple(query), fields))
        if key in _compiled_pages:
            return _compiled_pages[key]
    vendor = connection.vendor
    table = connection.ops.quote_name(AIModel._meta.db_table)  # the ORM's outer query has no alias
    username = f"(SELECT uu.username FROM auth_user uu WHERE uu.id = {table}.owner_id)"
    cursor_value = f"{table}.{sort_field}"
    if sort_field == "published_at":  # text: exact, and cheaper than a datetime the driver must parse
        cursor_value = _SQL[vendor]["exact_time"].format(cursor_value)
    rows = (
        browse_queryset(user, query)
        .annotate(
            page_cursor=RawSQL(cursor_value, ()),
            page_item=RawSQL(_item_sql(vendor, table, username, fields), ()),
        )
        .values_list("id", "page_cursor", "page_item")[: query.limit + 1]
    )
    compiled = rows.query.sql_with_params()
    if key is not None and vendor == "postgresql":
        # The values written into the text: a remembered page then runs as a statement without
        # parameters, which psycopg prepares and PostgreSQL plans once per connection (with
        # parameters it re-planned it on every request, as its generic plan looked dearer).
        compiled = (connection.ops.compose_sql(*compiled), None)
    if key is not None:
        if len(_compiled_pages) >= _COMPILED_PAGES_MAX:
            _compiled_pages.clear()  # simple bound; the hot pages come back at once
        _compiled_pages[key] = compiled
    return compiled


# The fields of BrowseQuery that only narrow a list down; a search with none of them set (the /search
# page's question, and what tools send) is answered by one query (_search_items).
_NARROWING = ("types", "base_models", "tag", "creator", "safetensors_only", "ids", "allow_no_credit",
              "allow_derivatives", "allow_different_license", "commercial_uses")  # fmt: skip


def _narrows(query: BrowseQuery) -> bool:
    default = BrowseQuery()
    return query.period != "all" or any(getattr(query, f) != getattr(default, f) for f in _NARROWING)


def _search_items(user, query: BrowseQuery, search: str) -> list[str]:
    """PostgreSQL, a search without filters: the items of the best matches, best first, in one query:
    the ranking function's rows with the same visibility rules as browse_queryset (published, with a
    publication date, of the mask's levels, Blocked only for moderators)."""
    levels = ", ".join(str(int(level)) for level in levels_in_filter(query.levels))
    blocked = "" if can_moderate(user) else f" AND m.nsfw_level <> {int(NsfwLevel.BLOCKED)}"
    sql = (
        f"SELECT {_item_sql('postgresql', 'm', 'u.username')} FROM {SEARCH_FROM} "
        f"WHERE m.status = 'published' AND m.published_at IS NOT NULL AND m.nsfw_level IN ({levels}){blocked} "
        f"{SEARCH_ORDER}"
    )
    params = {"q": _search_text(search), "limit": query.limit, "levels": int(query.levels)}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def browse_models_json(user, query: BrowseQuery, *, search: str = "") -> tuple[list[str], str | None]:
    """browse_models for the JSON API: the same rows, each item as JSON text made by the database.

    The hottest read of the hub (bench/load.py): building 100 items in Python (driver conversions,
    dicts, encoding) cost more than the query itself. The ORM picks the page (ids and sort keys, so its
    filters stay in one place, browse_queryset); the database then builds each item from the row.
    tests/models_app/test_browse.py checks each item against the card the pages show.

    With `search`, the best `limit` matches of search_model_ids that pass the filters, best first.
    """
    ranked_ids = None
    if search and connection.vendor == "postgresql" and not _narrows(query):
        return _search_items(user, query, search), None
    if search:
        ranked_ids = search_model_ids(user, search, limit=query.limit, levels=query.levels)
        if not ranked_ids:
            return [], None
        query = replace(query, ids=ranked_ids, cursor="")
    rows, next_cursor = browse_items_sql(user, query)
    if ranked_ids is not None:  # a search: its rank decides the order, and there is one page
        position = {model_id: i for i, model_id in enumerate(ranked_ids)}
        return [row[2] for row in sorted(rows, key=lambda row: position[row[0]])], None
    return [row[2] for row in rows], next_cursor


# The columns compat/civitai/shapes.py reads: a page of 100 models loads ~2,000 rows, and parsing
# the others (search vectors, markdown sources, the owner's password hash) was a good part of its cost.
API_MODEL_FIELDS = (
    "id", "name", "description_html", "type", "nsfw_level", "status", "owner_id", "tag_names",
    "allow_no_credit", "allow_derivatives", "allow_different_license", "allow_commercial_images",
    "allow_commercial_rent", "allow_commercial_sell", "created_at", "published_at", "updated_at",
    "download_count", "thumbs_up_count", "thumbs_down_count", "comment_count", "like_count", "rating",
    "owner__id", "owner__username",
)  # fmt: skip
API_VERSION_FIELDS = (
    "id", "model_id", "name", "description_html", "status", "nsfw_level", "created_at", "updated_at",
    "published_at", "trained_words", "usage_control", "early_access_days", "early_access_ends_at",
    "download_count", "thumbs_up_count", "thumbs_down_count", "base_model__id", "base_model__name",
)  # fmt: skip
API_FILE_FIELDS = (
    "id", "version_id", "name", "type", "format", "fp", "size_variant", "is_primary", "status",
    "scan_status", "scan_message", "scanned_at", "metadata", "blob__id", "blob__size", "blob__sha256",
    "blob__autov1", "blob__autov3", "blob__crc32", "blob__blake3",
)  # fmt: skip


def browse_items_sql(user, query: BrowseQuery, fields=_ITEM_FIELDS) -> tuple[list[tuple], str | None]:
    """A browse page as rows (id, cursor value, item JSON text) and the next page's cursor, in one
    query. `fields` are (key, SQL over {m} and {user}, kind) as _ITEM_FIELDS (kind "" or a key of
    _SQL): the browse API's items by default, the Hugging Face list's with its own."""
    if query.ids is not None and not query.ids:
        return [], None
    sql, params = _page_sql(user, query, tuple(fields))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    next_cursor = None
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        next_cursor = _encode_cursor(rows[-1][1], rows[-1][0])
    return rows, next_cursor


def api_models(user, ids: list[int], *, levels: int | None = None) -> list[AIModel]:
    """The models with these ids, in this order, each with the versions `user` may see (newest first),
    their files with blobs, and the owner: three queries whatever the number of models.

    For the CivitAI-compatible API, which shows every version with its files and example images.
    `levels`: a browsing mask; versions above it are left out (but for their creator and moderators).
    `model.versions.all()` and `version.files.all()` answer from the rows loaded here (see
    attach_rows: plain lists, so only `.all()` is meant on them).
    """
    if not ids:
        return []
    by_id = {
        model.id: model
        for model in AIModel.objects.select_related("owner").only(*API_MODEL_FIELDS).filter(id__in=ids)
    }
    if not by_id:
        return []
    versions = (
        ModelVersion.objects.select_related("base_model")
        .only(*API_VERSION_FIELDS)
        .filter(model_id__in=list(by_id))
        .exclude(status=PublishStatus.DELETED)
        .order_by("-created_at", "-id")
    )
    if not can_moderate(user):
        visible = Q(status=PublishStatus.PUBLISHED) | Q(status=PublishStatus.ARCHIVED)
        if levels is None:
            visible &= ~Q(nsfw_level=NsfwLevel.BLOCKED)
        else:
            visible &= Q(nsfw_level__in=levels_in_filter(levels & ALL))
        if user.is_authenticated:
            visible |= Q(model__owner=user)
        versions = versions.filter(visible)
    versions = list(versions)
    files = (
        ModelFile.objects.select_related("blob")
        .only(*API_FILE_FIELDS)
        .filter(version_id__in=[version.id for version in versions])
        .exclude(status=FileStatus.DELETED)
        .order_by("-is_primary", "id")
    )
    attach_rows(versions, "files", files, "version_id")
    attach_rows(by_id.values(), "versions", versions, "model_id")
    return [by_id[i] for i in ids if i in by_id]


def attach_rows(owners, name: str, rows, key: str) -> None:
    """Make `owner.<name>.all()` answer `rows` whose `key` is the owner's id, in their order.

    What prefetch_related does, without the queryset it clones for each owner: on a page of 100
    models with 400 versions those clones cost more than the queries (docs/performance.md).
    """
    grouped: dict[int, list] = {}
    for row in rows:
        grouped.setdefault(getattr(row, key), []).append(row)
    for owner in owners:
        cache = owner.__dict__.setdefault("_prefetched_objects_cache", {})
        cache[name] = grouped.get(owner.id, [])


def compare_versions(a: ModelVersion, b: ModelVersion) -> list[dict]:
    """What changed between two versions, as rows of (what, a, b, changed): base model, trigger words,
    files (name, size, SHA-256) and the training metadata of their primary files."""

    def files(version):
        return "\n".join(
            f"{f.name} ({f.size:,} bytes){' ' + f.blob.sha256[:12] if f.blob else ''}"
            for f in version.files.all()
            if f.status == FileStatus.READY
        )

    def training(version):
        primary = version.primary_file
        return (primary.metadata.get("training", {}).get("kohya", {}) if primary else {}) or {}

    rows = [
        (gettext("Base model"), a.base_model.name, b.base_model.name),
        (gettext("Trigger words"), ", ".join(a.trained_words), ", ".join(b.trained_words)),
        (
            gettext("Published"),
            a.published_at.date().isoformat() if a.published_at else "",
            b.published_at.date().isoformat() if b.published_at else "",
        ),
        (gettext("Files"), files(a), files(b)),
    ]
    train_a, train_b = training(a), training(b)
    for key in sorted(set(train_a) | set(train_b)):
        rows.append((key, str(train_a.get(key, ""))[:300], str(train_b.get(key, ""))[:300]))
    return [{"what": what, "a": va, "b": vb, "changed": va != vb} for what, va, vb in rows]

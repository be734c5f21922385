"""Reads with rules: who may see which models."""

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone

from .models import AIModel, FileFormat, FileStatus, ModelFile, ModelType, ModelVersion, PublishStatus


def can_moderate(user) -> bool:
    return user.is_authenticated and user.has_perm("models_app.moderate_content")


def visible_models(user) -> QuerySet[AIModel]:
    """Published models for everyone; a creator also sees their own drafts, moderators see all."""
    models = AIModel.objects.select_related("owner")
    if can_moderate(user):
        return models
    published = Q(status=PublishStatus.PUBLISHED)
    if user.is_authenticated:
        return models.filter(published | Q(owner=user))
    return models.filter(published)


def visible_versions(user, model: AIModel) -> QuerySet[ModelVersion]:
    versions = model.versions.select_related("base_model").prefetch_related(
        Prefetch("files", queryset=ModelFile.objects.select_related("blob"))
    )
    if can_moderate(user) or (user.is_authenticated and model.owner_id == user.id):
        return versions
    return versions.filter(status=PublishStatus.PUBLISHED)


def visible_files(user, version: ModelVersion) -> list[ModelFile]:
    """A version's files as this viewer may see them: the creator and moderators see every file with
    its problems; everyone else only files that passed (or are still being) processed."""
    files = list(version.files.all())
    if can_moderate(user) or (user.is_authenticated and version.model.owner_id == user.id):
        return files
    shown = {FileStatus.READY, FileStatus.PENDING, FileStatus.PROCESSING}
    return [f for f in files if f.status in shown]


@dataclass
class ModelCard:
    """What a list shows of a model: a plain row, built with a fixed number of queries per page."""

    id: int
    name: str
    slug: str
    type: str
    nsfw: bool
    status: str
    creator: str
    download_count: int
    thumbs_up_count: int
    thumbs_down_count: int
    rating: float
    like_count: int
    comment_count: int
    published_at: datetime | None
    tags: list[str] = field(default_factory=list)
    base_models: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"/models/{self.id}/{self.slug}"  # = AIModel.get_absolute_url(), without a reverse() per row

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
    "id", "name", "slug", "type", "nsfw", "status", "download_count", "thumbs_up_count",
    "thumbs_down_count", "rating", "like_count", "comment_count", "published_at",
)  # fmt: skip


CARD_VALUES = {"creator": F("owner__username")}


def _card(row: dict) -> ModelCard:
    row = dict(row)
    tags, base_models = row.pop("tag_names"), row.pop("base_model_names")
    return ModelCard(**row, tags=tags, base_models=base_models)


def model_cards(ids: list[int]) -> list[ModelCard]:
    """Cards for these models, in this order: one single-table query (tags and base models are
    copied onto the model row, see services.refresh_card_fields)."""
    if not ids:
        return []
    rows = AIModel.objects.filter(id__in=ids).values(
        *CARD_FIELDS, "tag_names", "base_model_names", **CARD_VALUES
    )
    by_id = {row["id"]: row for row in rows}
    return [_card(by_id[i]) for i in ids if i in by_id]


def latest_models(user, *, limit: int = 24) -> list[ModelCard]:
    ids = list(
        visible_models(user)
        .filter(status=PublishStatus.PUBLISHED, nsfw=False)
        .order_by("-published_at", "-id")
        .values_list("id", flat=True)[:limit]
    )
    return model_cards(ids)


# `= ANY(ARRAY(...))` makes PostgreSQL look the few matching rows up by index instead of hashing
# whole tables, which its row estimates for these small sets would otherwise lead it to do.
SEARCH_SQL = """
WITH q AS (SELECT websearch_to_tsquery('english', %(q)s) AS tsq),
candidates AS (
    (SELECT a.id FROM models_app_aimodel a, q WHERE a.search_vector @@ q.tsq LIMIT 200)
    UNION (SELECT a.id FROM models_app_aimodel a WHERE a.name %% %(q)s LIMIT 200)
    UNION (SELECT t.aimodel_id FROM models_app_aimodel_tags t WHERE t.tag_id = ANY(ARRAY(
               SELECT g.id FROM models_app_tag g WHERE g.name = lower(%(q)s) OR g.name %% lower(%(q)s)))
           LIMIT 200)
    UNION (SELECT a.id FROM models_app_aimodel a WHERE a.owner_id = ANY(ARRAY(
               SELECT u.id FROM auth_user u WHERE upper(u.username) = upper(%(q)s))))
)
SELECT m.id FROM models_app_aimodel m, q
WHERE m.id = ANY(ARRAY(SELECT id FROM candidates)) AND m.status = 'published' AND NOT m.nsfw
ORDER BY ts_rank(m.search_vector, q.tsq) + similarity(m.name, %(q)s) DESC, m.download_count DESC, m.id DESC
LIMIT %(limit)s
"""


def search_models(user, query: str, *, limit: int = 24) -> list[ModelCard]:
    """Published, safe-for-work models matching a free-text query, best first.

    On PostgreSQL every way of matching uses an index (migrations 0005, 0007, 0009): full-text search
    over name, tags, trigger words and description (one stored, weighted tsvector), trigram
    similarity on names and tags for typos, and the creator; the candidates are then ranked by text
    rank plus name similarity.
    On SQLite: substring matches, most downloaded first.
    """
    query = " ".join(query.split())[:200]
    if not query:
        return []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(SEARCH_SQL, {"q": query, "limit": limit})
            return model_cards([row[0] for row in cursor.fetchall()])
    rows = (
        visible_models(user)
        .filter(status=PublishStatus.PUBLISHED, nsfw=False)
        .filter(
            Q(name__icontains=query) | Q(description__icontains=query) | Q(tags__name__icontains=query)
            | Q(tags__name=query.lower()) | Q(owner__username__iexact=query)
            | Q(versions__trained_words__icontains=query)
        )
        .values_list("id", "download_count")
        .distinct()
        .order_by("-download_count", "-id")[:limit]
    )  # fmt: skip
    return model_cards([row[0] for row in rows])


# --- Browsing: filters from the URL, two sorts, cursor pagination with a constant number of queries.

PERIODS = {"day": 1, "week": 7, "month": 30, "year": 365}
SORTS = {
    "rated": ("rating", "Highest Rated"),
    "downloads": ("download_count", "Most Downloaded"),
    "newest": ("published_at", "Newest"),
    "liked": ("like_count", "Most Liked"),
    "discussed": ("comment_count", "Most Discussed"),
}
MAX_PAGE_SIZE = 100


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
    show_nsfw: bool = False
    ids: list[int] | None = None  # only these models (e.g. the matches of a search); None: all

    @classmethod
    def from_params(cls, params, *, show_nsfw: bool = False, default_limit: int = 24) -> "BrowseQuery":
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
            tag=params.get("tag", "").strip().lower()[:60],
            creator=params.get("creator", "").strip()[:150],
            period=period,
            safetensors_only=params.get("safetensors", "").lower() in ("1", "true", "on"),
            sort=sort,
            limit=limit,
            cursor=params.get("cursor", ""),
            show_nsfw=show_nsfw,
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
        elif sort_field == "rating":
            value = float(value)
        elif not isinstance(value, int):
            raise ValueError
        if not isinstance(pk, int):
            raise ValueError
        return value, pk
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError, UnicodeDecodeError):
        raise BadQuery("The cursor is malformed; start again from the first page.") from None


def browse_models(user, query: BrowseQuery) -> tuple[list[ModelCard], str | None]:
    """One page of published models matching the query, and the cursor of the next page (or None).

    Keyset pagination on (sort field, id): each page costs the same whatever its depth, and it is
    one query whatever the page size (the card's tags and base models are copies on the row).
    """
    sort_field = SORTS[query.sort][0]
    models = visible_models(user).filter(status=PublishStatus.PUBLISHED, published_at__isnull=False)
    if not query.show_nsfw:
        models = models.filter(nsfw=False)
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
    if query.base_models or query.safetensors_only:
        models = models.distinct()
    if query.cursor:
        value, pk = _decode_cursor(query.cursor, sort_field)
        models = models.filter(Q(**{f"{sort_field}__lt": value}) | Q(**{sort_field: value, "id__lt": pk}))
    rows = list(
        models.order_by(f"-{sort_field}", "-id").values(
            *CARD_FIELDS, "tag_names", "base_model_names", **CARD_VALUES
        )[: query.limit + 1]
    )
    next_cursor = None
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        next_cursor = _encode_cursor(rows[-1][sort_field], rows[-1]["id"])
    return [_card(row) for row in rows], next_cursor


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
        ("Base model", a.base_model.name, b.base_model.name),
        ("Trigger words", ", ".join(a.trained_words), ", ".join(b.trained_words)),
        (
            "Published",
            a.published_at.date().isoformat() if a.published_at else "",
            b.published_at.date().isoformat() if b.published_at else "",
        ),
        ("Files", files(a), files(b)),
    ]
    train_a, train_b = training(a), training(b)
    for key in sorted(set(train_a) | set(train_b)):
        rows.append((key, str(train_a.get(key, ""))[:300], str(train_b.get(key, ""))[:300]))
    return [{"what": what, "a": va, "b": vb, "changed": va != vb} for what, va, vb in rows]

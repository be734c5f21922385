"""Search on SQLite, the embedded default, with typo tolerance (`watercolr` finds "Watercolor");
docs/embedded-services.md#search-on-sqlite.

An FTS5 table with the trigram tokenizer holds each model's name, tags, trigger words and
description; triggers on the model table keep it in step on every insert, update and delete, so no
code path can forget it (as the PostgreSQL triggers of migration 0012 do for SearchDocument).
Publishing, unpublishing and the content level are read from the model row at query time.

It is installed by a post_migrate handler (apps.py), not by a migration: it exists on SQLite only,
`CREATE ... IF NOT EXISTS` makes it idempotent, and each migrate refills it, so a migration that
rebuilds the model table (which drops its triggers) can't leave it stale.

A query finds candidates two ways, each one indexed lookup: every word as a substring anywhere
(the trigram index answers LIKE-style matches), and any trigram of the query in the name, tags or
trigger words (typos), best bm25 first. The candidates are then scored here: substring matches by
field (name above tags above trigger words above description), plus the trigram similarity of
each query word to the closest word of the name, tags and trigger words (pg_trgm's measure:
shared / all trigrams of the two words, padded). A candidate without any substring match needs a
similarity of at least SIMILARITY_THRESHOLD (pg_trgm's default 0.3). When the index finds less than
a page, the names, tags and trigger words of the FALLBACK_SCAN most downloaded models are scored too:
a typo in a short word may share no trigram with it ("anme", "anime").
"""

import json

from django.db import connection
from django.db.utils import DatabaseError

TABLE = "models_app_search_fts"
CANDIDATES = 200  # per way of matching
SIMILARITY_THRESHOLD = 0.3
FALLBACK_SCAN = 2000  # most downloaded models whose names are scored when the index finds few matches

_CREATE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5("
    "name, tags, words, description, tokenize = 'trigram')"
)
_COLUMNS = "name, tags, words, description"
_VALUES = "new.name, new.tag_names, new.trigger_words, new.description"
_TRIGGERS = (
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_insert AFTER INSERT ON models_app_aimodel BEGIN
        INSERT INTO {TABLE}(rowid, {_COLUMNS}) VALUES (new.id, {_VALUES});
    END""",
    # Only the searched columns: counters change often and must not rewrite the index.
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_update
        AFTER UPDATE OF name, tag_names, trigger_words, description ON models_app_aimodel BEGIN
        DELETE FROM {TABLE} WHERE rowid = old.id;
        INSERT INTO {TABLE}(rowid, {_COLUMNS}) VALUES (new.id, {_VALUES});
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_delete AFTER DELETE ON models_app_aimodel BEGIN
        DELETE FROM {TABLE} WHERE rowid = old.id;
    END""",
)


def install(sender=None, using="default", **kwargs) -> None:
    """post_migrate (models_app): create the table and its triggers if missing, then refill it."""
    from django.db import connections, transaction

    conn = connections[using]
    if conn.vendor != "sqlite":
        return
    with transaction.atomic(using=using), conn.cursor() as cursor:
        try:
            cursor.execute(_CREATE)
        except DatabaseError:  # no FTS5 or no trigram tokenizer: search falls back (search_ids)
            return
        for sql in _TRIGGERS:
            cursor.execute(sql)
        cursor.execute(f"DELETE FROM {TABLE}")
        cursor.execute(
            f"INSERT INTO {TABLE}(rowid, {_COLUMNS}) "
            "SELECT id, name, tag_names, trigger_words, description FROM models_app_aimodel"
        )


def _installed() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [TABLE])
        return cursor.fetchone() is not None


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _fts_ids(match: str) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH %s ORDER BY rank LIMIT %s", [match, CANDIDATES]
        )
        return [row[0] for row in cursor.fetchall()]


def candidate_ids(query: str) -> list[int] | None:
    """Ids worth scoring for `query`, or None when the FTS table is missing (then scan instead)."""
    if not _installed():
        return None
    words = [w for w in query.lower().split() if len(w) >= 3]  # the trigram index can't see shorter
    if not words:
        return []
    exact = " AND ".join(_quoted(w) for w in words)
    grams = sorted({w[i : i + 3] for w in words for i in range(len(w) - 2)})
    typos = "{name tags words} : (" + " OR ".join(_quoted(g) for g in grams) + ")"
    return list(dict.fromkeys(_fts_ids(exact) + _fts_ids(typos)))


def trigrams(word: str) -> set[str]:
    """pg_trgm's trigrams of one word: lowercased, two spaces before and one after."""
    padded = f"  {word.lower()} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def similarity(a: str, b: str) -> float:
    ta, tb = trigrams(a), trigrams(b)
    return len(ta & tb) / len(ta | tb) if ta and tb else 0.0


def _as_list(value) -> list[str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return [value]
    return [str(v) for v in value or []]


def score(query: str, row: dict) -> float:
    """How well a model (name, tag_names, trigger_words, description, creator) matches; 0: not at all."""
    q = query.lower()
    words = q.split()
    name = row["name"].lower()
    tags = [t.lower() for t in _as_list(row["tag_names"])]
    triggers = [t.lower() for t in _as_list(row["trigger_words"])]
    description = (row["description"] or "").lower()

    def has_all(text: str) -> bool:
        return all(w in text for w in words)

    exact = 0.0
    if has_all(name):
        exact += 4 if q in name else 3
    if q in tags:
        exact += 3
    elif any(has_all(t) for t in tags):
        exact += 2
    if any(has_all(t) for t in triggers):
        exact += 1.5
    if has_all(description):
        exact += 1
    if row["creator"].lower() == q:
        exact += 2
    others = set(tags) | {w for t in tags for w in t.split()} | set(triggers)
    others |= {w for t in triggers for w in t.split()}

    def closeness(vocabulary) -> float:
        """The mean, over the query's words, of the similarity to the closest word of `vocabulary`."""
        best = [max((similarity(w, v) for v in vocabulary), default=0.0) for w in words]
        return sum(best) / len(best) if best else 0.0

    in_name, in_others = closeness(set(name.split())), closeness(others)
    if not exact and max(in_name, in_others) < SIMILARITY_THRESHOLD:
        return 0.0
    return exact + max(in_name, 0.8 * in_others)  # a near miss in the name counts more than in a tag


def _excluding(query: str) -> tuple[str, list[str]]:
    """The query without the words it excludes ("-portrait", at the start or after a space, as
    PostgreSQL's websearch_to_tsquery reads it), and those words, lowercased."""
    kept, excluded = [], []
    for word in query.split():
        if word.startswith("-") and len(word) > 1:
            excluded.append(word[1:].lower())
        else:
            kept.append(word)
    return " ".join(kept), excluded


def search_ids(models, query: str, *, limit: int) -> list[int]:
    """Ids of the models in `models` (a queryset with the visibility rules applied) matching `query`,
    best first; ties go to the most downloaded. A word the query excludes ("-portrait") is in none of
    them: in no name, tag, trigger word or description."""
    from django.db.models import F, Q

    query, excluded = _excluding(query)
    for word in excluded:
        models = models.exclude(
            Q(name__icontains=word) | Q(tag_names__icontains=word)
            | Q(trigger_words__icontains=word) | Q(description__icontains=word)
        )  # fmt: skip
    if not query and not excluded:
        return []
    if not query:  # nothing but exclusions ("-portraits"): every model without them matches, as on
        # PostgreSQL (websearch_to_tsquery), the most downloaded first
        return list(models.order_by("-download_count", "-id").values_list("id", flat=True)[:limit])
    fields = ("id", "name", "tag_names", "trigger_words", "description", "download_count")
    ids = candidate_ids(query)
    lowered = query.lower()
    wanted = Q(owner__username__iexact=query) | Q(tags__name=lowered)
    if len(query) < 3 or ids is None:  # below one trigram, or no FTS5: plain substring matches too
        wanted |= Q(name__icontains=query) | Q(tags__name__icontains=lowered)
        wanted |= Q(description__icontains=query) | Q(trigger_words__icontains=query)
    rows = list(
        models.filter(Q(id__in=ids or []) | wanted).values(*fields, creator=F("owner__username")).distinct()
    )
    scored = {row["id"]: (score(query, row), row["download_count"], row["id"]) for row in rows}
    if sum(1 for s in scored.values() if s[0] > 0) < limit:
        # Few matches: a short word's typo shares no trigram with the right word ("anme", "anime"),
        # so score the names, tags and trigger words of the most downloaded models too.
        scan = models.exclude(id__in=list(scored)).order_by("-download_count", "-id")
        for row in scan.values(*fields[:4], "download_count", creator=F("owner__username"))[:FALLBACK_SCAN]:
            scored[row["id"]] = (score(query, {**row, "description": ""}), row["download_count"], row["id"])
    best = sorted((s for s in scored.values() if s[0] > 0), reverse=True)
    return [model_id for _, _, model_id in best[:limit]]

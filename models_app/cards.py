"""The copies of a model's related rows that lists, cards and search read from the model row itself
(AIModel.tag_names, base_model_names, trigger_words, preview_image_id), so a page of cards is one query.

Anything that changes what a card shows calls refresh_card_fields: the catalog services, the worker
after an example image is processed, the admin, bulk imports.
"""

from django.db import connection, transaction
from django.db.models import F

from .models import AIModel, ModelVersion, PublishStatus

# Set-based (docs/scaling-database.md#filling-the-card-copies): one aggregate per relation, each
# grouped once, joined to the models once. The correlated subqueries this replaces ran a plan per
# model; on a freshly seeded 100k catalog with no statistics yet the planner chose scans for them and
# the UPDATE did not finish in 10 minutes (issue 17). {where} narrows every aggregate to the given
# models (an index lookup on model_id for the single-model refresh on publish) or is empty for all.
# Rows whose copies already match are not rewritten (no dead row, no search-document trigger run).
CARD_FIELDS_SQL = """
WITH tag_lists AS (
    SELECT t.aimodel_id AS model_id, json_agg(g.name ORDER BY g.name) AS names
    FROM models_app_aimodel_tags t JOIN models_app_tag g ON g.id = t.tag_id
    WHERE TRUE {tag_where}
    GROUP BY t.aimodel_id
), base_lists AS (
    SELECT v.model_id, json_agg(DISTINCT b.name) AS names
    FROM models_app_modelversion v JOIN models_app_basemodel b ON b.id = v.base_model_id
    WHERE v.status = 'published' {version_where}
    GROUP BY v.model_id
), word_lists AS (
    SELECT v.model_id, jsonb_agg(DISTINCT w) AS words
    FROM models_app_modelversion v, jsonb_array_elements_text(v.trained_words) w
    WHERE v.status = 'published' AND jsonb_typeof(v.trained_words) = 'array' {version_where}
    GROUP BY v.model_id
), cards AS (
    SELECT a.id,
        COALESCE(tl.names, '[]'::json)::jsonb AS tag_names,
        COALESCE(bl.names, '[]'::json)::jsonb AS base_model_names,
        COALESCE(wl.words, '[]'::jsonb) AS trigger_words
    FROM models_app_aimodel a
    LEFT JOIN tag_lists tl ON tl.model_id = a.id
    LEFT JOIN base_lists bl ON bl.model_id = a.id
    LEFT JOIN word_lists wl ON wl.model_id = a.id
    WHERE TRUE {model_where}
)
UPDATE models_app_aimodel m SET
    tag_names = c.tag_names, base_model_names = c.base_model_names, trigger_words = c.trigger_words
FROM cards c
WHERE m.id = c.id AND (m.tag_names IS DISTINCT FROM c.tag_names
    OR m.base_model_names IS DISTINCT FROM c.base_model_names
    OR m.trigger_words IS DISTINCT FROM c.trigger_words)
"""
ALL_MODELS_SQL = CARD_FIELDS_SQL.format(tag_where="", version_where="", model_where="")
SOME_MODELS_SQL = CARD_FIELDS_SQL.format(
    tag_where="AND t.aimodel_id = ANY(%(ids)s)",
    version_where="AND v.model_id = ANY(%(ids)s)",
    model_where="AND a.id = ANY(%(ids)s)",
)
# Tables the bulk refresh reads; analyzed first so that a bulk import's plan rests on statistics.
CARD_SOURCE_TABLES = (
    "models_app_aimodel",
    "models_app_aimodel_tags",
    "models_app_tag",
    "models_app_modelversion",
    "models_app_basemodel",
)


# Example images live in resources, above this app: it registers a finder, called as
# finder(versions={model_id: [published version ids, newest first]}) -> {model_id: image id}, that
# names each model's preview (its first example image of the newest version that has one).
PREVIEW_FINDERS: list = []


def register_preview_finder(finder):
    """Add a finder to PREVIEW_FINDERS once (AppConfig.ready can run more than once in tests)."""
    if finder not in PREVIEW_FINDERS:
        PREVIEW_FINDERS.append(finder)
    return finder


def _refresh_previews(model_ids=None) -> None:
    """Point each model's preview_image_id at what the finders name (None without one)."""
    versions = ModelVersion.objects.filter(status=PublishStatus.PUBLISHED)
    models = AIModel.objects.all()
    if model_ids is not None:
        versions = versions.filter(model_id__in=model_ids)
        models = models.filter(id__in=model_ids)
    newest_first: dict[int, list[int]] = {}
    order = (F("published_at").desc(nulls_last=True), "-id")
    for model_id, version_id in versions.order_by(*order).values_list("model_id", "id"):
        newest_first.setdefault(model_id, []).append(version_id)
    found: dict[int, int] = {}
    for finder in PREVIEW_FINDERS:
        found.update(finder(versions=newest_first))
    for model_id, current in models.values_list("id", "preview_image_id"):
        if found.get(model_id) != current:
            AIModel.objects.filter(id=model_id).update(preview_image_id=found.get(model_id))


def refresh_card_fields(*, model_ids=None) -> None:
    """Recompute the copies lists and search read (AIModel.tag_names, base_model_names, trigger_words).

    Safe to run any time: it only derives from the tags relation and the published versions.
    With no ids, every model (used after bulk imports such as seed_catalog). Once committed, the
    kept lists are dropped, so they show the change at once (page_cache.forget_lists).
    """
    from .page_cache import forget_lists  # imported here: page_cache reads the cards (selectors)

    transaction.on_commit(forget_lists)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if model_ids is None:
                for table in CARD_SOURCE_TABLES:
                    cursor.execute(f"ANALYZE {table}")
                cursor.execute(ALL_MODELS_SQL)
            else:
                cursor.execute(SOME_MODELS_SQL, {"ids": list(model_ids)})
        _refresh_previews(model_ids)
        return
    models = AIModel.objects.all() if model_ids is None else AIModel.objects.filter(id__in=model_ids)
    for model in models.prefetch_related("tags", "versions__base_model"):
        model.tag_names = sorted(tag.name for tag in model.tags.all())
        published = [v for v in model.versions.all() if v.status == PublishStatus.PUBLISHED]
        model.base_model_names = sorted({v.base_model.name for v in published})
        model.trigger_words = sorted({word for v in published for word in v.trained_words})
        model.save(update_fields=["tag_names", "base_model_names", "trigger_words"])
    _refresh_previews(model_ids)

"""The copies of a model's related rows that lists, cards and search read from the model row itself
(AIModel.tag_names, base_model_names, trigger_words, preview_image_id), so a page of cards is one query.

Anything that changes what a card shows calls refresh_card_fields: the catalog services, the worker
after an example image is processed, the admin, bulk imports.
"""

from django.db import connection
from django.db.models import F

from .models import AIModel, ModelVersion, PublishStatus

# Migrations 0008 and 0009 fill these columns for rows that existed before them.
CARD_FIELDS_SQL = """
UPDATE models_app_aimodel m SET
    tag_names = COALESCE((SELECT json_agg(g.name ORDER BY g.name) FROM models_app_aimodel_tags t
                          JOIN models_app_tag g ON g.id = t.tag_id WHERE t.aimodel_id = m.id), '[]'::json),
    base_model_names = COALESCE((SELECT json_agg(DISTINCT b.name) FROM models_app_modelversion v
                                 JOIN models_app_basemodel b ON b.id = v.base_model_id
                                 WHERE v.model_id = m.id AND v.status = 'published'), '[]'::json),
    trigger_words = COALESCE((SELECT jsonb_agg(DISTINCT w) FROM models_app_modelversion v,
                              jsonb_array_elements_text(v.trained_words) w
                              WHERE v.model_id = m.id AND v.status = 'published'
                              AND jsonb_typeof(v.trained_words) = 'array'), '[]'::jsonb)
"""


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
    With no ids, every model (used after bulk imports such as seed_catalog).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if model_ids is None:
                cursor.execute(CARD_FIELDS_SQL)
            else:
                cursor.execute(CARD_FIELDS_SQL + " WHERE m.id = ANY(%s)", [list(model_ids)])
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

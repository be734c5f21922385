"""The copies of a model's related rows that lists, cards and search read from the model row itself
(AIModel.tag_names, base_model_names, trigger_words, preview_image), so a page of cards is one query.

Anything that changes what a card shows calls refresh_card_fields: the catalog services, the worker
after an example image is processed, the admin, bulk imports.
"""

from django.db import connection

from .models import AIModel, FileType, PublishStatus

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
                              AND jsonb_typeof(v.trained_words) = 'array'), '[]'::jsonb),
    preview_image_id = (SELECT f.id FROM models_app_modelfile f
                        JOIN models_app_modelversion v ON v.id = f.version_id
                        WHERE v.model_id = m.id AND v.status = 'published' AND f.type = 'Image'
                        AND f.status = 'ready' AND f.scan_status = 'clean'
                        ORDER BY v.published_at DESC NULLS LAST, v.id DESC, f.id LIMIT 1)
"""


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
        return
    models = AIModel.objects.all() if model_ids is None else AIModel.objects.filter(id__in=model_ids)
    for model in models.prefetch_related("tags", "versions__base_model", "versions__files"):
        model.tag_names = sorted(tag.name for tag in model.tags.all())
        published = [v for v in model.versions.all() if v.status == PublishStatus.PUBLISHED]
        model.base_model_names = sorted({v.base_model.name for v in published})
        model.trigger_words = sorted({word for v in published for word in v.trained_words})
        newest_first = sorted(
            published, key=lambda v: (v.published_at is not None, v.published_at, v.id), reverse=True
        )
        previews = [
            f
            for v in newest_first
            for f in sorted(v.files.all(), key=lambda f: f.id)
            if f.type == FileType.IMAGE and f.is_downloadable
        ]
        model.preview_image = previews[0] if previews else None
        model.save(update_fields=["tag_names", "base_model_names", "trigger_words", "preview_image"])

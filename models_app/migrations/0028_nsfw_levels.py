"""NSFW levels (docs/moderation.md#nsfw-levels): the boolean `nsfw` becomes a level (CivitAI's bits):
false -> PG (1), true -> R (4), on models and the search table; versions get a level (PG); viewers
get a row for the levels they browse. 0029 drops the booleans, in a transaction of its own."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from models_app.migration_ops import postgresql_only

LEVELS = [(1, "PG"), (2, "PG-13"), (4, "R"), (8, "X"), (16, "XXX"), (32, "Blocked")]

# The search table's trigger (migration 0012) read `nsfw`; it now copies `nsfw_level`. The old trigger
# goes here: its WHEN clause depends on the column 0029 removes.
DROP_TRIGGERS = [
    "DROP TRIGGER IF EXISTS models_app_searchdocument_update ON models_app_aimodel",
    "DROP TRIGGER IF EXISTS models_app_searchdocument_insert ON models_app_aimodel",
    "DROP FUNCTION IF EXISTS models_app_searchdocument_sync()",
]
LEVEL_TRIGGERS = [
    *DROP_TRIGGERS,
    """CREATE FUNCTION models_app_searchdocument_sync() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
           INSERT INTO models_app_searchdocument (model_id, vector, name, published, nsfw_level, download_count)
           VALUES (NEW.id, NEW.search_vector, NEW.name, NEW.status = 'published', NEW.nsfw_level, NEW.download_count)
           ON CONFLICT (model_id) DO UPDATE SET vector = EXCLUDED.vector, name = EXCLUDED.name,
               published = EXCLUDED.published, nsfw_level = EXCLUDED.nsfw_level,
               download_count = EXCLUDED.download_count;
           RETURN NULL;
       END $$""",
    """CREATE TRIGGER models_app_searchdocument_insert AFTER INSERT ON models_app_aimodel
       FOR EACH ROW EXECUTE FUNCTION models_app_searchdocument_sync()""",
    """CREATE TRIGGER models_app_searchdocument_update AFTER UPDATE ON models_app_aimodel
       FOR EACH ROW WHEN (OLD.search_vector IS DISTINCT FROM NEW.search_vector OR OLD.name IS DISTINCT FROM NEW.name
           OR OLD.status IS DISTINCT FROM NEW.status OR OLD.nsfw_level IS DISTINCT FROM NEW.nsfw_level
           OR OLD.download_count IS DISTINCT FROM NEW.download_count)
       EXECUTE FUNCTION models_app_searchdocument_sync()""",
]
BOOLEAN_TRIGGERS = [
    *DROP_TRIGGERS,
    """CREATE FUNCTION models_app_searchdocument_sync() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
           INSERT INTO models_app_searchdocument (model_id, vector, name, published, nsfw, download_count)
           VALUES (NEW.id, NEW.search_vector, NEW.name, NEW.status = 'published', NEW.nsfw, NEW.download_count)
           ON CONFLICT (model_id) DO UPDATE SET vector = EXCLUDED.vector, name = EXCLUDED.name,
               published = EXCLUDED.published, nsfw = EXCLUDED.nsfw, download_count = EXCLUDED.download_count;
           RETURN NULL;
       END $$""",
    """CREATE TRIGGER models_app_searchdocument_insert AFTER INSERT ON models_app_aimodel
       FOR EACH ROW EXECUTE FUNCTION models_app_searchdocument_sync()""",
    """CREATE TRIGGER models_app_searchdocument_update AFTER UPDATE ON models_app_aimodel
       FOR EACH ROW WHEN (OLD.search_vector IS DISTINCT FROM NEW.search_vector OR OLD.name IS DISTINCT FROM NEW.name
           OR OLD.status IS DISTINCT FROM NEW.status OR OLD.nsfw IS DISTINCT FROM NEW.nsfw
           OR OLD.download_count IS DISTINCT FROM NEW.download_count)
       EXECUTE FUNCTION models_app_searchdocument_sync()""",
]


def booleans_to_levels(apps, schema_editor):
    for name in ("AIModel", "SearchDocument"):
        Model = apps.get_model("models_app", name)
        Model.objects.filter(nsfw=True).update(nsfw_level=4)
        Model.objects.filter(nsfw=False).update(nsfw_level=1)


def levels_to_booleans(apps, schema_editor):
    for name in ("AIModel", "SearchDocument"):
        Model = apps.get_model("models_app", name)
        Model.objects.filter(nsfw_level__gt=2).update(nsfw=True)
        Model.objects.filter(nsfw_level__lte=2).update(nsfw=False)


class Migration(migrations.Migration):
    dependencies = [
        ("models_app", "0027_funding_goals"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="aimodel",
            name="nsfw_level",
            field=models.PositiveSmallIntegerField(choices=LEVELS, db_default=1, db_index=True, default=1),
        ),
        migrations.AddField(
            model_name="modelversion",
            name="nsfw_level",
            field=models.PositiveSmallIntegerField(choices=LEVELS, db_default=1, default=1),
        ),
        migrations.AddField(
            model_name="searchdocument",
            name="nsfw_level",
            field=models.PositiveSmallIntegerField(db_default=1, default=1),
        ),
        migrations.RunPython(booleans_to_levels, levels_to_booleans),
        # The new trigger writes only nsfw_level; until 0029 drops it, the old column takes a default.
        migrations.AlterField(
            model_name="searchdocument",
            name="nsfw",
            field=models.BooleanField(db_default=False, default=False),
        ),
        postgresql_only(LEVEL_TRIGGERS, BOOLEAN_TRIGGERS),
        migrations.CreateModel(
            name="ViewerPreference",
            fields=[
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="viewer_preference",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("browsing_levels", models.PositiveSmallIntegerField(db_default=1, default=1)),
                ("blur_mature", models.BooleanField(db_default=False, default=False)),
            ],
        ),
    ]

from django.db import migrations

from models_app.migration_ops import postgresql_only

# PostgreSQL only. A stored, generated tsvector column (ranking reads it instead of re-parsing every
# description) with a GIN index, and a trigram index over trigger words for substring matches. The
# column is not a Django field: the database fills it, and only models_app.selectors reads it.
FORWARD = [
    "DROP INDEX IF EXISTS models_app_aimodel_search",
    """ALTER TABLE models_app_aimodel ADD COLUMN IF NOT EXISTS search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', coalesce(name, '')), 'A') ||
        setweight(to_tsvector('english', coalesce(description, '')), 'C')) STORED""",
    "CREATE INDEX IF NOT EXISTS models_app_aimodel_search_vector ON models_app_aimodel USING gin (search_vector)",
    """CREATE INDEX IF NOT EXISTS models_app_version_words_trgm ON models_app_modelversion
        USING gin ((trained_words::text) gin_trgm_ops)""",
]
BACKWARD = [
    "DROP INDEX IF EXISTS models_app_version_words_trgm",
    "DROP INDEX IF EXISTS models_app_aimodel_search_vector",
    "ALTER TABLE models_app_aimodel DROP COLUMN IF EXISTS search_vector",
]


class Migration(migrations.Migration):
    dependencies = [("models_app", "0006_model_counters")]
    operations = [postgresql_only(FORWARD, BACKWARD)]

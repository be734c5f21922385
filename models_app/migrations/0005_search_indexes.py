from django.db import migrations

from models_app.migration_ops import postgresql_only

# PostgreSQL only: full-text and trigram indexes behind models_app.selectors.search_models. SQLite
# uses the simpler fallback search and needs none of this.
FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """CREATE INDEX IF NOT EXISTS models_app_aimodel_search ON models_app_aimodel USING gin ((
        setweight(to_tsvector('english', coalesce(name, '')), 'A') ||
        setweight(to_tsvector('english', coalesce(description, '')), 'C')))""",
    "CREATE INDEX IF NOT EXISTS models_app_aimodel_name_trgm ON models_app_aimodel USING gin (name gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS models_app_tag_name_trgm ON models_app_tag USING gin (name gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS models_app_tag_name_trgm",
    "DROP INDEX IF EXISTS models_app_aimodel_name_trgm",
    "DROP INDEX IF EXISTS models_app_aimodel_search",
]


class Migration(migrations.Migration):
    dependencies = [("models_app", "0004_aimodel_download_count_modelversion_download_count_and_more")]
    operations = [postgresql_only(FORWARD, BACKWARD)]

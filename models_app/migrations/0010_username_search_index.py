from django.db import migrations

from models_app.migration_ops import postgresql_only

# PostgreSQL only: search matches a creator's name case-insensitively (upper(username) = upper(q)).
FORWARD = ["CREATE INDEX IF NOT EXISTS models_app_user_upper_username ON auth_user (upper(username))"]
BACKWARD = ["DROP INDEX IF EXISTS models_app_user_upper_username"]


class Migration(migrations.Migration):
    dependencies = [
        ("models_app", "0009_search_tags_and_trigger_words"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [postgresql_only(FORWARD, BACKWARD)]

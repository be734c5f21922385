"""Search reads the most downloaded documents first (docs/performance.md#search-and-the-browse-list).

The full-text index hands over every document that has the words before any is taken: 2,129 for
"watercolor" in 100k models, 21,089 in 1M, half the catalog for "style"; a search's cost grew with the
catalog. The search table gets `popularity`, floor(log2(download count + 1)) (0 for none, 1 for
1-2, 2 for 3-6, ... 19 for about a million), kept by the trigger. It changes only when the count
doubles, so a download's update of the row leaves the index below alone (PostgreSQL can make it a
HOT update, touching no index). The index holds the vectors in the order of popularity, newest first within one: the search
function reads the POPULAR_WINDOW first entries of it (2,000, whatever the size of the catalog) and
takes the matches there; only when they are fewer than a page does it ask the full-text index, which
is then cheap (a rarer word matches few documents).
"""

from importlib import import_module

from django.db import migrations, models

from models_app.migration_ops import postgresql_only

POPULARITY = "floor(log(2.0, {count} + 1.0))::smallint"

SYNC = """CREATE OR REPLACE FUNCTION models_app_searchdocument_sync() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
       INSERT INTO models_app_searchdocument (model_id, vector, name, published, nsfw_level, download_count, popularity)
       VALUES (NEW.id, NEW.search_vector, NEW.name, NEW.status = 'published', NEW.nsfw_level, NEW.download_count,
               {popularity})
       ON CONFLICT (model_id) DO UPDATE SET vector = EXCLUDED.vector, name = EXCLUDED.name,
           published = EXCLUDED.published, nsfw_level = EXCLUDED.nsfw_level,
           download_count = EXCLUDED.download_count, popularity = EXCLUDED.popularity;
       RETURN NULL;
   END $$"""

# The function of migration 0033, with the words found as described above. Its other steps are unchanged.
SEARCH = """CREATE OR REPLACE FUNCTION models_app_search(p_query text, p_limit integer, p_levels integer)
   RETURNS TABLE (r_model_id bigint, r_score real, r_downloads bigint)
   LANGUAGE plpgsql STABLE ROWS 100
   SET plan_cache_mode = force_generic_plan
   SET enable_seqscan = off
   AS $$
   DECLARE
       v_tsq tsquery := websearch_to_tsquery('english', p_query);
       v_words bigint[];
   BEGIN
   -- The words among the 2,000 most downloaded documents (POPULAR_WINDOW), read in order from one index.
   v_words := ARRAY(
       SELECT p.model_id FROM (
           SELECT d.model_id, d.vector, d.nsfw_level FROM models_app_searchdocument d
           WHERE d.published ORDER BY d.popularity DESC, d.model_id DESC LIMIT 2000) p
       WHERE p.vector @@ v_tsq AND (p.nsfw_level & p_levels) <> 0 LIMIT 100);
   IF cardinality(v_words) < p_limit THEN  -- a rarer word: the full-text index, which finds few
       v_words := v_words || ARRAY(
           SELECT d.model_id FROM models_app_searchdocument d
           WHERE d.vector @@ v_tsq AND d.published AND (d.nsfw_level & p_levels) <> 0 LIMIT 100);
   END IF;
   RETURN QUERY
   WITH candidates AS (
       SELECT unnest(v_words) AS model_id
       -- Typo tolerance only when the words themselves found less than a page.
       UNION (SELECT d.model_id FROM models_app_searchdocument d
              WHERE cardinality(v_words) < p_limit AND d.name %% p_query AND d.published
                  AND (d.nsfw_level & p_levels) <> 0 LIMIT 100)
       UNION (SELECT t.aimodel_id FROM models_app_aimodel_tags t WHERE t.tag_id = ANY(ARRAY(
                  SELECT g.id FROM models_app_tag g WHERE g.name = lower(p_query) OR g.name %% lower(p_query)))
              LIMIT 100)
       UNION (SELECT a.id FROM models_app_aimodel a WHERE a.owner_id = ANY(ARRAY(
                  SELECT u.id FROM auth_user u WHERE upper(u.username) = upper(p_query))))
   )
   SELECT d.model_id, ts_rank(d.vector, v_tsq) + similarity(d.name, p_query), d.download_count
   FROM models_app_searchdocument d
   WHERE d.model_id = ANY(ARRAY(SELECT c.model_id FROM candidates c)) AND d.published
       AND (d.nsfw_level & p_levels) <> 0
   ORDER BY 2 DESC, 3 DESC, 1 DESC
   LIMIT p_limit;
   END $$"""

FORWARD = [
    SYNC.format(popularity=POPULARITY.format(count="NEW.download_count")),
    f"UPDATE models_app_searchdocument SET popularity = {POPULARITY.format(count='download_count')}",
    """CREATE INDEX models_app_searchdocument_popular ON models_app_searchdocument
       (popularity DESC, model_id DESC) INCLUDE (vector, nsfw_level) WHERE published""",
    SEARCH,
]
# Back: the trigger function of 0028 and the search function of 0033, as they were.
_0028 = import_module("models_app.migrations.0028_nsfw_levels")
_0033 = import_module("models_app.migrations.0033_search_function")
BACKWARD = [
    "DROP INDEX IF EXISTS models_app_searchdocument_popular",
    *(
        sql.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
        for sql in [*_0028.LEVEL_TRIGGERS, *_0033.FORWARD]
        if sql.startswith("CREATE FUNCTION")
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("models_app", "0033_search_function"),
    ]

    operations = [
        migrations.AddField(
            model_name="searchdocument",
            name="popularity",
            field=models.PositiveSmallIntegerField(db_default=0, default=0),
        ),
        postgresql_only(FORWARD, BACKWARD),
    ]

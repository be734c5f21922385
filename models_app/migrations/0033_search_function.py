from django.db import migrations

from models_app.migration_ops import postgresql_only

# PostgreSQL: the search's ranking query as a function (selectors.SEARCH_SQL calls it). Why a function:
# PostgreSQL planned the statement anew on every request (about 1 ms, more than running it: the
# text-search and trigram estimates look at the query's words), because its generic plan looked
# dearer on paper. A PL/pgSQL function keeps its plan for the connection, and the SET makes it the
# generic one. enable_seqscan off: the tag table is small, so PostgreSQL would read it whole and
# compute the trigram similarity of every tag (0.4 ms) where the trigram index answers in 0.02 ms;
# every other step of the query uses an index anyway. docs/performance.md#search-and-the-browse-list.
# (schema_editor.execute formats the text: pg_trgm's % operator is written %%.)
FORWARD = [
    """CREATE FUNCTION models_app_search(p_query text, p_limit integer, p_levels integer)
       RETURNS TABLE (r_model_id bigint, r_score real, r_downloads bigint)
       LANGUAGE plpgsql STABLE ROWS 100
       SET plan_cache_mode = force_generic_plan
       SET enable_seqscan = off
       AS $$
       BEGIN
       RETURN QUERY
       WITH q AS (SELECT websearch_to_tsquery('english', p_query) AS tsq),
       words AS MATERIALIZED (
           SELECT d.model_id FROM models_app_searchdocument d, q WHERE d.vector @@ q.tsq AND d.published
               AND (d.nsfw_level & p_levels) <> 0 LIMIT 100
       ),
       candidates AS (
           SELECT w.model_id FROM words w
           -- Typo tolerance only when the words themselves found less than a page.
           UNION (SELECT d.model_id FROM models_app_searchdocument d
                  WHERE (SELECT count(*) FROM words) < p_limit AND d.name %% p_query AND d.published
                      AND (d.nsfw_level & p_levels) <> 0 LIMIT 100)
           UNION (SELECT t.aimodel_id FROM models_app_aimodel_tags t WHERE t.tag_id = ANY(ARRAY(
                      SELECT g.id FROM models_app_tag g WHERE g.name = lower(p_query) OR g.name %% lower(p_query)))
                  LIMIT 100)
           UNION (SELECT a.id FROM models_app_aimodel a WHERE a.owner_id = ANY(ARRAY(
                      SELECT u.id FROM auth_user u WHERE upper(u.username) = upper(p_query))))
       )
       SELECT d.model_id, ts_rank(d.vector, q.tsq) + similarity(d.name, p_query), d.download_count
       FROM models_app_searchdocument d, q
       WHERE d.model_id = ANY(ARRAY(SELECT c.model_id FROM candidates c)) AND d.published
           AND (d.nsfw_level & p_levels) <> 0
       ORDER BY 2 DESC, 3 DESC, 1 DESC
       LIMIT p_limit;
       END $$""",
]
BACKWARD = ["DROP FUNCTION IF EXISTS models_app_search(text, integer, integer)"]


class Migration(migrations.Migration):
    dependencies = [
        ("models_app", "0032_civitai_lookup_indexes"),
    ]

    operations = [postgresql_only(FORWARD, BACKWARD)]

"""A search with a typo reads the most downloaded documents once, not twice
(docs/performance.md#search-and-the-browse-list).

Until now the function read the 2,000 most downloaded documents for the query's words, and, when
they found less than a page, corrected the words and read the same 2,000 again for the corrected
words and for any of them (migration 0037). Now the words are corrected first: a look-up per word
in the vocabulary of migration 0035 (about 0.05 ms for words that names have, 0.1-0.2 ms for one
that must be corrected). When nothing changed, the search goes on as before: a read that stops at
100 matches, which a common word reaches early. When a word changed, one pass over the 2,000
collects the documents with all the query's words, with all the corrected words and with any of
them. What follows is unchanged: the full-text index when the popular documents give less than a
page, in the same order, the same candidates and the same ranking, so the results are the same (80
queries, masks and page sizes compared on the 100k catalog). In the database at 100k: "watercolr
portrait" 2.5 -> 2.15 ms, "watercolr" 1.9 -> 1.6 ms, "cyberpunk city night" 2.7 -> 2.4 ms; the
rest within 0.05 ms.
"""

from importlib import import_module

from django.db import migrations

from models_app.migration_ops import postgresql_only

_0035 = import_module("models_app.migrations.0035_search_words")
_0037 = import_module("models_app.migrations.0037_search_typos_one_read")
# The candidates and their ranking, from "RETURN QUERY" on, are 0035's.
_RANKING = _0035.SEARCH[_0035.SEARCH.index("   RETURN QUERY") :]

SEARCH = f"""CREATE OR REPLACE FUNCTION models_app_search(p_query text, p_limit integer, p_levels integer)
   RETURNS TABLE (r_model_id bigint, r_score real, r_downloads bigint)
   LANGUAGE plpgsql STABLE ROWS 100
   SET plan_cache_mode = force_generic_plan
   SET enable_seqscan = off
   AS $$
   DECLARE
       v_tsq tsquery := websearch_to_tsquery('english', p_query);
       v_rank tsquery := v_tsq;
       v_fixed text;
       v_all tsquery;  -- all the corrected words
       v_any tsquery;  -- any of them
       v_either tsquery;  -- all the query's words, or any corrected one
       v_words bigint[] := '{{}}';
       v_popular_all bigint[] := '{{}}';
       v_popular_any bigint[] := '{{}}';
   BEGIN
   -- Each word as a name has it, else the closest word of a name, else as typed.
   v_fixed := coalesce((
       SELECT string_agg(coalesce(
           (SELECT w.word FROM models_app_searchword w WHERE w.word = q.word),
           (SELECT w.word FROM models_app_searchword w WHERE length(q.word) >= {_0035.SHORTEST}
                AND w.word %% q.word ORDER BY similarity(w.word, q.word) DESC, w.word LIMIT 1),
           q.word), ' ' ORDER BY q.n)
       FROM regexp_split_to_table(lower(p_query), {_0035.SEPARATORS}) WITH ORDINALITY q(word, n)
       WHERE q.word <> ''), '');
   v_all := websearch_to_tsquery('english', v_fixed);
   v_any := websearch_to_tsquery('english', replace(v_fixed, ' ', ' or '));
   IF v_all IS NOT DISTINCT FROM v_tsq THEN
       -- Nothing corrected: the words' matches, the most downloaded first (a read that stops at
       -- 100 of them), then the full-text index.
       v_words := models_app_search_matches(v_tsq, p_levels, p_limit, false);
   ELSE
       -- A word was corrected: one read of the most downloaded documents for the query's words,
       -- the corrected words and any of them. A document with all the corrected words has any.
       v_either := v_tsq || v_any;  -- once: in the query it would be built again for every row
       SELECT coalesce((array_agg(p.model_id ORDER BY p.popularity DESC, p.model_id DESC)
                           FILTER (WHERE p.vector @@ v_tsq))[1:100], '{{}}'),
              coalesce((array_agg(p.model_id ORDER BY p.popularity DESC, p.model_id DESC)
                           FILTER (WHERE p.vector @@ v_all))[1:100], '{{}}'),
              coalesce((array_agg(p.model_id ORDER BY p.popularity DESC, p.model_id DESC)
                           FILTER (WHERE p.vector @@ v_any))[1:100], '{{}}')
       INTO v_words, v_popular_all, v_popular_any
       FROM (SELECT d.model_id, d.vector, d.nsfw_level, d.popularity FROM models_app_searchdocument d
             WHERE d.published ORDER BY d.popularity DESC, d.model_id DESC LIMIT 2000) p
       WHERE p.vector @@ v_either AND (p.nsfw_level & p_levels) <> 0;
       IF cardinality(v_words) < p_limit THEN
           v_words := v_words || ARRAY(
               SELECT d.model_id FROM models_app_searchdocument d
               WHERE d.vector @@ v_tsq AND d.published AND (d.nsfw_level & p_levels) <> 0 LIMIT 100);
       END IF;
   END IF;
   -- Typo tolerance only when the words themselves found less than a page.
   IF cardinality(v_words) < p_limit THEN
       v_rank := v_any;
       IF v_all IS DISTINCT FROM v_tsq THEN  -- a word was corrected
           v_words := v_words || v_popular_all;
           IF cardinality(v_words) < p_limit THEN  -- the full-text index, as for the words themselves
               v_words := v_words || ARRAY(
                   SELECT d.model_id FROM models_app_searchdocument d
                   WHERE d.vector @@ v_all AND d.published AND (d.nsfw_level & p_levels) <> 0 LIMIT 100);
           END IF;
           IF cardinality(v_words) < p_limit THEN
               v_words := v_words || v_popular_any;
           END IF;
       -- Nothing corrected: any of the words, among the most downloaded; not again for one word,
       -- whose popular matches were just read (v_any is v_tsq then).
       ELSIF cardinality(v_words) < p_limit AND v_any IS DISTINCT FROM v_tsq THEN
           v_words := v_words || models_app_search_matches(v_any, p_levels, 0, true);
       END IF;
   END IF;
{_RANKING}"""


class Migration(migrations.Migration):
    dependencies = [
        ("models_app", "0037_search_typos_one_read"),
    ]

    operations = [postgresql_only([SEARCH], [_0037.SEARCH])]

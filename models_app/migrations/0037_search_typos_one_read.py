"""A search with a typo reads the most downloaded documents once for its corrected words, not twice
(docs/performance.md#search-and-the-browse-list).

When a word was corrected (migration 0035), the function looked among the 2,000 most downloaded
documents for all the corrected words, and then, still short of a page, read the same 2,000 again
for any of them. Every document with all the words has one of them, so one read for "any" finds
both: those with all the words first, in the order of popularity, as before, then the others. The
results are the same; "watercolr portrait" went from 5.1 to 4.4 ms at 100k models. At 1M its
corrected words fill a page from the full-text index, the second read never ran, and nothing changed.
"""

from importlib import import_module

from django.db import migrations

from models_app.migration_ops import postgresql_only

_0035 = import_module("models_app.migrations.0035_search_words")
# Only what follows the correction changes: the function up to it (the corrected words in v_all),
# and the candidates and their ranking from "RETURN QUERY" on, are 0035's.
_BEFORE = _0035.SEARCH[: _0035.SEARCH.index("       IF v_all IS DISTINCT FROM v_tsq THEN")]
_RANKING = _0035.SEARCH[_0035.SEARCH.index("   RETURN QUERY") :]

SEARCH = f"""{_BEFORE}       v_rank := websearch_to_tsquery('english', replace(v_fixed, ' ', ' or '));
       IF v_all IS DISTINCT FROM v_tsq THEN
           -- A word was corrected. One read of the most downloaded documents for any of the
           -- corrected words holds those with all of them too (v_all implies v_rank).
           DECLARE
               v_popular_all bigint[];
               v_popular_any bigint[];
           BEGIN
           SELECT coalesce((array_agg(p.model_id ORDER BY p.popularity DESC, p.model_id DESC)
                               FILTER (WHERE p.vector @@ v_all))[1:100], '{{}}'),
                  coalesce((array_agg(p.model_id ORDER BY p.popularity DESC, p.model_id DESC))[1:100], '{{}}')
           INTO v_popular_all, v_popular_any
           FROM (SELECT d.model_id, d.vector, d.nsfw_level, d.popularity FROM models_app_searchdocument d
                 WHERE d.published ORDER BY d.popularity DESC, d.model_id DESC LIMIT 2000) p
           WHERE p.vector @@ v_rank AND (p.nsfw_level & p_levels) <> 0;
           v_words := v_words || v_popular_all;
           IF cardinality(v_words) < p_limit THEN  -- the full-text index, as for the words themselves
               v_words := v_words || ARRAY(
                   SELECT d.model_id FROM models_app_searchdocument d
                   WHERE d.vector @@ v_all AND d.published AND (d.nsfw_level & p_levels) <> 0 LIMIT 100);
           END IF;
           IF cardinality(v_words) < p_limit THEN
               v_words := v_words || v_popular_any;
           END IF;
           END;
       -- Nothing corrected: any of the words, among the most downloaded; not again for one word,
       -- whose popular matches were just read (v_rank is v_tsq then).
       ELSIF cardinality(v_words) < p_limit AND v_rank IS DISTINCT FROM v_all THEN
           v_words := v_words || models_app_search_matches(v_rank, p_levels, 0, true);
       END IF;
   END IF;
{_RANKING}"""


class Migration(migrations.Migration):
    dependencies = [
        ("models_app", "0036_search_words_prune"),
    ]

    operations = [postgresql_only([SEARCH], [_0035.SEARCH])]

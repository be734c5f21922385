"""A typo that no document has skips the full-text look-up of the words as typed
(docs/performance.md#search-and-the-browse-list).

With a word corrected, the function still asked the full-text index for all the words as typed
("watercolr" and "portrait"), to find documents that have the misspelling itself. GIN then decodes
the list of every other word: 0.6 ms at 1M models for "portrait", though "watercolr" alone is in no
document and answers in 0.01 ms. Now, when the query is plain words (no quotes, "or" or "-": its
tsquery is plainto_tsquery's, all the words ANDed), the function first asks whether any document has the
words the correction changed; when none has, none has all the words as typed either, and the look-up
is skipped. A word that makes no lexeme (a stop word) never allows the skip. The results are the
same.
"""

from importlib import import_module

from django.db import migrations

from models_app.migration_ops import postgresql_only, replace_once

_0038 = import_module("models_app.migrations.0038_search_one_popular_read")


SEARCH = _0038.SEARCH
SEARCH = replace_once(
    SEARCH,
    "       v_fixed text;\n",
    "       v_fixed text;\n"
    "       v_typed text;  -- the words as typed\n"
    "       v_changed tsquery;  -- all the words the correction changed, as typed\n",
)
# The correction now also keeps the words as typed and those it changed.
_CORRECTION_START = "   v_fixed := coalesce((\n"
_CORRECTION_END = "       WHERE q.word <> ''), '');\n"
_start = SEARCH.index(_CORRECTION_START)
_end = SEARCH.index(_CORRECTION_END) + len(_CORRECTION_END)
_LOOKUP = SEARCH[_start:_end]
_closest = _LOOKUP[_LOOKUP.index("coalesce(\n") : _LOOKUP.index("q.word), ' ' ORDER BY q.n)")] + "q.word)"
SEARCH = (
    SEARCH[:_start]
    + f"""   SELECT coalesce(string_agg(x.fixed, ' ' ORDER BY x.n), ''), string_agg(x.word, ' ' ORDER BY x.n),
          websearch_to_tsquery('english', string_agg(x.word, ' ' ORDER BY x.n)
              FILTER (WHERE plainto_tsquery('english', x.fixed) <> plainto_tsquery('english', x.word)))
   INTO v_fixed, v_typed, v_changed
   FROM (SELECT q.word, q.n, {_closest} AS fixed
         FROM regexp_split_to_table(lower(p_query), {_0038._0035.SEPARATORS}) WITH ORDINALITY q(word, n)
         WHERE q.word <> '' OFFSET 0) x;  -- OFFSET 0: each word looked up once, not per use of x.fixed
"""
    + SEARCH[_end:]
)
SEARCH = replace_once(
    SEARCH,
    """       IF cardinality(v_words) < p_limit THEN
           v_words := v_words || ARRAY(
               SELECT d.model_id FROM models_app_searchdocument d
               WHERE d.vector @@ v_tsq AND d.published AND (d.nsfw_level & p_levels) <> 0 LIMIT 100);
       END IF;
   END IF;""",
    """       -- The words as typed, from the full-text index; not when they are plain words (v_tsq ANDs
       -- them all, as plainto_tsquery) and no document has the changed ones: then none has them all.
       IF cardinality(v_words) < p_limit AND NOT (
              coalesce(numnode(v_changed), 0) > 0 AND v_tsq = plainto_tsquery('english', v_typed)
              AND NOT EXISTS (SELECT 1 FROM models_app_searchdocument d WHERE d.vector @@ v_changed)) THEN
           v_words := v_words || ARRAY(
               SELECT d.model_id FROM models_app_searchdocument d
               WHERE d.vector @@ v_tsq AND d.published AND (d.nsfw_level & p_levels) <> 0 LIMIT 100);
       END IF;
   END IF;""",
)


class Migration(migrations.Migration):
    dependencies = [
        ("models_app", "0038_search_one_popular_read"),
    ]

    operations = [postgresql_only([SEARCH], [_0038.SEARCH])]

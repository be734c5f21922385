"""A word the query excludes ("-portrait") is in none of its results
(docs/performance.md#search-and-the-browse-list).

The typo tolerance rebuilt the query from its words alone: "heron -portrait" became the corrected
words "heron portrait", so when nothing had "heron" the function filled the page with portraits,
the very models the query excluded. Now what follows a "-" (a word or a quoted phrase, as
websearch_to_tsquery reads it: at the start or after a space) is left out of the correction, the
corrected queries exclude it as the query does, and the final read drops every candidate that has
it, however it was found (the words, the corrected words, a similar tag, the creator's name). A
query without "-" has the same results as before.
"""

from importlib import import_module

from django.db import migrations

from models_app.migration_ops import postgresql_only, replace_once

_0040 = import_module("models_app.migrations.0040_search_name_trigrams")


SEARCH = _0040.SEARCH
SEARCH = replace_once(
    SEARCH,
    "       v_query_trigrams integer[] := models_app_name_trigrams(p_query);\n",
    "       v_query_trigrams integer[] := models_app_name_trigrams(p_query);\n"
    '       -- What the query excludes (a word or a quoted phrase after a "-"), as websearch_to_tsquery\n'
    "       -- reads it: never corrected nor looked for, and no result has it, however it was found.\n"
    "       v_negated text[] := ARRAY(SELECT m[1] FROM regexp_matches(lower(p_query),\n"
    "                                 '(?:^|[[:space:]])-(\"[^\"]*\"|[[:alnum:]]+)', 'g') m);\n"
    "       v_negated_words text[] := regexp_split_to_array(array_to_string(v_negated, ' '), '[^[:alnum:]]+');\n"
    "       v_negated_word text;\n"
    "       v_excluded tsquery;  -- any of them\n",
)
SEARCH = replace_once(
    SEARCH,
    "         WHERE q.word <> '' OFFSET 0) x;",
    "         WHERE q.word <> '' AND q.word <> ALL(v_negated_words) OFFSET 0) x;",
)
SEARCH = replace_once(
    SEARCH,
    "   v_any := websearch_to_tsquery('english', replace(v_fixed, ' ', ' or '));\n",
    "   v_any := websearch_to_tsquery('english', replace(v_fixed, ' ', ' or '));\n"
    "   -- Each excluded word ANDed as websearch_to_tsquery does: a query with nothing corrected stays\n"
    "   -- equal to v_tsq.\n"
    "   FOREACH v_negated_word IN ARRAY v_negated LOOP\n"
    "       v_all := v_all && !! websearch_to_tsquery('english', v_negated_word);\n"
    "       v_any := v_any && !! websearch_to_tsquery('english', v_negated_word);\n"
    "       v_excluded := coalesce(v_excluded || websearch_to_tsquery('english', v_negated_word),\n"
    "                              websearch_to_tsquery('english', v_negated_word));\n"
    "   END LOOP;\n"
    "   IF numnode(v_excluded) = 0 THEN  -- stop words only: nothing to exclude\n"
    "       v_excluded := NULL;\n"
    "   END IF;\n",
)
SEARCH = replace_once(
    SEARCH,
    "   WHERE d.model_id = ANY(ARRAY(SELECT c.model_id FROM candidates c)) AND d.published\n"
    "       AND (d.nsfw_level & p_levels) <> 0\n",
    "   WHERE d.model_id = ANY(ARRAY(SELECT c.model_id FROM candidates c)) AND d.published\n"
    "       AND (d.nsfw_level & p_levels) <> 0\n"
    "       AND (v_excluded IS NULL OR NOT d.vector @@ v_excluded)\n",
)


class Migration(migrations.Migration):
    dependencies = [
        ("models_app", "0040_search_name_trigrams"),
    ]

    operations = [
        postgresql_only([SEARCH], [_0040.SEARCH]),
    ]

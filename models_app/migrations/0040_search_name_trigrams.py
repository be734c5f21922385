"""Search ranks by name similarity from trigrams kept with each document, and a typo that no
document has reads the most downloaded documents for the corrected words alone
(docs/performance.md#search-and-the-browse-list).

1. The ranking added `similarity(name, query)` (pg_trgm) for each candidate, 150 to 200 of them:
   every call splits, lowercases and sorts the trigrams of both texts again, the query's included,
   about 5 microseconds a call: 15-30 % of every search's time in the database. Now each search
   document keeps its name's trigrams as a sorted array of integers (`name_trigrams`, a generated
   column: `hashtext` of each trigram pg_trgm's `show_trgm` gives), the function computes the
   query's once, and the similarity is pg_trgm's own formula (shared / (name's + query's - shared),
   as `real`: `models_app_name_similarity`) over the intersection that intarray computes in C. It equals `similarity()` for every
   document of the 100k catalog; two trigrams of one name would have to share a 32-bit hash to
   differ. intarray goes into a schema of its own, so its operators do not replace PostgreSQL's own
   for integer arrays elsewhere. `hashtext` is stable across PostgreSQL versions (hash indexes on
   text, which pg_upgrade keeps as they are, depend on it), so the kept arrays stay right after an
   upgrade; a version that changed it would need `UPDATE models_app_searchdocument SET name = name`.
2. With a word corrected, the check whether any document has the words as typed (0039) now comes
   before the read of the most downloaded documents: when none has them, that read looks for the
   corrected words alone instead of also for the words as typed, which no document has.

The results are the same.
"""

from importlib import import_module

from django.db import migrations

from models_app.migration_ops import postgresql_only, replace_once

_0039 = import_module("models_app.migrations.0039_search_typo_skips_a_lookup")


TRIGRAMS = [
    "CREATE SCHEMA IF NOT EXISTS intarray",
    "CREATE EXTENSION IF NOT EXISTS intarray SCHEMA intarray",
    # An admin may have installed it elsewhere already: the function below names this schema.
    """DO $$ BEGIN
       IF (SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'intarray') <> 'intarray'
       THEN ALTER EXTENSION intarray SET SCHEMA intarray;
       END IF;
   END $$""",
    # Each distinct trigram of `p_text` as pg_trgm finds them (lowercased words, padded), hashed,
    # sorted: what similarity() compares, kept so it need not be computed again for every search.
    """CREATE FUNCTION models_app_name_trigrams(p_text text) RETURNS integer[]
   LANGUAGE sql IMMUTABLE PARALLEL SAFE
   AS $$ SELECT coalesce(array_agg(DISTINCT hashtext(t) ORDER BY hashtext(t)), '{}')
         FROM unnest(show_trgm(p_text)) t $$""",
    # similarity() of two texts from their trigrams: pg_trgm's formula, shared / (both - shared) as
    # real, and 0 when either has none.
    """CREATE FUNCTION models_app_name_similarity(p_name integer[], p_query integer[]) RETURNS real
   LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
   AS $$
   DECLARE
       v_shared integer := intarray.icount(intarray._int_inter(p_name, p_query));
   BEGIN
       RETURN coalesce(v_shared::real / nullif(cardinality(p_name) + cardinality(p_query) - v_shared, 0)::real, 0);
   END $$""",
    """ALTER TABLE models_app_searchdocument
   ADD COLUMN name_trigrams integer[] GENERATED ALWAYS AS (models_app_name_trigrams(name)) STORED""",
]
UNDO_TRIGRAMS = [
    "ALTER TABLE models_app_searchdocument DROP COLUMN name_trigrams",
    "DROP FUNCTION models_app_name_similarity(integer[], integer[])",
    "DROP FUNCTION models_app_name_trigrams(text)",
    # intarray stays: an admin may have had it before, and it changes nothing while unused.
]

SEARCH = _0039.SEARCH
SEARCH = replace_once(
    SEARCH,
    "       v_popular_any bigint[] := '{}';\n",
    "       v_popular_any bigint[] := '{}';\n"
    "       v_typed_absent boolean;  -- no document has all the words as typed\n"
    "       v_query_trigrams integer[] := models_app_name_trigrams(p_query);\n",
)
# The check of 0039, before the read of the most downloaded documents.
_CHECK = """coalesce(numnode(v_changed), 0) > 0 AND v_tsq = plainto_tsquery('english', v_typed)
              AND NOT EXISTS (SELECT 1 FROM models_app_searchdocument d WHERE d.vector @@ v_changed)"""
SEARCH = replace_once(
    SEARCH,
    "       v_either := v_tsq || v_any;  -- once: in the query it would be built again for every row\n",
    f"""       -- Plain words (v_tsq ANDs them all, as plainto_tsquery) of which no document has those
       -- the correction changed: then none has them all, and neither read looks for them.
       v_typed_absent := {_CHECK};
       -- once: in the query it would be built again for every row
       v_either := CASE WHEN v_typed_absent THEN v_any ELSE v_tsq || v_any END;
""",
)
SEARCH = replace_once(
    SEARCH,
    f"""       IF cardinality(v_words) < p_limit AND NOT (
              {_CHECK}) THEN""",
    "       IF cardinality(v_words) < p_limit AND NOT v_typed_absent THEN",
)
SEARCH = replace_once(
    SEARCH,
    "   SELECT d.model_id, ts_rank(d.vector, v_rank) + similarity(d.name, p_query), d.download_count\n"
    "   FROM models_app_searchdocument d\n",
    "   SELECT d.model_id,\n"
    "          ts_rank(d.vector, v_rank) + models_app_name_similarity(d.name_trigrams, v_query_trigrams),\n"
    "          d.download_count\n"
    "   FROM models_app_searchdocument d\n",
)


class Migration(migrations.Migration):
    dependencies = [
        ("models_app", "0039_search_typo_skips_a_lookup"),
    ]

    operations = [
        postgresql_only(TRIGRAMS, UNDO_TRIGRAMS),
        postgresql_only([SEARCH], [_0039.SEARCH]),
    ]

"""Typos from a vocabulary of name words, at a cost that does not grow with the catalog
(docs/performance.md#search-and-the-browse-list).

When a search's words found less than a page, the function compared the whole query with every
model's name through the trigram index of the names. That index hands over every name sharing
trigrams with the query before any is taken: a query of two or three words shares some with most
names, 8-15 ms at 100k models ("watercolor portrait", "cyberpunk city night") and about ten times
that at 1M. Now:

- `models_app_searchword` holds the distinct words (3 to 40 letters or digits) of published models'
  names, kept by a trigger on the search table, with a trigram index of its own: a vocabulary grows
  with the words people use, not with the number of models.
- A query word that is no name's word becomes the closest one (pg_trgm similarity, at least its
  threshold of 0.3): "watercolr portrait" is also searched as "watercolor portrait", with the same
  steps as the words themselves (the most downloaded documents first, the full-text index when they
  give less than a page), so the one model whose name was misspelled is found at any size.
- Then, still short of a page, documents with any of the (corrected) words among the 2,000 most
  downloaded ("cyberpunk city night" finds the popular "Cyberpunk City" models); the results are
  ranked by that "any word" query, so a document with more of the words comes first.

The names' trigram index is no longer read by anything and goes. Tags, creators and the ranking by
text rank plus name similarity are unchanged.
"""

from importlib import import_module

from django.db import migrations, models

from models_app.migration_ops import postgresql_only

# A name's words and a query's are split alike: lowercased, on anything but letters and digits.
# Shorter words than SHORTEST share too few trigrams with a typo of them to correct anything.
SEPARATORS = "'[^[:alnum:]]+'"
SHORTEST = 3
NAME_WORDS = (
    f"SELECT DISTINCT w FROM regexp_split_to_table(lower({{name}}), {SEPARATORS}) w"
    f" WHERE length(w) BETWEEN {SHORTEST} AND 40"
)

# Words in one order in every transaction, so two new models sharing new words never deadlock.
ADD_WORDS = f"""CREATE FUNCTION models_app_searchword_add() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
       INSERT INTO models_app_searchword (word) {NAME_WORDS.format(name="NEW.name")} ORDER BY 1
       ON CONFLICT DO NOTHING;
       RETURN NULL;
   END $$"""

# The matches of one tsquery, as the search of migration 0034 found its words: among the first 2,000
# entries of the popularity index (POPULAR_WINDOW), then, when they are fewer than p_enough and
# p_popular_only is false, from the full-text index (cheap then: the words are rare).
MATCHES = """CREATE FUNCTION models_app_search_matches(
       p_tsq tsquery, p_levels integer, p_enough integer, p_popular_only boolean)
   RETURNS bigint[] LANGUAGE plpgsql STABLE
   SET plan_cache_mode = force_generic_plan
   SET enable_seqscan = off
   AS $$
   DECLARE
       v_found bigint[];
   BEGIN
   v_found := ARRAY(
       SELECT p.model_id FROM (
           SELECT d.model_id, d.vector, d.nsfw_level FROM models_app_searchdocument d
           WHERE d.published ORDER BY d.popularity DESC, d.model_id DESC LIMIT 2000) p
       WHERE p.vector @@ p_tsq AND (p.nsfw_level & p_levels) <> 0 LIMIT 100);
   IF cardinality(v_found) < p_enough AND NOT p_popular_only THEN
       v_found := v_found || ARRAY(
           SELECT d.model_id FROM models_app_searchdocument d
           WHERE d.vector @@ p_tsq AND d.published AND (d.nsfw_level & p_levels) <> 0 LIMIT 100);
   END IF;
   RETURN v_found;
   END $$"""

SEARCH = f"""CREATE OR REPLACE FUNCTION models_app_search(p_query text, p_limit integer, p_levels integer)
   RETURNS TABLE (r_model_id bigint, r_score real, r_downloads bigint)
   LANGUAGE plpgsql STABLE ROWS 100
   SET plan_cache_mode = force_generic_plan
   SET enable_seqscan = off
   AS $$
   DECLARE
       v_tsq tsquery := websearch_to_tsquery('english', p_query);
       v_rank tsquery := v_tsq;
       v_words bigint[];
       v_fixed text;
       v_all tsquery;
   BEGIN
   v_words := models_app_search_matches(v_tsq, p_levels, p_limit, false);
   -- Typo tolerance only when the words themselves found less than a page.
   IF cardinality(v_words) < p_limit THEN
       v_fixed := (
           SELECT string_agg(coalesce(
               (SELECT w.word FROM models_app_searchword w WHERE w.word = q.word),
               (SELECT w.word FROM models_app_searchword w WHERE length(q.word) >= {SHORTEST}
                    AND w.word %% q.word ORDER BY similarity(w.word, q.word) DESC, w.word LIMIT 1),
               q.word), ' ' ORDER BY q.n)
           FROM regexp_split_to_table(lower(p_query), {SEPARATORS}) WITH ORDINALITY q(word, n)
           WHERE q.word <> '');
       v_all := websearch_to_tsquery('english', v_fixed);
       IF v_all IS DISTINCT FROM v_tsq THEN  -- a word was corrected: search the corrected words
           v_words := v_words || models_app_search_matches(v_all, p_levels, p_limit - cardinality(v_words), false);
       END IF;
       v_rank := websearch_to_tsquery('english', replace(v_fixed, ' ', ' or '));
       -- Any of the words, among the most downloaded; not again for one word, whose popular
       -- matches were just read (v_all is v_tsq when nothing was corrected).
       IF cardinality(v_words) < p_limit AND v_rank IS DISTINCT FROM v_all THEN
           v_words := v_words || models_app_search_matches(v_rank, p_levels, 0, true);
       END IF;
   END IF;
   RETURN QUERY
   WITH candidates AS (
       SELECT unnest(v_words) AS model_id
       UNION (SELECT t.aimodel_id FROM models_app_aimodel_tags t WHERE t.tag_id = ANY(ARRAY(
                  SELECT g.id FROM models_app_tag g WHERE g.name = lower(p_query) OR g.name %% lower(p_query)))
              LIMIT 100)
       UNION (SELECT a.id FROM models_app_aimodel a WHERE a.owner_id = ANY(ARRAY(
                  SELECT u.id FROM auth_user u WHERE upper(u.username) = upper(p_query))))
   )
   SELECT d.model_id, ts_rank(d.vector, v_rank) + similarity(d.name, p_query), d.download_count
   FROM models_app_searchdocument d
   WHERE d.model_id = ANY(ARRAY(SELECT c.model_id FROM candidates c)) AND d.published
       AND (d.nsfw_level & p_levels) <> 0
   ORDER BY 2 DESC, 3 DESC, 1 DESC
   LIMIT p_limit;
   END $$"""

FORWARD = [
    ADD_WORDS,
    """CREATE TRIGGER models_app_searchword_insert AFTER INSERT ON models_app_searchdocument
       FOR EACH ROW WHEN (NEW.published) EXECUTE FUNCTION models_app_searchword_add()""",
    # Every model update rewrites its document (download counts): only a new name or a
    # publication adds words.
    """CREATE TRIGGER models_app_searchword_update AFTER UPDATE OF name, published ON models_app_searchdocument
       FOR EACH ROW WHEN (NEW.published AND (OLD.name IS DISTINCT FROM NEW.name OR NOT OLD.published))
       EXECUTE FUNCTION models_app_searchword_add()""",
    f"""INSERT INTO models_app_searchword (word)
       SELECT DISTINCT n.w FROM models_app_searchdocument d, LATERAL ({NAME_WORDS.format(name="d.name")}) n
       WHERE d.published ORDER BY 1 ON CONFLICT DO NOTHING""",
    # Built after the words are in, and without GIN's pending list: words are added rarely and read
    # by every search short of a page (with a pending list, the first 3,000 words took 1.2 ms a
    # look-up instead of 0.2).
    """CREATE INDEX models_app_searchword_trgm ON models_app_searchword
       USING gin (word gin_trgm_ops) WITH (fastupdate = off)""",
    MATCHES,
    SEARCH,
    "DROP INDEX IF EXISTS models_app_searchdocument_name_trgm",
]
# Back: the names' trigram index and the search function of 0034, as they were.
_0034 = import_module("models_app.migrations.0034_search_popular_first")
BACKWARD = [
    "CREATE INDEX IF NOT EXISTS models_app_searchdocument_name_trgm ON models_app_searchdocument"
    " USING gin (name gin_trgm_ops)",
    _0034.SEARCH,
    "DROP FUNCTION IF EXISTS models_app_search_matches(tsquery, integer, integer, boolean)",
    "DROP TRIGGER IF EXISTS models_app_searchword_update ON models_app_searchdocument",
    "DROP TRIGGER IF EXISTS models_app_searchword_insert ON models_app_searchdocument",
    "DROP FUNCTION IF EXISTS models_app_searchword_add()",
]


class Migration(migrations.Migration):
    dependencies = [
        ("models_app", "0034_search_popular_first"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchWord",
            fields=[
                ("word", models.CharField(max_length=40, primary_key=True, serialize=False)),
            ],
        ),
        postgresql_only(FORWARD, BACKWARD),
    ]

"""The vocabulary of name words (migration 0035) loses the words no published name has any more.

The trigger only adds words: a renamed, unpublished or deleted model left its words behind, and a
typo could be corrected to one of them instead of to a word a model has ("heronr" to the old
"heronry" rather than to "heron"), finding nothing. `models_app_searchword_prune()` deletes every word
that no published name has, by the trigger's own rule; a nightly task calls it
(models_app.tasks.prune_search_words, docs/performance.md#search-and-the-browse-list).
"""

from importlib import import_module

from django.db import migrations

from models_app.migration_ops import postgresql_only

NAME_WORDS = import_module("models_app.migrations.0035_search_words").NAME_WORDS

# The lock makes a rename or publication that commits meanwhile wait for the delete: its trigger's
# insert then adds back any of its words just deleted, instead of finding it there and adding nothing.
# EXCEPT rather than NOT IN: a hashed NOT IN that outgrows work_mem rescans the names for every word.
PRUNE = f"""CREATE FUNCTION models_app_searchword_prune() RETURNS integer LANGUAGE plpgsql AS $$
   DECLARE
       v_gone integer;
   BEGIN
   LOCK TABLE models_app_searchword IN SHARE ROW EXCLUSIVE MODE;
   DELETE FROM models_app_searchword w USING (
       SELECT word FROM models_app_searchword
       EXCEPT
       SELECT n.w FROM models_app_searchdocument d, LATERAL ({NAME_WORDS.format(name="d.name")}) n
       WHERE d.published) gone
   WHERE w.word = gone.word;
   GET DIAGNOSTICS v_gone = ROW_COUNT;
   RETURN v_gone;
   END $$"""


class Migration(migrations.Migration):
    dependencies = [
        ("models_app", "0035_search_words"),
    ]

    operations = [
        postgresql_only([PRUNE], ["DROP FUNCTION IF EXISTS models_app_searchword_prune()"]),
    ]

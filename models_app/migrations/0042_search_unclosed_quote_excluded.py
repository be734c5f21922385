"""A phrase the query excludes with an unclosed quote ('-"oil painting') is in none of its results
(docs/performance.md#search-and-the-browse-list).

websearch_to_tsquery reads a quote left open as a phrase that runs to the end of the query, and
excludes it. Migration 0041 found an excluded phrase only between two quotes, so the words of an
open one went into the typo correction as wanted words: 'watercolr -"watercolor portraits' was
corrected to "watercolor watercolor portraits" and returned the very portraits it excluded. Now an
open quote after a "-" runs to the end, as websearch_to_tsquery reads it.
"""

from importlib import import_module

from django.db import migrations

from models_app.migration_ops import postgresql_only, replace_once

_0041 = import_module("models_app.migrations.0041_search_excluded_words")

SEARCH = replace_once(
    _0041.SEARCH,
    """'(?:^|[[:space:]])-("[^"]*"|[[:alnum:]]+)', 'g') m);""",
    """'(?:^|[[:space:]])-("[^"]*(?:"|$)|[[:alnum:]]+)', 'g') m);""",
)


class Migration(migrations.Migration):
    dependencies = [
        ("models_app", "0041_search_excluded_words"),
    ]

    operations = [
        postgresql_only([SEARCH], [_0041.SEARCH]),
    ]

"""Helpers for migrations: the parts of the schema that only PostgreSQL has (search indexes), and the
edit each search migration makes to the function text of the one before it."""

from django.db import migrations


def postgresql_only(forward: list[str], backward: list[str]) -> migrations.RunPython:
    """A migration step that runs these SQL statements on PostgreSQL and does nothing elsewhere
    (SQLite uses the simpler search, which needs none of them)."""

    def run(statements):
        def step(apps, schema_editor):
            if schema_editor.connection.vendor == "postgresql":
                for sql in statements:
                    schema_editor.execute(sql)

        return step

    return migrations.RunPython(run(forward), run(backward))


def replace_once(text: str, old: str, new: str) -> str:
    """`text` with `old`, which must stand in it exactly once, replaced by `new`: a later migration
    edits an earlier one's SQL, and an edit that no longer finds its place fails loudly."""
    assert text.count(old) == 1, old
    return text.replace(old, new)

"""Helpers for migrations: the parts of the schema that only PostgreSQL has (search indexes)."""

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

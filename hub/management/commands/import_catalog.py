"""`manage.py import_catalog FILE`: restore a catalog written by export_catalog (docs/backups.md).

Into an empty, migrated database, with the bytes already back in storage: every blob is checked
against its SHA-256 first, then every row is inserted in one transaction, so a refused import
leaves the database as it was.
"""

import sys

from django.core.management.base import BaseCommand, CommandError

from hub.backups import CatalogError, import_rows, read_lines


class Command(BaseCommand):
    help = "Restore a catalog backup (JSON lines from export_catalog) into an empty database."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The backup file, or - for standard input.")

    def handle(self, *args, path, **options):
        try:
            if path == "-":
                rows = read_lines(sys.stdin)
            else:
                try:
                    with open(path, encoding="utf-8") as f:
                        rows = read_lines(f)
                except OSError as exc:
                    raise CatalogError(f"Can't read {path}: {exc.strerror or exc}.") from None
                except UnicodeDecodeError:
                    raise CatalogError(f"{path} is not UTF-8 text; is it a catalog backup?") from None
            counts = import_rows(rows)
        except CatalogError as exc:
            raise CommandError(str(exc)) from None
        summary = ", ".join(f"{n} {name}" for name, n in counts.items() if n)
        self.stdout.write(f"Imported {summary}.")

"""`manage.py export_catalog FILE`: the catalog's metadata as JSON lines (docs/backups.md).

FILE `-` writes to standard output. The bytes are not in it: back up the bucket (or MEDIA_ROOT) too.
"""

import os

from django.core.management.base import BaseCommand

from hub.backups import export_lines


class Command(BaseCommand):
    help = "Write the catalog (accounts named, models, versions, files, hashes, images, comments, reviews, ledger) as JSON lines."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The file to write, or - for standard output.")

    def handle(self, *args, path, **options):
        if path == "-":
            for line in export_lines():
                self.stdout.write(line)
            return
        tmp = f"{path}.partial"
        count = 0
        with open(tmp, "w", encoding="utf-8") as out:  # a crash leaves no half backup under the name
            for line in export_lines():
                out.write(line + "\n")
                count += 1
        os.replace(tmp, path)
        self.stderr.write(f"Wrote {count - 1} rows to {path}.")

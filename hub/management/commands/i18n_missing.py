"""List the msgids of templates and Python code that have no French translation yet, by file.

Use it after merging branches that wrapped new strings: `make messages` adds them to
locale/fr/LC_MESSAGES/django.po, this lists what still needs a French msgstr (docs/i18n.md).
Exits with status 1 when something is missing, so scripts can stop on it.
"""

from itertools import groupby

from django.core.management.base import BaseCommand, CommandError

from hub.i18n import missing_french


class Command(BaseCommand):
    help = "List the msgids that have no (or a fuzzy, or a mismatched) French translation, grouped by file."

    def handle(self, *args, **options):
        missing = missing_french()
        for path, group in groupby(missing, key=lambda item: item[0].path):
            self.stdout.write(path)
            for message, reason in group:
                self.stdout.write(f"  {message.line}: {message.msgid!r} ({reason})")
        if missing:
            raise CommandError(f"{len(missing)} message(s) without a French translation")
        self.stdout.write("Every message has a French translation.")

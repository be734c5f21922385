"""Compile locale/*/LC_MESSAGES/*.po into the .mo files Django reads, in pure Python (polib).

Django's own compilemessages needs GNU gettext's msgfmt, which a machine with only python3 lacks;
`make run`, `make test` and the Docker image run this instead (docs/i18n.md). Fuzzy entries are left
out, as msgfmt does. A .mo newer than its .po is kept, so running it again costs nothing.
"""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


def compile_translations(*, force: bool = False) -> list[Path]:
    """Write each .po's .mo beside it when missing or older; returns the .mo files written."""
    written = []
    for locale_dir in settings.LOCALE_PATHS:
        for po_path in sorted(Path(locale_dir).glob("*/LC_MESSAGES/*.po")):
            mo_path = po_path.with_suffix(".mo")
            if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            catalog = polib.pofile(str(po_path))
            # polib's save_as_mofile leaves fuzzy and untranslated entries out, like msgfmt.
            tmp_path = mo_path.with_suffix(".mo.tmp")
            catalog.save_as_mofile(str(tmp_path))
            tmp_path.replace(mo_path)  # a running server never reads a half-written file
            written.append(mo_path)
    return written


class Command(BaseCommand):
    help = "Compile the .po translations under locale/ into .mo files (pure Python, no gettext needed)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Rewrite every .mo, even when up to date.")

    def handle(self, *args, force=False, **options):
        for mo_path in compile_translations(force=force):
            self.stdout.write(f"compiled {mo_path.relative_to(settings.BASE_DIR)}")

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from moderation import blocked_terms
from moderation.models import BlockedTerm


class Command(BaseCommand):
    help = (
        "Block a term in every published text (names, descriptions, tags, prompts, comments...), or "
        "--remove it, or --list the terms (docs/moderation.md#blocked-terms)."
    )

    def add_arguments(self, parser):
        parser.add_argument("terms", nargs="*", metavar="TERM")
        parser.add_argument("--remove", action="store_true", help="Unblock the terms instead.")
        parser.add_argument("--note", default="", help="Why the terms are blocked (shown to moderators).")
        parser.add_argument("--list", action="store_true", help="Print the blocked terms.")

    def handle(self, terms, remove, note, list, **options):
        if list:
            for row in BlockedTerm.objects.all():
                self.stdout.write(row.term)
            return
        if not terms:
            raise CommandError("Name at least one TERM (or use --list).")
        for term in terms:
            if remove:
                done = blocked_terms.unblock(term)
                self.stdout.write(f"{term!r} unblocked." if done else f"{term!r} was not blocked.")
                continue
            try:
                row = blocked_terms.block(term, note=note)
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from None
            self.stdout.write(f"{row.term!r} is blocked.")

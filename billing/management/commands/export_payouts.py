import csv

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from billing.money import format_money
from billing.payouts import payouts


class Command(BaseCommand):
    help = "Print as CSV what each creator is owed for a month, from the ledger (docs/billing.md#payouts)."

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM, in UTC")

    def handle(self, month, **options):
        try:
            rows = payouts(month)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow(["creator_id", "username", "currency", "amount_minor", "amount"])
        for row in rows:
            writer.writerow(
                [
                    row["creator_id"],
                    row["username"],
                    row["currency"],
                    row["amount"],
                    format_money(row["amount"], row["currency"]).split()[0],
                ]
            )

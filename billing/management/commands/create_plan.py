from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from billing.services import create_plan


class Command(BaseCommand):
    help = "Create a premium plan sold as a Stripe recurring price (docs/billing.md#plans)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--stripe-price", required=True, help="Stripe's price id, price_…")
        parser.add_argument("--amount", type=int, required=True, help="minor units: 500 = 5.00")
        parser.add_argument("--currency", required=True, help="ISO code: usd, eur…")
        parser.add_argument("--interval", required=True, choices=["month", "year"])
        parser.add_argument("--upload-limit-bytes", type=int, default=0)
        parser.add_argument("--max-private-collections", type=int, default=0)
        parser.add_argument("--max-api-keys", type=int, default=0)
        parser.add_argument("--early-access", action="store_true")

    def handle(self, name, **options):
        try:
            plan = create_plan(
                name=name,
                stripe_price_id=options["stripe_price"],
                amount=options["amount"],
                currency=options["currency"],
                interval=options["interval"],
                upload_limit_bytes=options["upload_limit_bytes"],
                max_private_collections=options["max_private_collections"],
                max_api_keys=options["max_api_keys"],
                early_access=options["early_access"],
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(f"Created plan {plan.id}: {plan}")

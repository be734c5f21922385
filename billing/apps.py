from django.apps import AppConfig


class BillingConfig(AppConfig):
    """Plans, Stripe customers, subscriptions and the webhook."""

    name = "billing"

    def ready(self):
        from . import purchases, services

        # Tips are billing's own kind: they give nothing but a Tip row (docs/billing.md#tips).
        purchases.register_purchase_handler(services.TIP_KIND, services.record_tip)

from django.apps import AppConfig


class BillingConfig(AppConfig):
    """Plans, Stripe customers, subscriptions and the webhook."""

    name = "billing"

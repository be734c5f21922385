"""Billing's Celery entry points."""

import logging
import time

from celery import shared_task
from django.db import transaction

from . import services, stripe_api

log = logging.getLogger(__name__)


@shared_task(acks_late=True)
def reconcile_subscriptions() -> int:
    """Nightly: bring every subscription in line with Stripe's current state, for webhooks that were lost.
    Each object is applied as seen now, under the same ordering rule as events (docs/billing.md#event-order),
    so a re-run changes nothing. Without Stripe keys it does nothing. Returns how many objects it read."""
    if not stripe_api.is_configured():
        return 0
    count = 0
    for subscription in stripe_api.list_subscriptions():
        with transaction.atomic():
            services.apply_subscription(subscription, created=int(time.time()))
        count += 1
    log.info("billing: reconciled %d subscriptions with Stripe", count)
    return count

"""Billing on Stripe (docs/billing.md): plans, subscriptions, the webhook, the ledger.

`billing.entitlements(user)` is the one question other apps ask: what may this user do now?
"""


def entitlements(user):
    """The user's perks now (billing.selectors.Entitlements); see docs/billing.md#entitlements."""
    from .selectors import entitlements as current

    return current(user)

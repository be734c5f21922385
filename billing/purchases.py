"""What a one-time payment buys, by `metadata.kind` (docs/billing.md#one-time-purchases).

Billing knows no content, so higher apps register a handler for their kind at start-up (models_app
registers "early_access" in its apps.py). The handler runs inside the webhook's transaction, once per
stored event; it must also be safe to run again for the same purchase (a second Checkout session for
the same thing), so it creates with get_or_create.
"""

from collections.abc import Callable

# kind -> handler(user, metadata: dict, session: dict). user may be None (deleted account).
_HANDLERS: dict[str, Callable] = {}


def register_purchase_handler(kind: str, handler: Callable) -> None:
    """Call `handler(user, metadata, session)` when a paid one-time Checkout with this kind completes."""
    _HANDLERS[kind] = handler


def handler_for(kind: str) -> Callable | None:
    return _HANDLERS.get(kind)

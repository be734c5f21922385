"""What a one-time payment buys, by `metadata.kind` (docs/billing.md#one-time-purchases).

Billing knows no content, so higher apps register a handler for their kind at start-up (models_app
registers "early_access" in its apps.py). The handler runs inside the webhook's transaction, once per
stored event; it must also be safe to run again for the same purchase (a second Checkout session for
the same thing), so it creates with get_or_create.

A kind may also register `on_reversed`: after a refund or dispute of one of its payments, billing calls
`on_reversed` when nothing the payer paid for that reference is left (wholly refunded, or disputed),
and `handler` again when something is (a partial refund, a dispute won): what was bought follows the
money (docs/billing.md#refunds-and-disputes).
"""

from collections.abc import Callable

# kind -> handler(user, metadata: dict, session: dict). user may be None (deleted account).
_HANDLERS: dict[str, Callable] = {}
_ON_REVERSED: dict[str, Callable] = {}


def register_purchase_handler(kind: str, handler: Callable, *, on_reversed: Callable | None = None) -> None:
    """Call `handler(user, metadata, session)` when a paid one-time Checkout with this kind completes,
    and `on_reversed(user, metadata, session)` when its money is all refunded or disputed."""
    _HANDLERS[kind] = handler
    if on_reversed is not None:
        _ON_REVERSED[kind] = on_reversed


def handler_for(kind: str) -> Callable | None:
    return _HANDLERS.get(kind)


def reversal_handler_for(kind: str) -> Callable | None:
    return _ON_REVERSED.get(kind)

"""Money is an integer in the currency's minor unit plus a currency code (docs/billing.md#money)."""

# Stripe's zero-decimal currencies: an amount of 500 JPY is 500 yen, not 5.00.
ZERO_DECIMAL = {
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
}  # fmt: skip


def format_money(amount: int, currency: str) -> str:
    """ "5.00 USD" for (500, "usd"); exact, with integer arithmetic only."""
    code = currency.upper()
    if currency.lower() in ZERO_DECIMAL:
        return f"{amount} {code}"
    sign = "-" if amount < 0 else ""
    whole, cents = divmod(abs(amount), 100)
    return f"{sign}{whole}.{cents:02d} {code}"

"""Money is an integer in the currency's minor unit plus a currency code (docs/billing.md#money)."""

# Stripe's zero-decimal currencies: an amount of 500 JPY is 500 yen, not 5.00.
ZERO_DECIMAL = {
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
}  # fmt: skip


def decimal_places(currency: str) -> int:
    """How many digits a currency's amounts have after the point: 2, or 0 for JPY and the like."""
    return 0 if currency.lower() in ZERO_DECIMAL else 2


def from_major(whole: int, currency: str) -> int:
    """The minor units of a whole amount of the currency: 5 USD is 500, 5 JPY is 5."""
    return whole * 10 ** decimal_places(currency)


def format_money(amount: int, currency: str) -> str:
    """ "5.00 USD" for (500, "usd"); exact, with integer arithmetic only."""
    code = currency.upper()
    if not decimal_places(currency):
        return f"{amount} {code}"
    sign = "-" if amount < 0 else ""
    whole, cents = divmod(abs(amount), 100)
    return f"{sign}{whole}.{cents:02d} {code}"


def parse_money(text: str, currency: str) -> int:
    """The minor units of an amount typed in major units: "5", "5.5" and "5.50" USD are 550; "500" JPY
    is 500. ValueError for anything else (negative, more decimals than the currency has, not a number,
    more than 12 digits): the caller turns it into a form error."""
    text = (text or "").strip().replace(",", ".")
    places = decimal_places(currency)
    whole, _, fraction = text.partition(".")
    if not whole.isascii() or not whole.isdigit() or len(whole) > 12:
        raise ValueError("not an amount")
    if fraction and (not fraction.isascii() or not fraction.isdigit() or len(fraction) > places):
        raise ValueError("too many decimals for this currency" if fraction.isdigit() else "not an amount")
    return int(whole) * 10**places + int((fraction or "0").ljust(places, "0") or 0)

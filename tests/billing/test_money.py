"""Amounts typed by people become exact minor units, and back (docs/billing.md#money)."""

import pytest

from billing.money import format_money, parse_money


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [("5", "usd", 500), ("5.5", "usd", 550), ("5,05", "eur", 505), ("0.01", "usd", 1), ("500", "jpy", 500)],
)
def test_typed_amounts_become_minor_units(text, currency, minor):
    assert parse_money(text, currency) == minor
    assert parse_money(format_money(minor, currency).split()[0], currency) == minor


@pytest.mark.parametrize("text", ["", "-5", "5.555", "nan", "1e3", "٥", ".5", "1" * 13, "5.5.5"])
def test_anything_else_is_refused(text):
    with pytest.raises(ValueError):
        parse_money(text, "usd")


def test_zero_decimal_currencies_take_no_decimals():
    with pytest.raises(ValueError):
        parse_money("5.5", "jpy")

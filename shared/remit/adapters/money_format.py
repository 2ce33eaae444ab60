"""Amounts as a reader expects them: "€1,234.50", "¥500", "KWD 1.234", with babel (CLDR data)."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency

from remit.domain.values import currency_exponent

DEFAULT_LOCALE = "en_GB"


def format_money(amount: int, currency: str, locale: str = DEFAULT_LOCALE) -> str:
    """`amount` minor units of `currency`, formatted with exactly the currency's ISO 4217 decimals."""
    exponent = currency_exponent(currency)
    value = Decimal(amount).scaleb(-exponent)
    pattern_decimals = "0" * exponent
    pattern = f"¤#,##0.{pattern_decimals}" if exponent else "¤#,##0"
    return str(format_currency(value, currency, format=pattern, locale=locale, currency_digits=False))

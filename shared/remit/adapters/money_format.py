"""Amounts as a reader of a locale expects them: "€1,234.50" (en), "1.234,56 €" (de-DE),
"￥150,000" (ja-JP), with babel (CLDR data).
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cache

from babel import Locale
from babel.numbers import format_currency

from remit.domain.values import currency_exponent

DEFAULT_LOCALE = "en_GB"

# The fraction part of a CLDR number pattern ("0.00" in "#,##0.00 ¤"), or its last integer digit.
_FRACTION = re.compile(r"0(?:\.0+)?")


@cache
def _pattern(locale: str, exponent: int) -> str:
    """The locale's currency pattern (symbol side, spacing, grouping) with exactly `exponent` decimals."""
    standard = Locale.parse(locale).currency_formats["standard"].pattern
    fraction = "0." + "0" * exponent if exponent else "0"
    return _FRACTION.sub(fraction, standard)


def format_money(amount: int, currency: str, locale: str = DEFAULT_LOCALE) -> str:
    """`amount` minor units of `currency`, with exactly the currency's ISO 4217 decimals, written as
    `locale` (a Babel identifier, "de_DE") writes amounts.
    """
    exponent = currency_exponent(currency)
    value = Decimal(amount).scaleb(-exponent)
    pattern = _pattern(locale, exponent)
    return str(format_currency(value, currency, format=pattern, locale=locale, currency_digits=False))

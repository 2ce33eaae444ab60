"""Exact money: integer minor units, decimal quantities and tax rates, half-up rounding per line.

`amount = round_half_up(unit_amount * quantity)` and `tax_amount = round_half_up(amount * rate / 100)`,
both in the currency's minor unit. Half-up means halves round away from zero (2.5 → 3, -2.5 → -3),
so a discount line rounds like the charge it mirrors. No float is ever involved: a float given as
an amount is refused, and quantities and rates are `Decimal`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer, StrictInt

from remit.domain.values import Percentage, plain_decimal

MAX_AMOUNT = 10**12  # minor units; far above any invoice, far below any overflow


def round_half_up(value: Decimal) -> int:
    """The nearest integer, halves away from zero."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


MAX_QUANTITY = 10**9


def _quantity(value: Any) -> Decimal:
    # JSON numbers arrive as float or int; a float's shortest repr is what the user wrote.
    quantity = plain_decimal(repr(value) if isinstance(value, float) else value, "a quantity")
    if quantity <= 0:
        raise ValueError("must be greater than 0")
    if quantity > MAX_QUANTITY:
        raise ValueError("is too large")
    exponent = quantity.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -4:
        raise ValueError("may have at most 4 decimals")
    return quantity


# `_quantity`'s rule as JSON Schema: a number, or a decimal string with at most 4 decimals, above 0.
_QUANTITY_TEXT = (
    r"^\+?(0*[1-9]\d{0,8}(\.\d{0,4})?|0*1000000000(\.0{0,4})?"
    r"|0*\.([1-9]\d{0,3}|0[1-9]\d{0,2}|00[1-9]\d?|000[1-9]))$"
)


def _quantity_schema(schema: dict[str, Any]) -> None:
    schema.pop("anyOf", None)
    schema["anyOf"] = [
        {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_QUANTITY},
        {"type": "string", "pattern": _QUANTITY_TEXT},
    ]
    schema["examples"] = ["1", "2.5"]


Quantity = Annotated[
    Decimal,
    BeforeValidator(_quantity),
    PlainSerializer(lambda quantity: str(quantity), return_type=str, when_used="always"),
    # Accepted as a number or a decimal string (the schema says both), always answered as a string.
    Field(json_schema_extra=_quantity_schema),
]


def _whole_minor_units(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(
            "must be a whole number of the currency's minor unit (1999 for 19.99 EUR), "
            "not a decimal or a string"
        )
    return value


# An amount in minor units. Strict: a float (or a string) is refused, never rounded.
MinorUnits = Annotated[StrictInt, BeforeValidator(_whole_minor_units), Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT)]
NonNegativeMinorUnits = Annotated[StrictInt, BeforeValidator(_whole_minor_units), Field(ge=0, le=MAX_AMOUNT)]
PositiveMinorUnits = Annotated[StrictInt, BeforeValidator(_whole_minor_units), Field(gt=0, le=MAX_AMOUNT)]


def line_amount(unit_amount: int, quantity: Decimal) -> int:
    return round_half_up(Decimal(unit_amount) * quantity)


def line_tax(amount: int, tax_rate: Decimal) -> int:
    return round_half_up(Decimal(amount) * tax_rate / Decimal(100))


@dataclass(frozen=True)
class TaxGroup:
    tax_rate: Decimal
    taxable_amount: int
    tax_amount: int


@dataclass(frozen=True)
class Totals:
    subtotal: int
    tax_total: int
    total: int
    tax_breakdown: list[TaxGroup]


def totals(lines: Iterable[tuple[int, int, Decimal]]) -> Totals:
    """Sums of `(amount, tax_amount, tax_rate)` lines, with the tax grouped by rate (numeric order).

    Rates that are equal as numbers ("19" and "19.00") form one group.
    """
    groups: dict[Decimal, tuple[Decimal, int, int]] = {}
    subtotal = tax_total = 0
    for amount, tax_amount, tax_rate in lines:
        subtotal += amount
        tax_total += tax_amount
        label, taxable, tax = groups.get(tax_rate.normalize(), (tax_rate, 0, 0))
        groups[tax_rate.normalize()] = (label, taxable + amount, tax + tax_amount)
    breakdown = [TaxGroup(label, taxable, tax) for _, (label, taxable, tax) in sorted(groups.items())]
    return Totals(subtotal, tax_total, subtotal + tax_total, breakdown)


__all__ = [
    "MAX_AMOUNT",
    "MinorUnits",
    "NonNegativeMinorUnits",
    "Percentage",
    "PositiveMinorUnits",
    "Quantity",
    "TaxGroup",
    "Totals",
    "line_amount",
    "line_tax",
    "round_half_up",
    "totals",
]

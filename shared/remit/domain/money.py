"""Exact money: integer minor units, decimal quantities and tax rates, tax rounded once per rate.

A line's `amount = round_half_up(unit_amount * quantity)`, in the currency's minor unit. The tax of
each rate is `round_half_up(taxable * rate / 100)` of the summed amounts of the lines at that rate,
rounded once, as EN 16931 requires of a VAT breakdown (BR-S-09, BR-CO-17) and most EU VAT rules of an
invoice; `allocate_tax` spreads it over those lines (largest remainder), so that the lines' taxes add
up to it exactly and each differs from the line's own rounding by at most one minor unit. Half-up
means halves round away from zero (2.5 → 3, -2.5 → -3), so a discount line rounds like the charge it
mirrors. No float is ever involved: a float given as an amount is refused, and quantities and rates
are `Decimal`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
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
    """The tax of `amount` alone at `tax_rate`, half up: a rate group of one line."""
    return round_half_up(exact_tax(amount, tax_rate))


def exact_tax(amount: int, tax_rate: Decimal) -> Decimal:
    """`amount * rate / 100`, unrounded (exact: a `Decimal` of a few dozen digits at most)."""
    return Decimal(amount) * tax_rate / Decimal(100)


def spread(total: int, exact: Sequence[Decimal]) -> list[int]:
    """Whole shares of `total` close to the `exact` ones: each share is its exact value rounded down,
    plus one for the largest fractional parts (the earlier on a tie) until the shares add up to
    `total`. When `total` is within the exact values' sum ± their count (as a rounding of that sum
    always is), the shares add up to it exactly and each is its exact value rounded down or up, so
    it differs from the value's own rounding by at most one. Otherwise the shares stop at every
    value rounded down (or up), as close to `total` as that rule allows."""
    floors = [int(value.to_integral_value(rounding=ROUND_FLOOR)) for value in exact]
    ups = min(max(total - sum(floors), 0), len(floors))
    order = sorted(range(len(floors)), key=lambda i: (-(exact[i] - floors[i]), i))
    for position in order[:ups]:
        floors[position] += 1
    return floors


def allocate_tax(lines: Sequence[tuple[int, Decimal]]) -> list[int]:
    """The tax of each `(amount, tax_rate)` line, in order: each rate's tax (rates equal as numbers are
    one rate) is `round_half_up(sum of its amounts * rate / 100)`, rounded once, and `spread` over
    its lines, so that they add up to it exactly."""
    groups: dict[Decimal, list[int]] = {}
    for index, (_, tax_rate) in enumerate(lines):
        groups.setdefault(tax_rate.normalize(), []).append(index)
    taxes = [0] * len(lines)
    for members in groups.values():
        rate = lines[members[0]][1]
        group_tax = line_tax(sum(lines[i][0] for i in members), rate)
        shares = spread(group_tax, [exact_tax(lines[i][0], rate) for i in members])
        for index, share in zip(members, shares, strict=True):
            taxes[index] = share
    return taxes


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
    "allocate_tax",
    "exact_tax",
    "line_amount",
    "line_tax",
    "round_half_up",
    "spread",
    "totals",
]

"""Exact money: line rounding, each rate's tax rounded once and allocated to its lines, totals and tax
breakdowns, for any lines (hypothesis) and known cases."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from remit.domain.money import (
    MinorUnits,
    Quantity,
    allocate_tax,
    exact_tax,
    line_amount,
    line_tax,
    round_half_up,
    spread,
    totals,
)
from remit.domain.values import currency_exponent
from tests.unit.builders import pure_property

quantities = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10_000), places=4)
rates = st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=4)
unit_amounts = st.integers(min_value=-(10**7), max_value=10**9)
lines = st.lists(st.tuples(unit_amounts, quantities, rates), min_size=1, max_size=30)


def priced(raw: list[tuple[int, Decimal, Decimal]]) -> list[tuple[int, int, Decimal]]:
    result = []
    for unit_amount, quantity, rate in raw:
        amount = line_amount(unit_amount, quantity)
        result.append((amount, line_tax(amount, rate), rate))
    return result


@pure_property
@given(lines)
def test_the_total_is_always_the_subtotal_plus_the_tax(raw: list[tuple[int, Decimal, Decimal]]) -> None:
    computed = totals(priced(raw))

    assert computed.total == computed.subtotal + computed.tax_total
    assert computed.subtotal == sum(amount for amount, _, _ in priced(raw))
    assert sum(group.tax_amount for group in computed.tax_breakdown) == computed.tax_total
    assert sum(group.taxable_amount for group in computed.tax_breakdown) == computed.subtotal


@pure_property
@given(unit_amounts, quantities, rates)
def test_each_lines_rounding_is_within_half_a_minor_unit(
    unit_amount: int, quantity: Decimal, rate: Decimal
) -> None:
    exact_amount = Decimal(unit_amount) * quantity
    amount = line_amount(unit_amount, quantity)
    exact_tax = Decimal(amount) * rate / 100

    assert abs(Decimal(amount) - exact_amount) <= Decimal("0.5")
    assert abs(Decimal(line_tax(amount, rate)) - exact_tax) <= Decimal("0.5")


@pure_property
@given(lines)
def test_equal_inputs_give_identical_results(raw: list[tuple[int, Decimal, Decimal]]) -> None:
    assert totals(priced(raw)) == totals(priced(list(raw)))


@pure_property
@given(lines)
def test_the_breakdown_has_one_group_per_numeric_rate(raw: list[tuple[int, Decimal, Decimal]]) -> None:
    computed = totals(priced(raw))

    assert len(computed.tax_breakdown) == len({rate.normalize() for _, _, rate in raw})


# Rates as a user gives them: a few common ones, written two ways, and any with up to 4 decimals.
mixed_rates = st.one_of(
    st.sampled_from([Decimal(0), Decimal(7), Decimal("7.00"), Decimal(10), Decimal(19), Decimal("5.5")]),
    rates,
)
mixed_lines = st.lists(st.tuples(unit_amounts, quantities, mixed_rates), min_size=1, max_size=40)


@pure_property
@given(mixed_lines)
def test_each_rates_tax_is_rounded_once_and_its_lines_add_up_to_it(
    raw: list[tuple[int, Decimal, Decimal]],
) -> None:
    amounts = [(line_amount(unit_amount, quantity), rate) for unit_amount, quantity, rate in raw]
    taxes = allocate_tax(amounts)

    for group_rate in {rate.normalize() for _, rate in amounts}:
        members = [i for i, (_, rate) in enumerate(amounts) if rate.normalize() == group_rate]
        net = sum(amounts[i][0] for i in members)
        assert sum(taxes[i] for i in members) == round_half_up(Decimal(net) * group_rate / 100)
    for (amount, rate), tax in zip(amounts, taxes, strict=True):
        assert abs(tax - line_tax(amount, rate)) <= 1
        assert abs(Decimal(tax) - exact_tax(amount, rate)) < 1
    computed = totals((amount, tax, rate) for (amount, rate), tax in zip(amounts, taxes, strict=True))
    assert computed.total == computed.subtotal + computed.tax_total == sum(a for a, _ in amounts) + sum(taxes)
    assert allocate_tax(list(amounts)) == taxes  # deterministic


def test_two_yen_lines_of_105_at_10_percent_are_taxed_21_once() -> None:
    # 210 at 10 % is 21; per line it was 11 + 11 = 22, which EN 16931 refuses (BR-S-09).
    assert allocate_tax([(105, Decimal(10)), (105, Decimal(10))]) == [11, 10]


def test_two_euro_lines_of_1_05_at_10_percent_are_taxed_0_21_and_other_rates_are_apart() -> None:
    taxes = allocate_tax([(105, Decimal(10)), (1000, Decimal(19)), (105, Decimal("10.00"))])

    assert taxes == [11, 190, 10]
    computed = totals(
        (amount, tax, rate)
        for (amount, rate), tax in zip(
            [(105, Decimal(10)), (1000, Decimal(19)), (105, Decimal(10))], taxes, strict=True
        )
    )
    assert [(g.taxable_amount, g.tax_amount) for g in computed.tax_breakdown] == [(210, 21), (1000, 190)]
    assert (computed.subtotal, computed.tax_total, computed.total) == (1210, 211, 1421)


def test_the_unit_goes_to_the_largest_remainder_then_to_the_earlier_line() -> None:
    # 10.4 + 10.6 + 10.6 = 31.6 → 32: the floors make 30, the two .6 take the two units.
    assert allocate_tax([(104, Decimal(10)), (106, Decimal(10)), (106, Decimal(10))]) == [10, 11, 11]
    # 3 x 10.5 = 31.5 → 32: a three-way tie, the two earlier lines take the units.
    assert allocate_tax([(105, Decimal(10))] * 3) == [11, 11, 10]


def test_a_discount_line_shares_its_rates_tax() -> None:
    # 1005 - 105 = 900 at 10 % is 90; alone they would be 101 (100.5 → 101) and -11 (-10.5 → -11).
    taxes = allocate_tax([(1005, Decimal(10)), (-105, Decimal(10))])

    assert sum(taxes) == 90
    assert taxes == [101, -11]


def test_a_line_alone_at_its_rate_keeps_its_own_rounding() -> None:
    assert allocate_tax([(333, Decimal(10)), (500, Decimal(7))]) == [line_tax(333, Decimal(10)), 35]


def test_spread_stops_at_every_share_rounded_down_or_up_when_the_total_is_out_of_reach() -> None:
    exact = [Decimal("1.5"), Decimal("2.5")]
    assert spread(4, exact) == [2, 2]
    assert spread(10, exact) == [2, 3]
    assert spread(-3, exact) == [1, 2]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2.5", 3), ("-2.5", -3), ("2.4999", 2), ("0.5", 1), ("-0.5", -1), ("1.5", 2), ("0", 0)],
)
def test_rounding_is_half_up_away_from_zero(value: str, expected: int) -> None:
    assert round_half_up(Decimal(value)) == expected


def test_a_yen_invoice_rounds_to_whole_yen() -> None:
    # JPY has no minor unit: 333 yen x 1.5 = 499.5 yen -> 500; 10% tax on 500 = 50.
    assert currency_exponent("JPY") == 0
    amount = line_amount(333, Decimal("1.5"))
    assert (amount, line_tax(amount, Decimal(10))) == (500, 50)


def test_a_dinar_invoice_keeps_three_decimals() -> None:
    # KWD has 3 decimals: 1.2345 KWD is not representable; 1234 fils x 3 = 3.702 KWD; 5% = 185.1 fils -> 185.
    assert currency_exponent("KWD") == 3
    amount = line_amount(1234, Decimal(3))
    assert (amount, line_tax(amount, Decimal(5))) == (3702, 185)


def test_tax_is_grouped_by_rate_and_equal_rates_merge() -> None:
    computed = totals([(1000, 190, Decimal("19")), (500, 95, Decimal("19.00")), (200, 15, Decimal("7.5"))])

    assert [(g.tax_rate, g.taxable_amount, g.tax_amount) for g in computed.tax_breakdown] == [
        (Decimal("7.5"), 200, 15),
        (Decimal("19"), 1500, 285),
    ]
    assert (computed.subtotal, computed.tax_total, computed.total) == (1700, 300, 2000)


@pytest.mark.parametrize("value", [19.99, "1999", True, 10**13])
def test_an_amount_that_is_not_an_exact_integer_is_refused(value: object) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(MinorUnits).validate_python(value)


@pytest.mark.parametrize("value", ["0", "-1", "1.00001", "1e3", "abc", False])
def test_a_quantity_must_be_a_plain_positive_decimal_with_at_most_4_places(value: object) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Quantity).validate_python(value)


@pytest.mark.parametrize(
    ("value", "expected"), [("2.5", "2.5"), (3, "3"), (1.25, "1.25"), ("0.0001", "0.0001")]
)
def test_a_quantity_keeps_what_the_user_wrote(value: object, expected: str) -> None:
    assert TypeAdapter(Quantity).dump_python(TypeAdapter(Quantity).validate_python(value)) == expected

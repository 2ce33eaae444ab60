"""The number series: numbers taken in order, never twice, renumbering never back over used ones."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from remit.domain.errors import InvalidInput
from remit.domain.numbering import NumberSeries


def test_taking_gives_the_next_number_in_its_legal_form_and_moves_the_series_on() -> None:
    series = NumberSeries(next_number=42, last_number_used=41, version=3)

    taken = series.take("ACME-", 5)

    assert (taken.sequence, taken.number) == (42, "ACME-00042")
    assert taken.series == NumberSeries(next_number=43, last_number_used=42, version=3)


def test_a_number_wider_than_the_padding_is_written_whole() -> None:
    assert NumberSeries(next_number=123456).take("", 3).number == "123456"


def test_renumbering_forward_and_back_above_the_last_number_used_is_allowed() -> None:
    series = NumberSeries(next_number=8, last_number_used=7)

    assert series.renumbered(500).next_number == 500
    assert series.renumbered(500).renumbered(8) == series


@pytest.mark.parametrize("next_number", [7, 3, 1])
def test_renumbering_at_or_below_the_last_number_used_is_refused_naming_the_field(next_number: int) -> None:
    series = NumberSeries(next_number=8, last_number_used=7)

    with pytest.raises(InvalidInput) as refused:
        series.renumbered(next_number)

    assert [(p.field, p.message) for p in refused.value.problems] == [
        ("invoice_numbering.next_number", "must be above 7, the last number already used")
    ]


# Each step: take a number, or renumber to a value (which may be refused).
steps = st.lists(st.one_of(st.none(), st.integers(min_value=1, max_value=60)), max_size=60)


@given(steps)
def test_whatever_the_takes_and_renumberings_no_number_is_ever_given_twice(plan: list[int | None]) -> None:
    series = NumberSeries()
    given_out: list[int] = []
    for step in plan:
        if step is None:
            taken = series.take("", 1)
            given_out.append(taken.sequence)
            series = taken.series
        else:
            try:
                series = series.renumbered(step)
            except InvalidInput:
                assert step <= series.last_number_used
    assert len(given_out) == len(set(given_out))
    assert series.last_number_used == (given_out[-1] if given_out else 0)
    assert series.next_number > series.last_number_used


@given(start=st.integers(min_value=1, max_value=10**9), count=st.integers(min_value=1, max_value=20))
def test_taking_consecutive_numbers_gives_each_next_number_once_and_the_series_after_the_last(
    start: int, count: int
) -> None:
    series = NumberSeries(next_number=start, last_number_used=start - 1, version=4)

    taken = series.take_consecutive(count, "INV-", 4)

    assert [t.sequence for t in taken] == list(range(start, start + count))
    assert [t.number for t in taken] == [f"INV-{n:04d}" for n in range(start, start + count)]
    assert taken[-1].series == NumberSeries(
        next_number=start + count, last_number_used=start + count - 1, version=4
    )
    one_by_one = series
    for expected in taken:
        assert one_by_one.take("INV-", 4) == expected
        one_by_one = expected.series


def test_taking_no_numbers_at_once_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        NumberSeries().take_consecutive(0, "", 1)

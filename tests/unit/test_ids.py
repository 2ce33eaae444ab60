"""Ids: type-prefixed, unguessable, and sorting in the order their resources were created."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from remit.domain.ids import new_id
from tests.unit.builders import NOW, pure_property

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FROM = datetime(1971, 1, 1, tzinfo=UTC)
_UNTIL = datetime(2200, 1, 1, tzinfo=UTC)


def _millis(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def test_an_id_is_its_type_prefix_then_26_lower_case_base32_characters() -> None:
    customer_id = new_id("cus", NOW)

    assert re.fullmatch(r"cus_[0-9a-hjkmnp-tv-z]{26}", customer_id), customer_id


def test_ids_created_in_the_same_millisecond_are_all_different() -> None:
    ids = {new_id("inv", NOW) for _ in range(2_000)}

    assert len(ids) == 2_000


def test_ids_created_in_the_same_millisecond_sort_in_the_order_they_were_made() -> None:
    # e.g. the timeline events of one transaction: created, finalized, payment recorded, paid
    made = [new_id(prefix, NOW) for prefix in ("evt", "evt", "evt", "evt") for _ in range(500)]

    assert [i.split("_")[1] for i in made] == sorted(i.split("_")[1] for i in made)


def test_an_id_of_an_earlier_moment_made_later_still_sorts_by_its_moment() -> None:
    later = new_id("evt", NOW)
    earlier = new_id("evt", NOW - timedelta(milliseconds=1))

    assert earlier < later


def test_ids_created_in_the_same_millisecond_share_their_time_part_only() -> None:
    first, second = new_id("inv", NOW), new_id("inv", NOW)

    assert first[:14] == second[:14]
    assert first[14:] != second[14:]


def test_ids_of_the_same_moment_do_not_depend_on_the_time_zone_it_is_given_in() -> None:
    same_moment_in_paris = NOW.astimezone(timezone(timedelta(hours=1)))

    assert new_id("cus", same_moment_in_paris)[:14] == new_id("cus", NOW)[:14]


def test_an_id_created_later_sorts_after_one_created_earlier() -> None:
    earlier = new_id("cus", NOW)
    later = new_id("cus", NOW + timedelta(milliseconds=1))

    assert sorted([later, earlier]) == [earlier, later]


@pure_property
@given(
    earlier=st.integers(min_value=_millis(_FROM), max_value=_millis(_UNTIL) - 1),
    gap=st.one_of(st.integers(min_value=1, max_value=1_000), st.integers(min_value=1, max_value=10**12)),
)
def test_ids_sort_in_creation_order_for_any_two_distinct_milliseconds(earlier: int, gap: int) -> None:
    later = min(earlier + gap, _millis(_UNTIL))
    earlier_id = new_id("chg", _EPOCH + timedelta(milliseconds=earlier))
    later_id = new_id("chg", _EPOCH + timedelta(milliseconds=later))

    assert sorted([later_id, earlier_id]) == [earlier_id, later_id]


@pytest.mark.parametrize(
    "later",
    [
        datetime(2004, 6, 1, 0, 0, 0, 1_000, tzinfo=UTC),
        datetime(2038, 6, 1, 0, 0, 0, 2_000, tzinfo=UTC),
        datetime(2106, 6, 1, 0, 0, 0, 4_000, tzinfo=UTC),
    ],
)
def test_ids_one_millisecond_apart_sort_in_creation_order_in_any_year(later: datetime) -> None:
    earlier = later - timedelta(milliseconds=1)

    earlier_ids = [new_id("inv", earlier) for _ in range(20)]
    later_ids = [new_id("inv", later) for _ in range(20)]

    assert max(earlier_ids) < min(later_ids)

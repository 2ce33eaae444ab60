"""Lists: page sizes and the shape of a list response."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from remit.domain.pagination import DEFAULT_PAGE_SIZE, ListResponse, PageSize


@pytest.mark.parametrize("limit", [1, 20, 100])
def test_a_page_size_from_1_to_100_is_accepted(limit: int) -> None:
    assert TypeAdapter(PageSize).validate_python(limit) == limit


@pytest.mark.parametrize("limit", [0, 101, -5])
def test_a_page_size_outside_1_to_100_is_refused(limit: int) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(PageSize).validate_python(limit)


def test_a_list_shows_20_items_by_default() -> None:
    assert DEFAULT_PAGE_SIZE == 20


def test_the_last_page_of_a_list_has_a_null_cursor() -> None:
    page = ListResponse[str](data=["cus_1", "cus_2"], next_cursor=None)

    assert page.model_dump(mode="json") == {"data": ["cus_1", "cus_2"], "next_cursor": None}

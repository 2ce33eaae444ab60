"""`make load`'s numbering check finds what it is there to find (benchmarks/load.py)."""

from __future__ import annotations

from typing import Any

from benchmarks.load import Book, numbering_problems

BOOK = Book("org_1", "L0-", "EUR", {})


def invoices(*numbers: str | None) -> list[dict[str, Any]]:
    return [{"number": number} for number in numbers]


def test_numbers_one_to_n_in_any_order_with_drafts_between_are_whole() -> None:
    assert numbering_problems(BOOK, invoices("L0-00002", None, "L0-00001", "L0-00003")) == []


def test_a_gap_is_found() -> None:
    assert numbering_problems(BOOK, invoices("L0-00001", "L0-00003")) == ["org_1: 2 numbers, missing [2]"]


def test_a_duplicate_is_found() -> None:
    problems = numbering_problems(BOOK, invoices("L0-00001", "L0-00002", "L0-00002"))
    assert problems == ["org_1: duplicate numbers [2]", "org_1: 3 numbers, missing [3]"]


def test_a_number_without_the_prefix_is_found() -> None:
    assert numbering_problems(BOOK, invoices("L0-00001", "X-00002")) == ["X-00002: not L0-<n>"]

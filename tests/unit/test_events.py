"""Event types and the patterns that name them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from remit.domain.events import EVENT_TYPES, type_matches, type_pattern_problem
from remit.domain.ids import new_id, time_floor


@pytest.mark.parametrize(
    ("pattern", "event_type", "matches"),
    [
        ("*", "invoice.paid", True),
        ("*", "webhook_endpoint.test", True),
        ("invoice.*", "invoice.paid", True),
        ("invoice.*", "invoice.marked_uncollectible", True),
        ("invoice.*", "payment.succeeded", False),
        ("invoice.*", "invoicexyz.paid", False),
        ("credit_note.*", "credit_note.issued", True),
        ("invoice.paid", "invoice.paid", True),
        ("invoice.paid", "invoice.paid_out", False),
        ("invoice.pa*", "invoice.paid", False),
        ("", "invoice.paid", False),
    ],
)
def test_a_pattern_is_every_type_an_object_s_types_or_one_type(
    pattern: str, event_type: str, matches: bool
) -> None:
    assert type_matches(pattern, event_type) is matches


def test_the_types_are_the_api_s_and_each_names_its_object() -> None:
    assert len(set(EVENT_TYPES)) == len(EVENT_TYPES)
    assert {kind.split(".")[0] for kind in EVENT_TYPES} == {
        "customer",
        "invoice",
        "payment",
        "credit_note",
        "subscription",
        "billing_run",
        "webhook_endpoint",
    }
    assert "invoice.marked_uncollectible" in EVENT_TYPES
    assert "subscription.canceled" in EVENT_TYPES


@pytest.mark.parametrize("pattern", ["*", "invoice.*", "payment.*", "invoice.paid", "billing_run.completed"])
def test_patterns_naming_types_are_accepted(pattern: str) -> None:
    assert type_pattern_problem(pattern) is None


@pytest.mark.parametrize("pattern", ["", "invoice", "invoice.nonsense", "nothing.*", "invoice.pa*", "**"])
def test_patterns_naming_no_type_are_refused_with_a_reason(pattern: str) -> None:
    problem = type_pattern_problem(pattern)
    assert problem is not None
    assert "invoice.*" in problem


def test_a_time_floor_sorts_between_the_ids_made_before_and_after_it() -> None:
    moment = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    before = new_id("evt", moment - timedelta(milliseconds=1))
    at, after = new_id("evt", moment), new_id("evt", moment + timedelta(seconds=1))

    assert before < time_floor("evt", moment) <= at < after

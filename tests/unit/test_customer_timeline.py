"""Who made a change (an event's `source`), old stored events without one, and the customer's
timeline said in words from its events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from remit.adapters.items.events import event_item, event_of
from remit.domain.customer_timeline import describe, timeline
from remit.domain.events import Event, EventObject

AT = datetime(2026, 3, 1, 9, tzinfo=UTC)
CUSTOMER: dict[str, Any] = {
    "id": "cus_1",
    "name": "Globex",
    "tax_id": None,
    "address": None,
    "balances": {},
    "balance": 0,
    "send_reminders": True,
    "updated_at": "2026-03-01T09:00:00Z",
}


def event(kind: str, minutes: int = 0, source: str | None = None, **changed: Any) -> Event:
    at = AT + timedelta(minutes=minutes)
    return Event.model_validate(
        {
            "id": f"evt_{minutes:04d}",
            "organisation_id": "org_1",
            "type": kind,
            "created_at": at,
            "object": EventObject(type="customer", id="cus_1", sequence=minutes + 1),
            "data": {**CUSTOMER, "updated_at": at.isoformat(), **changed},
            "source": source,
        }
    )


def test_an_event_stored_before_sources_were_recorded_loads_with_none() -> None:
    stored = event_item("ORG#org_1", event("customer.updated"))
    del stored["source"]

    loaded = event_of(stored)

    assert loaded.source is None
    assert loaded.model_dump(mode="json")["source"] is None


def test_a_portal_events_source_is_stored_and_read_back() -> None:
    assert event_of(event_item("ORG#org_1", event("customer.updated", source="portal"))).source == "portal"


def test_an_unknown_source_is_refused() -> None:
    with pytest.raises(ValidationError):
        event("customer.updated", source="<script>")


@pytest.mark.parametrize(
    ("newer", "said"),
    [
        (event("customer.created", 1), "Created"),
        (event("customer.deleted", 1), "Deleted"),
        (event("customer.updated", 1, tax_id="DE1"), "Details changed: tax id"),
        (
            event("customer.updated", 1, address={"line1": "x"}, send_reminders=False),
            "Details changed: billing address, reminders",
        ),
        (event("customer.updated", 1, balances={"EUR": 500}, balance=500), "Balance moved"),
        (
            event("customer.updated", 1, balances={"EUR": 5}, balance=5, tax_id="DE1"),
            "Details changed: tax id; balance moved",
        ),
        (event("customer.updated", 1), "Saved cards changed"),
    ],
)
def test_what_a_change_did_is_said_from_its_type_and_its_difference_with_the_one_before(
    newer: Event, said: str
) -> None:
    assert describe(newer, event("customer.created", 0)) == said


def test_an_update_whose_predecessor_was_not_read_says_only_that_details_changed() -> None:
    assert describe(event("customer.updated", 1, tax_id="DE1"), None) == "Details changed"


def test_the_event_read_beyond_the_page_only_explains_the_oldest_entry() -> None:
    newest_first = [
        event("customer.updated", 2, source="portal", tax_id="DE1"),
        event("customer.updated", 1, balances={"EUR": 1}, balance=1),
        event("customer.created", 0),
    ]

    entries = timeline(newest_first, more=True)

    assert [(entry.what, entry.source) for entry in entries] == [
        ("Details changed: tax id; balance moved", "portal"),
        ("Balance moved", None),
    ]
    assert [entry.what for entry in timeline(newest_first, more=False)][-1] == "Created"

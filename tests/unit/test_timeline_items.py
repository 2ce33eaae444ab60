"""Timeline entries one transaction adds to an invoice share one item; items of one entry, as every
item stored before, read as that entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from remit.adapters.dynamodb import from_attributes, to_attributes
from remit.adapters.items.invoices import invoice_events_of, timeline_items
from remit.domain.invoice import InvoiceEvent

AT = datetime(2027, 3, 1, 9, tzinfo=UTC)


def entry(invoice_id: str, n: int, kind: str, **data: str | int | None) -> InvoiceEvent:
    return InvoiceEvent(
        id=f"evt_{n:04d}", invoice_id=invoice_id, type=kind, created_at=AT + timedelta(seconds=n), data=data
    )


def stored(items: list[dict[str, object]]) -> list[dict[str, object]]:
    return [from_attributes(to_attributes(item)) for item in items]


def test_the_entries_of_each_invoice_share_one_item_and_read_back_in_order() -> None:
    added = [
        entry("inv_1", 1, "invoice.created", total=4900),
        entry("inv_2", 2, "invoice.created", total=100),
        entry("inv_1", 3, "invoice.finalized"),
        entry("inv_1", 4, "invoice.sent", to="ap@example.test"),
    ]

    items = stored(timeline_items("ORG#org_1", added))

    assert [item["SK"] for item in items] == ["EVENT#inv_1#evt_0001", "EVENT#inv_2#evt_0002"]
    assert invoice_events_of(items[0]) == [added[0], added[2], added[3]]
    assert invoice_events_of(items[1]) == [added[1]]


def test_an_item_of_one_entry_is_stored_as_entries_always_were() -> None:
    alone = entry("inv_1", 1, "invoice.paid")

    (item,) = timeline_items("ORG#org_1", [alone])

    assert item == {
        **alone.model_dump(mode="json"),
        "PK": "ORG#org_1",
        "SK": "EVENT#inv_1#evt_0001",
        "entity": "invoice_event",
    }
    assert invoice_events_of(item) == [alone]

"""An event's stored item (`EVENT_LOG#…`): the event as it is, plus its keys, its list-index keys
and its expiry (the table's TTL attribute `expires_at`, epoch seconds)."""

from __future__ import annotations

from remit.adapters.dynamodb import Item
from remit.domain.events import EVENT_RETENTION, Event

EVENT_SK = "EVENT_LOG#"


def event_sk(event_id: str) -> str:
    return f"{EVENT_SK}{event_id}"


def events_of_object(pk: str, object_id: str) -> str:
    """The list-index partition of one object's events."""
    return f"{pk}#OBJECT#{object_id}#EVENTS"


def event_item(pk: str, event: Event) -> Item:
    """The stored item of `event` in the partition `pk`, and in its object's list (GSI2, sorted by the
    item's own `SK`: oldest first).

    One list index only: each index an event is in costs a copy of the whole event (the object as
    the API shows it) on every change. Filters by type read the partition's events in time order
    and keep those of the type (`object_type` is stored for the `<object>.*` filter)."""
    sk = event_sk(event.id)
    return {
        **event.model_dump(mode="json"),
        "PK": pk,
        "SK": sk,
        "entity": "event",
        "GSI2PK": events_of_object(pk, event.object.id),
        "GSI2SK": sk,
        "object_type": event.object.type,
        "expires_at": int((event.created_at + EVENT_RETENTION).timestamp()),
    }


def event_of(item: Item) -> Event:
    return Event.model_validate(item)

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


def events_of_type(pk: str, event_type: str) -> str:
    """The list-index partition of the events of one type."""
    return f"{pk}#EVENTS#TYPE#{event_type}"


def events_of_object_type(pk: str, object_type: str) -> str:
    """The list-index partition of the events about one type of object (`invoice.*`)."""
    return f"{pk}#EVENTS#OBJECT_TYPE#{object_type}"


def event_item(pk: str, event: Event) -> Item:
    """The stored item of `event` in the partition `pk`, in the by-object (GSI2), by-type (GSI3)
    and by-object-type (GSI4) lists, each sorted by the item's own `SK` (oldest first)."""
    sk = event_sk(event.id)
    return {
        **event.model_dump(mode="json"),
        "PK": pk,
        "SK": sk,
        "entity": "event",
        "GSI2PK": events_of_object(pk, event.object.id),
        "GSI2SK": sk,
        "GSI3PK": events_of_type(pk, event.type),
        "GSI3SK": sk,
        "GSI4PK": events_of_object_type(pk, event.object.type),
        "GSI4SK": sk,
        "expires_at": int((event.created_at + EVENT_RETENTION).timestamp()),
    }


def event_of(item: Item) -> Event:
    return Event.model_validate(item)

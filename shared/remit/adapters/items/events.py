"""An event's stored item (`EVENT_LOG#…`): the event as it is, its `data` (the object as the API
shows it) compressed, plus its keys, its list-index keys and its expiry (the table's TTL attribute
`expires_at`, epoch seconds).

`data` is stored as `data_zlib`, a binary attribute holding the object's JSON compressed
(`event_data`): an event is written to the table in a transaction, which bills twice per started KB,
and to its object's list (GSI2), and the object's JSON (an invoice, its lines and its customer's
details) was most of the item. The other attributes stay plain, so a filter on
`type` or `object_type` and the stream's filter on `entity` read them as before. Items stored before
(with `data` as a map) read as they are.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from remit.adapters.dynamodb import Item
from remit.adapters.items.event_data import compress_data, decompress_data
from remit.domain.events import EVENT_RETENTION, Event

EVENT_SK = "EVENT_LOG#"
# The attribute holding the event's `data` as zlib-compressed JSON (UTF-8).
COMPRESSED_DATA = "data_zlib"


def event_sk(event_id: str) -> str:
    return f"{EVENT_SK}{event_id}"


def events_of_object(pk: str, object_id: str) -> str:
    """The list-index partition of one object's events."""
    return f"{pk}#OBJECT#{object_id}#EVENTS"


def _stored_bytes(stored: Any) -> bytes:
    """A binary attribute's bytes: bytes (a read of the table), boto3's `Binary`, or base64 text (a
    stream record as Lambda passes it, in JSON). ValueError if it is none of these."""
    if isinstance(stored, str):
        try:
            return base64.b64decode(stored, validate=True)
        except binascii.Error as error:
            raise ValueError(f"an event's compressed data is not base64: {error}") from error
    value = getattr(stored, "value", stored)
    if not isinstance(value, bytes | bytearray):
        raise ValueError("an event's compressed data is not binary")
    return bytes(value)


def event_item(pk: str, event: Event) -> Item:
    """The stored item of `event` in the partition `pk`, and in its object's list (GSI2, sorted by the
    item's own `SK`: oldest first).

    One list index only: each index an event is in costs a copy of the whole event (the object as
    the API shows it) on every change. Filters by type read the partition's events in time order
    and keep those of the type (`object_type` is stored for the `<object>.*` filter)."""
    sk = event_sk(event.id)
    attributes = event.model_dump(mode="json")
    data = attributes.pop("data")
    return {
        **attributes,
        COMPRESSED_DATA: compress_data(data),
        "PK": pk,
        "SK": sk,
        "entity": "event",
        "GSI2PK": events_of_object(pk, event.object.id),
        "GSI2SK": sk,
        "object_type": event.object.type,
        "expires_at": int((event.created_at + EVENT_RETENTION).timestamp()),
    }


def event_of(item: Mapping[str, Any]) -> Event:
    """The event an item holds: a stored item or a stream record's new image, `data` compressed or
    (an item written before compression) a map."""
    if COMPRESSED_DATA in item:
        fields = {name: value for name, value in item.items() if name != COMPRESSED_DATA}
        fields["data"] = decompress_data(_stored_bytes(item[COMPRESSED_DATA]))
        return Event.model_validate(fields)
    return Event.model_validate(item)

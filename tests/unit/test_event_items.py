"""An event's stored item: its `data` compressed, read back the same from the table, from a stream
record and from an item stored before compression."""

from __future__ import annotations

import base64
import json
import zlib
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from boto3.dynamodb.types import Binary

from local.stream_worker import lambda_record
from remit.adapters.dynamodb import from_attributes, to_attributes
from remit.adapters.items.event_data import compress_data
from remit.adapters.items.events import event_item, event_of
from remit.domain.events import Event, EventObject
from webhook_delivery.app import stored_event

INVOICE: dict[str, Any] = {
    "id": "inv_1",
    "number": "INV-00001",
    "status": "open",
    "currency": "EUR",
    "line_items": [{"id": "li_1", "description": "Widget — large", "quantity": "2.5", "unit_amount": 1000}],
    "total": 2500,
    "memo": None,
    "overdue": False,
    "customer_address": {"line1": "1 Rue de l'Église", "city": "Paris"},
    "metadata": {},
}


def invoice_event() -> Event:
    return Event(
        id="evt_1",
        organisation_id="org_1",
        type="invoice.finalized",
        created_at=datetime(2027, 3, 1, 9, tzinfo=UTC),
        object=EventObject(type="invoice", id="inv_1", sequence=2),
        data=INVOICE,
    )


def test_an_event_is_stored_with_its_data_compressed_and_reads_back_the_same() -> None:
    event = invoice_event()

    item = event_item("ORG#org_1", event)
    stored = from_attributes(to_attributes(item))  # through DynamoDB's types, as a read returns it

    assert "data" not in item
    assert len(item["data_zlib"]) < len(json.dumps(INVOICE))
    assert event_of(stored) == event
    assert event_of(stored).model_dump(mode="json")["data"] == INVOICE


def test_an_event_stored_before_compression_reads_back_the_same() -> None:
    event = invoice_event()
    old = {**{k: v for k, v in event_item("ORG#org_1", event).items() if k != "data_zlib"}, "data": INVOICE}

    assert event_of(from_attributes(to_attributes(old))) == event


def test_a_stream_record_s_image_reads_its_data_from_base64_or_bytes() -> None:
    # Lambda passes a binary attribute as base64 text; a client read gives bytes or boto3's Binary
    item = event_item("ORG#org_1", invoice_event())
    raw = item["data_zlib"]

    for form in (base64.b64encode(raw).decode(), raw, Binary(raw)):
        assert event_of({**item, "data_zlib": form}) == invoice_event()


def test_data_compressed_without_a_dictionary_reads_too() -> None:
    item = event_item("ORG#org_1", invoice_event())
    plain = zlib.compress(json.dumps(INVOICE).encode())

    assert event_of({**item, "data_zlib": plain}).data == INVOICE


@pytest.mark.parametrize(
    "stored",
    [
        b"not zlib at all",
        compress_data(INVOICE)[:-5],  # cut short
        b"\x78\xbb\x00\x00\x00\x01" + compress_data(INVOICE)[6:],  # a dictionary no reader knows
        "%%% not base64",
        12,
    ],
)
def test_damaged_compressed_data_is_refused_as_malformed(stored: Any) -> None:
    item = event_item("ORG#org_1", invoice_event())

    with pytest.raises(ValueError, match="event's"):
        event_of({**item, "data_zlib": stored})


def test_the_local_stream_passes_an_event_item_as_lambda_does_and_the_fan_out_reads_it() -> None:
    # Given an event item's stream record as moto keeps it (binary as bytes)
    item = to_attributes(event_item("ORG#org_1", invoice_event()))
    record = {"eventID": "1", "eventName": "INSERT", "dynamodb": {"NewImage": item, "SequenceNumber": "1"}}

    # When the local stream worker shapes it as Lambda's JSON event
    shaped = lambda_record(record, "arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/1")

    # Then it is JSON (the binary in base64), and the fan-out reads the event it holds
    assert json.loads(json.dumps(shaped)) == shaped
    assert shaped["dynamodb"]["NewImage"]["data_zlib"] == {
        "B": base64.b64encode(item["data_zlib"]["B"]).decode()
    }
    assert stored_event(DynamoDBRecord(shaped)) == invoice_event()

"""Webhooks through the deployed path: an API change writes an event, the stream handler fans it
out to the delivery queue, the worker posts it signed to a receiver on loopback and logs the attempt,
which the API lists; an event is sent again on request. Tables and queues are moto's."""

from __future__ import annotations

import base64
import json
import random
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer
from standardwebhooks.webhooks import Webhook

from remit.domain.deliveries import DeliveryOrder
from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.conftest import TABLES, reset_remit
from tests.integration.webhook_receiver import Receiver, running_receiver
from tests.unit.test_webhook_consumer import consumer_module
from webhook_delivery import app as webhook_delivery


@pytest.fixture
def webhook_queue(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    url = boto3.client("sqs").create_queue(QueueName="remit-webhooks")["QueueUrl"]
    monkeypatch.setenv("REMIT_WEBHOOK_QUEUE_URL", url)
    monkeypatch.setenv("REMIT_WEBHOOKS_ALLOW_HTTP_LOOPBACK", "true")
    monkeypatch.setenv("REMIT_WEBHOOK_TIMEOUT_SECONDS", "1")
    reset_remit()
    return url


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def stored_events(organisation_id: str) -> list[dict[str, Any]]:
    """The organisation's event items as the table's stream would carry them (INSERT records)."""
    client = boto3.client("dynamodb")
    items = client.query(
        TableName=TABLES["BillingTable"],
        KeyConditionExpression="PK = :pk AND begins_with(SK, :sk)",
        ExpressionAttributeValues={":pk": {"S": f"ORG#{organisation_id}"}, ":sk": {"S": "EVENT_LOG#"}},
    )["Items"]
    return [
        {"eventName": "INSERT", "dynamodb": {"NewImage": lambda_image(item), "SequenceNumber": str(n)}}
        for n, item in enumerate(items, 1)
    ]


def lambda_image(item: dict[str, Any]) -> dict[str, Any]:
    """An item as Lambda's JSON event carries it: a binary attribute as base64 text."""
    return {
        name: {"B": base64.b64encode(value["B"]).decode()} if "B" in value else value
        for name, value in item.items()
    }


def pump(queue_url: str) -> int:
    """Hand every visible message to the worker, as the event source mapping would; messages handled."""
    sqs = boto3.client("sqs")
    handled = 0
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return handled
        event = {"Records": [{"messageId": m["MessageId"], "body": m["Body"]} for m in messages]}
        answer = webhook_delivery.lambda_handler(event, _Context())
        assert answer == {"batchItemFailures": []}
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        handled += len(messages)


class _Context:
    function_name = "webhook-delivery"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:webhook-delivery"
    aws_request_id = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def endpoint(acme: Billing, url: str, events: list[str]) -> dict[str, Any]:
    response = acme.api.post(f"{acme.base}/webhook_endpoints", {"url": url, "enabled_events": events})
    assert response.status == 201, response.body
    return dict(response.json())


def test_an_invoice_finalized_reaches_the_endpoint_signed_and_the_attempt_is_listed(
    api: ApiClient, webhook_queue: str, receiver: Receiver
) -> None:
    acme = Billing(api)
    hooked = endpoint(acme, receiver.url("/invoices"), ["invoice.*"])
    draft = acme.draft()
    finalized = acme.api.post(f"{acme.invoice(draft['id'])}/finalize")
    assert finalized.status == 200, finalized.body

    answer = webhook_delivery.fan_out_handler({"Records": stored_events(acme.org)}, _Context())
    assert answer == {"batchItemFailures": []}
    assert pump(webhook_queue) == 2

    # Posted in parallel: in any order, which the sequence puts right
    delivered = sorted(
        (Webhook(hooked["secret"]).verify(r.body, r.headers) for r in receiver.to("/invoices")),
        key=lambda event: event["object"]["sequence"],
    )
    assert [(e["type"], e["object"]["sequence"]) for e in delivered] == [
        ("invoice.created", 1),
        ("invoice.finalized", 2),
    ]
    assert delivered[1]["data"] == finalized.json()
    log = acme.api.get(f"{acme.base}/webhook_endpoints/{hooked['id']}/deliveries")
    assert log.status == 200, log.body
    attempts = log.json()["data"]
    assert len(attempts) == 2
    assert {a["event_id"] for a in attempts} == {e["id"] for e in delivered}
    assert all(a["succeeded"] and a["status_code"] == 200 and a["attempt"] == 1 for a in attempts)
    assert attempts[0]["response_head"] == '{"received": true}'


def test_an_event_stored_before_its_data_was_compressed_is_delivered_the_same(
    api: ApiClient, webhook_queue: str, receiver: Receiver
) -> None:
    # Given an endpoint and a draft's `invoice.created`, as the events API answers it
    acme = Billing(api)
    hooked = endpoint(acme, receiver.url("/old"), ["invoice.created"])
    acme.draft()
    (created,) = acme.api.get(f"{acme.base}/events?type=invoice.created").json()["data"]
    # And its item rewritten as it was stored before `data` was compressed: the object as a map
    client = boto3.client("dynamodb")
    key = {"PK": {"S": f"ORG#{acme.org}"}, "SK": {"S": f"EVENT_LOG#{created['id']}"}}
    item = client.get_item(TableName=TABLES["BillingTable"], Key=key)["Item"]
    old = {name: value for name, value in item.items() if name != "data_zlib"}
    old["data"] = TypeSerializer().serialize(json.loads(json.dumps(created["data"]), parse_float=Decimal))
    client.put_item(TableName=TABLES["BillingTable"], Item=old)

    # When the stream's record of it is fanned out and delivered
    answer = webhook_delivery.fan_out_handler({"Records": stored_events(acme.org)}, _Context())
    assert answer == {"batchItemFailures": []}
    assert pump(webhook_queue) == 1

    # Then the endpoint receives the event exactly as the events API answers it
    (delivered,) = [Webhook(hooked["secret"]).verify(r.body, r.headers) for r in receiver.to("/old")]
    assert delivered == created


def test_an_event_is_sent_again_on_request_and_bad_requests_change_nothing(
    api: ApiClient, other_api: ApiClient, webhook_queue: str, receiver: Receiver
) -> None:
    acme = Billing(api)
    hooked = endpoint(acme, receiver.url("/hooks"), ["*"])
    acme.draft()
    event_id = acme.api.get(f"{acme.base}/events").json()["data"][0]["id"]

    resent = acme.api.post(f"{acme.base}/events/{event_id}/resend", {"endpoint_id": hooked["id"]})
    assert resent.status == 202, resent.body
    assert pump(webhook_queue) == 1
    [request] = receiver.to("/hooks")
    assert request.headers["webhook-id"] == event_id

    missing_field = acme.api.post(f"{acme.base}/events/{event_id}/resend", {})
    assert missing_field.status == 422
    assert b"endpoint_id" in missing_field.body
    unknown_endpoint = acme.api.post(f"{acme.base}/events/{event_id}/resend", {"endpoint_id": "we_nope"})
    assert unknown_endpoint.status == 404
    unknown_event = acme.api.post(f"{acme.base}/events/evt_nope/resend", {"endpoint_id": hooked["id"]})
    assert unknown_event.status == 404
    intruder = other_api.post(f"{acme.base}/events/{event_id}/resend", {"endpoint_id": hooked["id"]})
    assert intruder.status == 404
    assert other_api.get(f"{acme.base}/webhook_endpoints/{hooked['id']}/deliveries").status == 404
    assert pump(webhook_queue) == 0
    assert len(receiver.requests) == 1


def test_a_stream_record_of_another_item_is_ignored(webhook_queue: str) -> None:
    image = TypeSerializer().serialize({"entity": "outbox", "id": "x"})["M"]
    answer = webhook_delivery.fan_out_handler(
        {"Records": [{"eventName": "INSERT", "dynamodb": {"NewImage": image, "SequenceNumber": "1"}}]},
        _Context(),
    )

    assert answer == {"batchItemFailures": []}
    assert pump(webhook_queue) == 0


def test_a_time_range_is_replayed_to_an_endpoint(
    api: ApiClient, webhook_queue: str, receiver: Receiver
) -> None:
    acme = Billing(api)
    hooked = endpoint(acme, receiver.url("/replayed"), ["invoice.*"])
    acme.draft()
    acme.draft()
    events = acme.api.get(f"{acme.base}/events?type=invoice.*").json()["data"]
    body = {"created_gte": events[0]["created_at"], "created_lt": "2100-01-01T00:00:00Z"}

    replayed = acme.api.post(f"{acme.base}/webhook_endpoints/{hooked['id']}/replay", body)
    assert replayed.status == 202, replayed.body
    assert replayed.json() == {"queued": 2, "continue_from": None}
    assert pump(webhook_queue) == 2
    assert sorted(r.headers["webhook-id"] for r in receiver.to("/replayed")) == sorted(
        e["id"] for e in events
    )

    backwards = {"created_gte": "2100-01-01T00:00:00Z", "created_lt": events[0]["created_at"]}
    refused = acme.api.post(f"{acme.base}/webhook_endpoints/{hooked['id']}/replay", backwards)
    assert refused.status == 422
    assert b"created_lt" in refused.body
    assert pump(webhook_queue) == 0


def test_a_message_whose_retry_cannot_be_queued_is_reported_alone_and_the_batch_s_others_are_done(
    api: ApiClient, webhook_queue: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = Billing(api)
    broken = endpoint(acme, receiver.url("/fail"), ["*"])
    fine = endpoint(acme, receiver.url("/fine"), ["*"])
    acme.draft()
    event_id = acme.api.get(f"{acme.base}/events").json()["data"][0]["id"]
    monkeypatch.setenv("REMIT_WEBHOOK_QUEUE_URL", "")  # the queue cannot be reached
    reset_remit()
    orders = [
        DeliveryOrder(
            organisation_id=acme.org, endpoint_id=e["id"], event_id=event_id, delivery_id=f"wdl_t{n}"
        )
        for n, e in enumerate([broken, fine])
    ]
    batch = {"Records": [{"messageId": f"m{n}", "body": o.model_dump_json()} for n, o in enumerate(orders)]}

    answer = webhook_delivery.lambda_handler(batch, _Context())

    # The failed attempt is logged, but its successor could not be queued: SQS must deliver it again
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    assert len(receiver.to("/fine")) == 1
    again = webhook_delivery.lambda_handler(batch, _Context())
    assert again == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    assert len(receiver.to("/fail")) == 1  # delivered again, the logged attempt is not posted twice
    assert len(receiver.to("/fine")) == 1

    # Once the queue is back, the next delivery of the message queues attempt 2
    monkeypatch.setenv("REMIT_WEBHOOK_QUEUE_URL", webhook_queue)
    reset_remit()
    assert webhook_delivery.lambda_handler({"Records": batch["Records"][:1]}, _Context()) == {
        "batchItemFailures": []
    }
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=webhook_queue, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"  # attempt 2, due in 5 s


def test_a_receiver_rebuilds_each_invoice_s_last_state_from_duplicated_reordered_deliveries(
    api: ApiClient, webhook_queue: str, receiver: Receiver, tmp_path: Path
) -> None:
    acme = Billing(api)
    hooked = endpoint(acme, receiver.url("/books"), ["invoice.*", "payment.*"])
    first, second = acme.draft(unit_amount=10000, quantity="1"), acme.draft(unit_amount=5000, quantity="1")
    for draft in (first, second):
        assert acme.api.post(f"{acme.invoice(draft['id'])}/finalize").status == 200
    acme.pay(first["id"], 5000)
    acme.pay(first["id"], 6900)
    acme.pay(second["id"], 5950)
    refunded = acme.api.post(
        f"{acme.invoice(second['id'])}/credit_notes", {"amount": 1000, "refund_amount": 1000}
    )
    assert refunded.status == 201, refunded.body
    webhook_delivery.fan_out_handler({"Records": stored_events(acme.org)}, _Context())
    pump(webhook_queue)
    for event in acme.api.get(f"{acme.base}/events?limit=100").json()["data"][::2]:  # half sent twice
        acme.api.post(f"{acme.base}/events/{event['id']}/resend", {"endpoint_id": hooked["id"]})
    pump(webhook_queue)

    deliveries = list(reversed(receiver.to("/books")))
    random.Random(24).shuffle(deliveries)
    mirror = consumer_module()["AccountingMirror"](str(tmp_path / "books.sqlite"), hooked["secret"])
    assert {mirror.receive(r.body, r.headers) for r in deliveries} == {204}

    books = sqlite3.connect(tmp_path / "books.sqlite")
    for draft in (first, second):
        invoice = acme.get(draft["id"])
        [(body,)] = books.execute("SELECT body FROM invoices WHERE id = ?", (draft["id"],)).fetchall()
        assert json.loads(body) == invoice
    payments = acme.api.get(f"{acme.base}/payments?limit=100").json()["data"]
    mirrored = books.execute("SELECT body FROM payments ORDER BY id").fetchall()
    assert [json.loads(body) for (body,) in mirrored] == sorted(payments, key=lambda p: p["id"])
    assert [p["amount_refunded"] for p in payments] == [0, 0, 1000]


def test_a_test_event_reaches_only_its_endpoint_through_the_queue(
    api: ApiClient, other_api: ApiClient, webhook_queue: str, receiver: Receiver
) -> None:
    acme = Billing(api)
    tested = endpoint(acme, receiver.url("/tested"), ["invoice.*"])
    endpoint(acme, receiver.url("/other"), ["*"])

    sent = acme.api.post(f"{acme.base}/webhook_endpoints/{tested['id']}/test")
    assert sent.status == 202, sent.body
    order = sent.json()
    # As the stream would: every stored event (the customer's too) is fanned out
    webhook_delivery.fan_out_handler({"Records": stored_events(acme.org)}, _Context())
    pump(webhook_queue)

    (request,) = receiver.to("/tested")
    delivered = Webhook(tested["secret"]).verify(request.body, request.headers)
    assert (delivered["id"], delivered["type"]) == (order["event_id"], "webhook_endpoint.test")
    assert delivered["object"]["id"] == tested["id"]
    assert order["event_id"] not in [r.headers["webhook-id"] for r in receiver.to("/other")]
    assert receiver.to("/other")  # the other events reached it, fanned out as usual
    attempts = acme.api.get(f"{acme.base}/webhook_endpoints/{tested['id']}/deliveries").json()["data"]
    assert [(a["event_id"], a["succeeded"]) for a in attempts] == [(order["event_id"], True)]

    refused = other_api.post(f"{acme.base}/webhook_endpoints/{tested['id']}/test")
    missing = acme.api.post(f"{acme.base}/webhook_endpoints/we_missing/test")
    assert refused.status == missing.status == 404
    assert pump(webhook_queue) == 0

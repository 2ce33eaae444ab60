"""Webhook delivery: stored events fanned out to the endpoints that want them, and each attempt made.

Two handlers, two triggers (template.yaml's WebhookFanOutFunction and WebhookDeliveryFunction):

* `fan_out_handler`, on `BillingTable`'s stream filtered to new event items: one queued attempt
  per endpoint of the organisation that wants the event's type. A fan-out of its own, not inside the
  notifications function, so that a delivery queue in trouble never holds up the emails' stream
  (each mapping has its own iterator, retries and dead-letter queue). A record that cannot be queued
  is reported failed, so Lambda retries it (queued twice, it is posted once: the attempt log is keyed
  by delivery and attempt).
* `lambda_handler`, on the delivery queue: each message is one (event, endpoint, attempt). The
  batch's messages are posted at once, each in its own thread with its own 15 s deadline, so a slow
  or dead endpoint costs its own message's time and never another's. A failed attempt queues the
  next one with a delay (SQS allows 900 s; a longer wait comes back early and is queued again for
  the time left); only a message whose log or queue write failed is reported failed, so SQS delivers
  it again and, after its receives, moves it to the dead-letter queue (alarmed).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from remit.bootstrap import event_of_item, services
from remit.domain.deliveries import DeliveryOrder
from remit.domain.events import Event
from remit.observability import logger, metrics

# Messages of one batch posted at once (the queue's BatchSize is no more than this).
PARALLEL_POSTS = 10


def stored_event(record: DynamoDBRecord) -> Event | None:
    """The event a stream record wrote, or None for any other record."""
    stream = record.dynamodb
    if stream is None or record.event_name != DynamoDBRecordEventName.INSERT:
        return None
    image = stream.new_image
    if image.get("entity") != "event":
        return None
    return event_of_item(image)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def fan_out_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    failures = []
    queued = 0
    for raw in event.get("Records", []):
        record = DynamoDBRecord(raw)
        try:
            stored = stored_event(record)
        except ValueError:  # an item no retry would mend: logged, never fanned out
            logger.exception("A stored event item is malformed; not delivered", extra={"record": raw})
            metrics.add_metric(name="WebhookEventsMalformed", unit=MetricUnit.Count, value=1)
            continue
        if stored is None:
            continue
        try:
            queued += len(services().webhook_deliveries.fan_out(stored))
        except Exception:
            logger.exception("Fanning out an event failed; Lambda retries it", extra={"event_id": stored.id})
            sequence = record.dynamodb.sequence_number if record.dynamodb else None
            failures.append({"itemIdentifier": sequence})
    metrics.add_metric(name="WebhookDeliveriesQueued", unit=MetricUnit.Count, value=queued)
    return {"batchItemFailures": failures}


def deliver(message_id: str, body: str) -> str | None:
    """Make one message's attempt; its id when it must be delivered again, else None."""
    try:
        order = DeliveryOrder.model_validate_json(body)
    except ValueError:
        logger.exception("A webhook delivery message is malformed; dropped", extra={"message_id": message_id})
        return None
    try:
        attempt = services().webhook_deliveries.deliver(order)
    except Exception:
        logger.exception(
            "A webhook delivery failed; SQS delivers it again", extra={"order": order.model_dump()}
        )
        return message_id
    if attempt is not None:
        name = "WebhookDeliveriesSucceeded" if attempt.succeeded else "WebhookDeliveriesFailed"
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    return None


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = event.get("Records", [])
    if not records:
        return {"batchItemFailures": []}
    services()  # built once, here, rather than by the first threads at once
    with ThreadPoolExecutor(max_workers=min(PARALLEL_POSTS, len(records))) as pool:
        outcomes = list(pool.map(lambda r: deliver(r["messageId"], r["body"]), records))
    return {"batchItemFailures": [{"itemIdentifier": failed} for failed in outcomes if failed]}

"""The notifications function: new outbox items from the billing table's stream, and the sweep.

Two triggers, one function:

* the DynamoDB stream of `BillingTable` (filtered to outbox items by the event source mapping):
  each record that owes an email is delivered; records that fail are reported as batch item
  failures, so Lambda retries them (and, once its retries are spent, the sweep does);
* the EventBridge Scheduler every few minutes (`{"sweep": true}`): delivers what is still owed.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from remit.bootstrap import services
from remit.observability import logger, metrics

# The sweep starts no delivery with less than this left before the function's timeout.
SWEEP_MARGIN_MILLIS = 30_000
_OUTCOME_METRICS = {"sent": "EmailsSent", "skipped": "EmailsSkipped", "given_up": "EmailsGivenUp"}

# Every record gets an answer in the partial response, even when all of them failed.
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


def owes_delivery(record: DynamoDBRecord) -> bool:
    """True for an outbox item that has just become `pending`: written new, or re-queued by hand.

    A claim handed back after a failed attempt (`sending` → `pending`) is not a new trigger: the
    failed record is retried by Lambda and by the sweep, and re-triggering on it would loop.
    """
    stream = record.dynamodb
    if stream is None:
        return False
    new = stream.new_image
    if new.get("entity") != "outbox" or new.get("status") != "pending":
        return False
    if record.event_name == DynamoDBRecordEventName.INSERT:
        return True
    return record.event_name == DynamoDBRecordEventName.MODIFY and stream.old_image.get("status") != "sending"


def deliver_owed_email(record: DynamoDBRecord) -> None:
    if not owes_delivery(record):
        return
    image = record.dynamodb.new_image if record.dynamodb else {}
    try:
        outcome = services().notifications.deliver(str(image["organisation_id"]), str(image["id"]))
    except Exception:
        # The batch processor only reports the record as failed; say why before Lambda retries it.
        logger.exception("Delivering an owed email failed", extra={"outbox_message_id": image.get("id")})
        raise
    metrics.add_metric(name=_OUTCOME_METRICS[outcome], unit=MetricUnit.Count, value=1)


def is_sweep(event: dict[str, Any]) -> bool:
    return event.get("sweep") is True or event.get("detail-type") == "Scheduled Event"


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if is_sweep(event):
        report = services().notifications.sweep(
            time_is_up=lambda: context.get_remaining_time_in_millis() < SWEEP_MARGIN_MILLIS
        )
        logger.info("Swept the outbox", extra={"report": asdict(report)})
        metrics.add_metric(name="EmailsSent", unit=MetricUnit.Count, value=report.sent)
        metrics.add_metric(name="EmailsGivenUp", unit=MetricUnit.Count, value=report.given_up)
        return asdict(report)
    return dict(process_partial_response(event, deliver_owed_email, processor, context))

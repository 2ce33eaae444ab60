"""The notifications function: queues the outbox's new messages for sending, and sweeps.

Two triggers, one function; neither sends mail (the send worker does, `notifications.sender`):

* the DynamoDB stream of `BillingTable` (filtered to outbox items by the event source mapping):
  each record that owes an email is handed to the send queue, the whole batch in one call per
  ten messages. If the queue refuses, every owed record of the batch is reported as failed, so
  Lambda retries them (queuing twice sends nothing twice);
* the EventBridge Scheduler every few minutes (`{"sweep": true}`): queues what is still owed;
* the EventBridge Scheduler every few minutes (`{"sweep": "refunds"}`): sends again the card refunds
  the provider never acknowledged (`services().refunds.sweep`: a credit note's refund whose call
  failed after its commit; the refund's id keys the call, so the provider refunds once).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from remit.bootstrap import services
from remit.domain.owed_email import OwedEmail
from remit.observability import logger, metrics

# The sweep queues nothing with less than this left before the function's timeout.
SWEEP_MARGIN_MILLIS = 30_000


def owes_delivery(record: DynamoDBRecord) -> bool:
    """True for an outbox item that has just become `pending`: written new, or re-queued by hand.

    A claim handed back after a failed attempt (`sending` → `pending`) is not a new trigger: the
    send queue redelivers the failed message, and the sweep queues it again later; re-triggering
    on it would loop.
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


def queue_owed_emails(event: dict[str, Any]) -> dict[str, Any]:
    """Queue the batch's owed emails; a partial batch response naming them all if the queue refused."""
    owed: list[tuple[str, OwedEmail]] = []
    for raw in event.get("Records", []):
        record = DynamoDBRecord(raw)
        if owes_delivery(record) and record.dynamodb is not None:
            image = record.dynamodb.new_image
            email = OwedEmail(str(image["organisation_id"]), str(image["id"]))
            owed.append((str(record.dynamodb.sequence_number), email))
    if not owed:
        return {"batchItemFailures": []}
    try:
        services().notifications.queue_for_sending([email for _, email in owed])
    except Exception:
        logger.exception("Queuing owed emails failed; Lambda retries the records", extra={"count": len(owed)})
        return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence, _ in owed]}
    metrics.add_metric(name="EmailsQueued", unit=MetricUnit.Count, value=len(owed))
    return {"batchItemFailures": []}


def is_refund_sweep(event: dict[str, Any]) -> bool:
    return event.get("sweep") == "refunds"


def is_sweep(event: dict[str, Any]) -> bool:
    return event.get("sweep") is True or event.get("detail-type") == "Scheduled Event"


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if is_refund_sweep(event):
        sent = services().refunds.sweep()
        logger.info("Swept the pending card refunds", extra={"refunds_sent": sent})
        metrics.add_metric(name="RefundsSent", unit=MetricUnit.Count, value=sent)
        return {"refunds_sent": sent}
    if is_sweep(event):
        report = services().notifications.sweep(
            time_is_up=lambda: context.get_remaining_time_in_millis() < SWEEP_MARGIN_MILLIS
        )
        logger.info("Swept the outbox", extra={"report": asdict(report)})
        metrics.add_metric(name="EmailsQueued", unit=MetricUnit.Count, value=report.queued)
        return asdict(report)
    return queue_owed_emails(event)

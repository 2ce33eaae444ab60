"""The send worker: sends the outbox's owed emails from the send queue (SQS), as many at once as
the queue's event source mapping allows (`SendMaximumConcurrency` in template.yaml).

Its own function beside the notifications function (same package: both deliver the outbox), with
its own handler, so that rendering PDFs and sending run in parallel rather than one stream shard
at a time. Each message names one outbox message; `deliver` claims it before sending, so a message
delivered twice by SQS, or queued again by the sweep, sends one email. A message that fails (the
mail service down or throttling) is handed back as `pending` and reported as a batch item failure:
SQS delivers it again after its visibility timeout and, after its receives, moves it to the
dead-letter queue; the sweep queues it again either way.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from remit.bootstrap import services
from remit.observability import logger, metrics

_OUTCOME_METRICS = {"sent": "EmailsSent", "skipped": "EmailsSkipped", "given_up": "EmailsGivenUp"}

# Every message gets an answer in the partial response, even when all of them failed.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def send_owed_email(record: SQSRecord) -> None:
    body = record.json_body
    try:
        outcome = services().notifications.deliver(str(body["organisation_id"]), str(body["message_id"]))
    except Exception:
        # The batch processor only reports the message as failed; say why before SQS redelivers it.
        logger.exception(
            "Delivering an owed email failed", extra={"outbox_message_id": body.get("message_id")}
        )
        raise
    metrics.add_metric(name=_OUTCOME_METRICS[outcome], unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(process_partial_response(event, send_owed_email, processor, context))

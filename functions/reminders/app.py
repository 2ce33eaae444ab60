"""The reminders function: the daily run on its schedule, and the reminders it queued, from SQS.

Two triggers, one function (as the notifications function has its stream and its sweep):

* EventBridge Scheduler daily at 08:45 UTC (after the invoicing cycle), with its own time in
  `scheduled_time`: splits the day, queueing one part per shard of the reminder index;
* the reminders queue: a part plans a page of its shard, queueing one message per invoice whose
  reminder date has come in its organisation (see `remit.services.day_planning`); any other message
  reminds one invoice, once per step (see `remit.services.reminders`); a failure is reported as a
  batch item failure and delivered again.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from remit.bootstrap import services
from remit.observability import logger, metrics
from remit.scheduled_events import scheduled_time

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def remind(record: SQSRecord) -> None:
    message = json.loads(record.body)
    if message.get("kind") == "plan_reminders":
        try:
            plan = services().reminders.plan_part(message, record.message_id)
        except Exception:
            logger.exception(
                "A part of the reminders run failed; it will be planned again", extra={"part": message}
            )
            metrics.add_metric(name="PlanningFailed", unit=MetricUnit.Count, value=1)
            raise
        logger.info("Planned a part of the reminders run", extra={"part": message, "enqueued": plan.enqueued})
        return
    if message.get("kind") == "reschedule":
        moved = services().reminders.reschedule(message)
        logger.info("Rescheduled reminders", extra={"reminders": message, "moved": moved})
        return
    try:
        outcome = services().reminders.send(message)
    except Exception:
        logger.exception("A reminder failed; it will be delivered again", extra={"reminder": message})
        metrics.add_metric(name="RemindersFailed", unit=MetricUnit.Count, value=1)
        raise
    if outcome.sent:
        metrics.add_metric(name="RemindersSent", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        return dict(process_partial_response(event, remind, processor, context))
    parts = services().reminders.split_day(scheduled_time(event))
    logger.info("Split the reminders run's day", extra={"parts": len(parts)})
    return {
        "scheduled_time": parts[0].scheduled_time.isoformat().replace("+00:00", "Z") if parts else None,
        "parts": [part.message() for part in parts],
    }

"""The billing worker: issues the invoices of billing runs from the billing queue (SQS), and
imports customers a part of an import at a time (`remit.services.imports`).

Each message is one item of a run (a subscription, a customer billed monthly, or up to ten
customers of a bulk run), or a part of the invoicing cycle's day to plan (a page of the due index,
see `remit.services.day_planning`). Its invoices are issued exactly once whatever the redeliveries (see
`remit.services.billing_cycle`); a message that fails is reported as a batch item failure, so SQS
delivers it again and, after its retries, moves it to the dead-letter queue.

The batch's subscriptions of one organisation are issued together first (several invoices and
their consecutive numbers in one transaction), as are a bulk message's customers; each message
left is then done on its own.
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

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
# The runs whose items this invocation worked on: checked for completion once, after the batch.
_touched_runs: set[tuple[str, str]] = set()
# What this invocation's batch issued together, by message id: those messages are done.
_issued_together: dict[str, Any] = {}


def bill_item(record: SQSRecord) -> None:
    message = json.loads(record.body)
    if message.get("kind") == "plan_cycle":
        plan_part(record.message_id, message)
        return
    if message.get("kind") == "import_customers":
        import_part(message)
        return
    _touched_runs.add((str(message["organisation_id"]), str(message["run_id"])))
    together = _issued_together.get(record.message_id)
    try:
        outcomes = [together] if together else services().billing_cycle.process(message)
    except Exception:
        logger.exception("A billing message failed; it will be delivered again", extra={"billing": message})
        raise
    issued = sum(outcome.issued for outcome in outcomes)
    failed = [outcome.error for outcome in outcomes if outcome.error]
    metrics.add_metric(name="InvoicesIssued", unit=MetricUnit.Count, value=issued)
    if failed:
        logger.warning("Billing items failed", extra={"billing": message, "errors": failed})
        metrics.add_metric(name="BillingItemsFailed", unit=MetricUnit.Count, value=len(failed))
    if any(outcome.catch_up_limit_reached for outcome in outcomes):
        metrics.add_metric(name="CatchUpLimitReached", unit=MetricUnit.Count, value=1)


def plan_part(message_id: str, message: dict[str, Any]) -> None:
    try:
        plan = services().billing_cycle.plan_part(message, message_id)
    except Exception:
        logger.exception(
            "A part of the invoicing cycle failed; it will be planned again", extra={"part": message}
        )
        metrics.add_metric(name="PlanningFailed", unit=MetricUnit.Count, value=1)
        raise
    logger.info("Planned a part of the invoicing cycle", extra={"part": message, "runs": len(plan.runs)})
    metrics.add_metric(name="BillingItemsPlanned", unit=MetricUnit.Count, value=plan.enqueued)


def import_part(message: dict[str, Any]) -> None:
    try:
        services().imports.process(message)
    except Exception:
        logger.exception(
            "A part of a customer import failed; it will be done again", extra={"import": message}
        )
        metrics.add_metric(name="ImportPartsFailed", unit=MetricUnit.Count, value=1)
        raise


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    _touched_runs.clear()
    _issued_together.clear()
    messages = {record["messageId"]: json.loads(record["body"]) for record in event.get("Records", [])}
    _issued_together.update(services().billing_cycle.issue_together(messages))
    response = dict(process_partial_response(event, bill_item, processor, context))
    services().billing_cycle.complete_runs(set(_touched_runs))
    return response

"""The daily invoicing cycle's planner: EventBridge Scheduler at 08:15 UTC.

It plans, it does not bill: everything due on or before each organisation's date at the scheduled
time is recorded as a billing run and queued for the billing worker. The schedule passes its own
time (`<aws.scheduler.scheduled-time>`), so a retried or late delivery plans the same day, and a
duplicate delivery plans nothing twice (see `remit.services.billing_cycle`).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from remit.bootstrap import services
from remit.observability import logger, metrics
from remit.scheduled_events import scheduled_time


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    plan = services().billing_cycle.plan(scheduled_time(event))
    logger.info("Planned the invoicing cycle", extra={"runs": len(plan.runs), "enqueued": plan.enqueued})
    metrics.add_metric(name="BillingItemsPlanned", unit=MetricUnit.Count, value=plan.enqueued)
    return {
        "scheduled_time": plan.scheduled_time.isoformat().replace("+00:00", "Z"),
        "runs": [
            {"organisation_id": run.organisation_id, "run_id": run.run_id, "items": run.items}
            for run in plan.runs
        ],
        "enqueued": plan.enqueued,
    }

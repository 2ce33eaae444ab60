"""The daily invoicing cycle's planner: EventBridge Scheduler at 08:15 UTC.

It splits the day, it does not plan it: one part per shard of the due index is queued on the
billing queue, and each part is planned by the billing worker, a page at a time (see
`remit.services.day_planning`), so no invocation grows with the day. The schedule passes its own
time (`<aws.scheduler.scheduled-time>`), so a retried or late delivery plans the same day, and a
duplicate delivery bills nothing twice (see `remit.services.billing_cycle`).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from remit.bootstrap import services
from remit.observability import logger, metrics
from remit.scheduled_events import scheduled_time


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parts = services().billing_cycle.split_day(scheduled_time(event))
    logger.info("Split the invoicing cycle's day", extra={"parts": len(parts)})
    return {
        "scheduled_time": parts[0].scheduled_time.isoformat().replace("+00:00", "Z") if parts else None,
        "parts": [part.message() for part in parts],
    }

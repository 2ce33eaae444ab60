"""The event EventBridge Scheduler sends the daily functions (the invoicing cycle, the reminders)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


def scheduled_time(event: Mapping[str, Any]) -> datetime:
    """The schedule's own time (`scheduled_time`, from `<aws.scheduler.scheduled-time>`, or an
    EventBridge event's `time`), else now: a retried or late delivery works for the day it was for.
    """
    raw = event.get("scheduled_time") or event.get("time")
    if not raw:
        return datetime.now(UTC)
    return datetime.fromisoformat(str(raw).replace("Z", "+00:00")).astimezone(UTC)

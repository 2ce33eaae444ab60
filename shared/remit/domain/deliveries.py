"""Webhook deliveries: one attempt to post one event to one endpoint, and when the next one is due.

An event reaches an endpoint at least once: a failed attempt is logged and the next is scheduled
by `RETRY_DELAYS`, about three days in all; after the last one the endpoint is marked `failing`
and the organisation told. Pure rules only; the sending is `adapters/webhook_sender.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Final

from pydantic import Field

from remit.domain.values import Model, Strict

# The wait before attempt 2, 3, …: Standard Webhooks' suggested schedule, stretched to about three
# days so that an endpoint down over a weekend still gets every event. Attempt 1 is at once.
RETRY_DELAYS: Final[tuple[timedelta, ...]] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=14),
    timedelta(hours=14),
)
MAX_ATTEMPTS: Final = len(RETRY_DELAYS) + 1

# A delivery succeeds on a 2xx answer within this time; anything else is a failed attempt.
DELIVERY_TIMEOUT_SECONDS: Final = 15.0
# How much of the answer's body is kept in the attempt log (and all that is ever read).
RESPONSE_HEAD_BYTES: Final = 1024
# The longest delay one SQS message can carry; longer waits are covered by re-queueing.
MAX_QUEUE_DELAY_SECONDS: Final = 900


class DeliveryAttempt(Model):
    """One POST of one event to one endpoint, as the attempt log shows it."""

    id: str  # "wda_…"
    organisation_id: str
    endpoint_id: str
    event_id: str
    attempt: int  # 1 for the first; a resend starts again at 1
    started_at: datetime
    duration_ms: int
    status_code: int | None  # None: no answer (refused address, connection error, timeout)
    error: str | None
    response_head: str  # the first 1 KB of the answer's body
    succeeded: bool


def is_success(status_code: int | None) -> bool:
    """A 2xx answer; a redirect (3xx) is a failure: deliveries never follow one."""
    return status_code is not None and 200 <= status_code < 300


def retry_delay(failed_attempt: int) -> timedelta | None:
    """The wait after attempt number `failed_attempt` (1-based) failed, or None when it was the last."""
    if failed_attempt < 1:
        raise ValueError("attempts are numbered from 1")
    if failed_attempt > len(RETRY_DELAYS):
        return None
    return RETRY_DELAYS[failed_attempt - 1]


def queue_delay(due_at: datetime, now: datetime) -> int:
    """Seconds for an SQS message's DelaySeconds so that it comes back at `due_at`, or no later than
    the queue allows: a message read before it is due is sent again with what remains."""
    remaining = (due_at - now).total_seconds()
    if remaining <= 0:
        return 0
    return min(MAX_QUEUE_DELAY_SECONDS, int(-(-remaining // 1)))


def total_retry_window() -> timedelta:
    """How long an event keeps being retried after its first attempt fails."""
    return sum(RETRY_DELAYS, timedelta())


class DeliveryOrder(Model):
    """One queued attempt (a delivery queue message): post event `event_id` to endpoint
    `endpoint_id`, attempt number `attempt`, not before `due_at`.

    `delivery_id` names the chain of attempts one fan-out or one resend started; the attempt log
    is keyed by it and the attempt, so a message delivered twice posts once."""

    organisation_id: str
    endpoint_id: str
    event_id: str
    delivery_id: str  # "wdl_…"
    attempt: int = 1
    due_at: datetime | None = None

    def next(self, due_at: datetime) -> DeliveryOrder:
        return self.model_copy(update={"attempt": self.attempt + 1, "due_at": due_at})


@dataclass(frozen=True, slots=True)
class PostResult:
    """What one POST to an endpoint observed."""

    status_code: int | None
    error: str | None
    response_head: str
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.error is None and is_success(self.status_code)


class EventResend(Strict):
    """`POST …/events/{event_id}/resend`: the endpoint to send the event to again."""

    endpoint_id: Annotated[str, Field(min_length=1, max_length=100, examples=["we_01jd7k…"])]


class EventReplay(Strict):
    """`POST …/webhook_endpoints/{id}/replay`: the events created in [created_gte, created_lt)."""

    created_gte: datetime
    created_lt: datetime


class ReplayQueued(Model):
    """What a replay queued, and where the next one starts if it stopped at its limit."""

    queued: int
    continue_from: datetime | None = None

"""A stand-in for the reminders function (`functions/reminders`), for the local stack's plumbing.

Like the real one it is one handler with two triggers: the daily schedule's event
(`{"scheduled_time": …}`) plans, queueing messages to `$REMIT_REMINDERS_QUEUE_URL` and answering
the runs it recorded; an SQS event (`Records`) answers `batchItemFailures`. It sends no reminder.
A test scripts it through `script` and reads what it was given; `LocalFunction` loads it by
dotted name, as it loads the real one. `cycle` stands for the invoicing cycle's planner, so a
test can see which of the two schedules fired first.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3


@dataclass
class Script:
    """What the handlers do and what they saw, reset by each test (`reset()`)."""

    #: Bodies the plan queues, and the runs it answers.
    planned_messages: list[dict[str, Any]] = field(default_factory=list)
    planned_runs: list[dict[str, Any]] = field(default_factory=list)
    planner_failures: int = 0
    #: The decision per SQS invocation: the ids to report as failed (or raise).
    sender: Callable[[list[dict[str, Any]]], list[str]] = lambda records: []
    #: Set by the test to let the stand-in invoicing cycle return.
    cycle_may_return: threading.Event = field(default_factory=threading.Event)
    #: Every invocation in order: ("cycle" | "plan", scheduled_time) or ("send", message ids).
    calls: list[tuple[str, Any]] = field(default_factory=list)
    batches: list[list[dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    called: threading.Event = field(default_factory=threading.Event)

    def plans(self) -> list[str]:
        with self.lock:
            return [scheduled for kind, scheduled in self.calls if kind == "plan"]

    def wait_for(self, count: int, timeout: float) -> list[tuple[str, Any]]:
        """The first `count` schedule invocations (cycle and plan), once there are that many."""
        while True:
            assert self.called.wait(timeout), f"fewer than {count} invocations: {self.calls}"
            with self.lock:
                self.called.clear()
                fired = [call for call in self.calls if call[0] in ("cycle", "plan")]
                if len(fired) >= count:
                    return fired


script = Script()


def reset() -> Script:
    global script  # the handlers read the current one
    script = Script()
    return script


def reminders(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if "Records" in event:
        return _send(event["Records"])
    return _plan(event)


def _plan(event: dict[str, Any]) -> dict[str, Any]:
    with script.lock:
        script.calls.append(("plan", event.get("scheduled_time")))
        fail = len([call for call in script.calls if call[0] == "plan"]) <= script.planner_failures
    script.called.set()
    if fail:
        raise RuntimeError("the reminders plan failed (as scripted)")
    sqs = boto3.client("sqs")
    for body in script.planned_messages:
        sqs.send_message(QueueUrl=os.environ["REMIT_REMINDERS_QUEUE_URL"], MessageBody=json.dumps(body))
    return {
        "scheduled_time": event.get("scheduled_time"),
        "runs": script.planned_runs,
        "enqueued": len(script.planned_messages),
    }


def _send(records: list[dict[str, Any]]) -> dict[str, Any]:
    with script.lock:
        script.batches.append(records)
        script.calls.append(("send", [record["messageId"] for record in records]))
    failed = script.sender(records)
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}


def cycle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The invoicing cycle's planner: records its call, then returns once the test lets it."""
    with script.lock:
        script.calls.append(("cycle", event.get("scheduled_time")))
    script.called.set()
    assert script.cycle_may_return.wait(30), "the test never let the invoicing cycle return"
    return {"scheduled_time": event.get("scheduled_time"), "runs": [], "enqueued": 0}

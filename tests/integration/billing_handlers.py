"""Stand-ins for the invoicing cycle's planner and the billing worker, for the local stack's plumbing.

The real handlers (`functions/invoicing_cycle`, `functions/billing_worker`) bill; these only do
what the plumbing around them relies on: the planner queues messages and answers the runs it
recorded, the worker answers `batchItemFailures`. A test scripts them through `script` and reads
what they were given; `LocalFunction` loads them by dotted name, as it loads the real ones.
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

    #: Bodies the planner queues (to `$REMIT_BILLING_QUEUE_URL`), and the runs it answers.
    planned_messages: list[dict[str, Any]] = field(default_factory=list)
    planned_runs: list[dict[str, Any]] = field(default_factory=list)
    #: The worker's decision per invocation: the ids to report as failed (or raise).
    worker: Callable[[list[dict[str, Any]]], list[str]] = lambda records: []
    planner_failures: int = 0
    planner_events: list[dict[str, Any]] = field(default_factory=list)
    worker_batches: list[list[dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    planner_called: threading.Event = field(default_factory=threading.Event)

    def records_of(self, message_id: str) -> list[dict[str, Any]]:
        """Every delivery of the message, in order."""
        with self.lock:
            return [
                record
                for batch in self.worker_batches
                for record in batch
                if record["messageId"] == message_id
            ]


script = Script()


def reset() -> Script:
    global script  # the handlers read the current one
    script = Script()
    return script


def planner(event: dict[str, Any], context: Any) -> dict[str, Any]:
    with script.lock:
        script.planner_events.append(event)
        fail = len(script.planner_events) <= script.planner_failures
    script.planner_called.set()
    if fail:
        raise RuntimeError("the planner failed (as scripted)")
    if script.planned_messages:
        sqs = boto3.client("sqs")
        for body in script.planned_messages:
            sqs.send_message(QueueUrl=os.environ["REMIT_BILLING_QUEUE_URL"], MessageBody=json.dumps(body))
    return {
        "scheduled_time": event.get("scheduled_time"),
        "runs": script.planned_runs,
        "enqueued": len(script.planned_messages),
    }


def worker(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event["Records"]
    with script.lock:
        script.worker_batches.append(records)
    failed = script.worker(records)
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}

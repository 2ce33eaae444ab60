"""The billing queue as Lambda's SQS event source would feed the billing worker, driven by a test
(and the reminders and send queues, feeding their functions, the same way).

`deliver()` receives what is visible, invokes the worker's handler with an SQS event of up to ten
records (as the event source mapping does) and deletes the records the handler did not report as
failed. Options let a test deliver every message twice, or keep the messages (a worker that
crashed before acknowledging them).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import boto3

from remit.services.day_planning import DayPart


def sqs_event(
    messages: list[dict[str, Any]], queue_arn: str = "arn:aws:sqs:eu-west-1:123456789012:remit-billing"
) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"},
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "eu-west-1",
            }
            for message in messages
        ]
    }


@dataclass
class LambdaContextStub:
    function_name: str = "remit-billing-worker"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:remit-billing-worker"
    aws_request_id: str = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@dataclass
class BillingQueue:
    url: str = field(default_factory=lambda: os.environ["REMIT_BILLING_QUEUE_URL"])
    # The handler the queue feeds (`module:function`): the billing worker, or the reminders function.
    consumer: str = "billing_worker.app"

    @property
    def client(self) -> Any:
        return boto3.client("sqs")

    def receive(self, visibility: int = 0) -> list[dict[str, Any]]:
        """Every message visible now (made visible again at once unless a visibility is given)."""
        found: dict[str, dict[str, Any]] = {}
        while True:
            response = self.client.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=10, VisibilityTimeout=max(visibility, 1)
            )
            batch = [m for m in response.get("Messages", []) if m["MessageId"] not in found]
            if not batch:  # none left, or only those seen already visible again
                break
            for message in batch:
                found[message["MessageId"]] = message
        return list(found.values())

    def visible(self) -> int:
        """How many messages wait visible now (moto counts them exactly); receives none."""
        attributes = self.client.get_queue_attributes(
            QueueUrl=self.url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def bodies(self) -> list[dict[str, Any]]:
        messages = self.receive()
        for message in messages:
            self.client.change_message_visibility(
                QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        return [json.loads(m["Body"]) for m in messages]

    def deliver(self, *, acknowledge: bool = True, times: int = 1) -> list[str]:
        """Feed every visible message to the worker (`times` times each); returns the failed ids."""
        import importlib

        lambda_handler = importlib.import_module(self.consumer).lambda_handler
        failed: list[str] = []
        messages = self.receive(visibility=30)
        for start in range(0, len(messages), 10):
            batch = messages[start : start + 10]
            for _ in range(times):
                response = lambda_handler(sqs_event(batch), LambdaContextStub())
                failed_now = {f["itemIdentifier"] for f in response["batchItemFailures"]}
            failed += sorted(failed_now)
            for message in batch:
                if acknowledge and message["MessageId"] not in failed_now:
                    self.client.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
                else:
                    self.client.change_message_visibility(
                        QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
        return failed

    def drain(self, rounds: int = 20) -> None:
        """Deliver until the queue is empty; fails if messages keep failing."""
        for _ in range(rounds):
            if not self.deliver() and not self.visible():
                return
        raise AssertionError(f"the queue still holds {len(self.receive())} messages")

    def purge(self) -> None:
        """Delete every message, waiting up to 2 s for those a `receive` hid for a second."""
        import time

        deadline = time.monotonic() + 2
        while True:
            for message in self.receive(visibility=30):
                self.client.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
            hidden = self.client.get_queue_attributes(
                QueueUrl=self.url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
            )["Attributes"]["ApproximateNumberOfMessagesNotVisible"]
            if int(hidden) == 0 or time.monotonic() > deadline:
                return
            time.sleep(0.2)


def plan_parts[T](queue: BillingQueue, kind: str, plan_part: Callable[[dict[str, Any], str], T]) -> list[T]:
    """Plan every part of the day (`kind`) on the queue, as its consumer would: each part's message
    is deleted once planned, or left for SQS to deliver again if planning it raised (which is
    raised here); the parts they queue are planned in turn. Any other message stays queued."""
    plans: list[T] = []
    others: list[dict[str, Any]] = []  # held out of sight until the parts are planned
    try:
        while True:
            messages = queue.receive(visibility=60)
            parts = [m for m in messages if json.loads(m["Body"]).get("kind") == kind]
            others += [m for m in messages if m not in parts]
            if not parts:
                return plans
            for n, message in enumerate(parts):
                try:
                    plans.append(plan_part(json.loads(message["Body"]), message["MessageId"]))
                except Exception:
                    others += parts[n:]
                    raise
                queue.client.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])
    finally:
        for message in others:
            queue.client.change_message_visibility(
                QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )


def plan_cycle(day: str) -> dict[str, Any]:
    """The planner for `day` at 08:15 UTC (it splits the day), then each part it queued: the runs
    recorded and the items queued, as one answer (`runs`, `enqueued`)."""
    from invoicing_cycle.app import lambda_handler
    from remit.bootstrap import services

    split: dict[str, Any] = lambda_handler({"scheduled_time": f"{day}T08:15:00Z"}, LambdaContextStub())
    plans = plan_parts(BillingQueue(), "plan_cycle", services().billing_cycle.plan_part)
    return {
        "scheduled_time": split["scheduled_time"],
        "runs": [
            {"organisation_id": run.organisation_id, "run_id": run.run_id, "items": run.items}
            for plan in plans
            for run in plan.runs
        ],
        "enqueued": sum(plan.enqueued for plan in plans),
    }


def run_cycle(day: str, queue: BillingQueue | None = None) -> dict[str, Any]:
    """The planner for `day` at 08:15 UTC and its parts, then the worker until the queue is empty."""
    plan = plan_cycle(day)
    (queue or BillingQueue()).drain()
    return plan


def reminders_queue() -> BillingQueue:
    return BillingQueue(url=os.environ["REMIT_REMINDERS_QUEUE_URL"], consumer="reminders.app")


def send_queue() -> BillingQueue:
    """The send queue, feeding the send worker (`notifications.sender`)."""
    return BillingQueue(url=os.environ["REMIT_SEND_QUEUE_URL"], consumer="notifications.sender")


def plan_reminders(day: str) -> dict[str, Any]:
    """The reminders run's planner for `day` at 08:45 UTC (it splits the day), then each part it
    queued: the organisations' runs and the reminders queued, as one answer (`runs`, `enqueued`)."""
    from reminders.app import lambda_handler
    from remit.bootstrap import services

    split: dict[str, Any] = lambda_handler({"scheduled_time": f"{day}T08:45:00Z"}, LambdaContextStub())
    plans = plan_parts(reminders_queue(), "plan_reminders", services().reminders.plan_part)
    return {
        "scheduled_time": split["scheduled_time"],
        "runs": [
            {"organisation_id": run.organisation_id, "date": run.date.isoformat(), "invoices": run.invoices}
            for plan in plans
            for run in plan.runs
        ],
        "enqueued": sum(plan.enqueued for plan in plans),
    }


def run_reminders(day: str) -> dict[str, Any]:
    """The reminders run for `day` at 08:45 UTC and its parts, then its queue until it is empty."""
    plan = plan_reminders(day)
    reminders_queue().drain()
    return plan


class DayPlanner[P](Protocol):
    """`BillingCycleService` or `ReminderService`: a day split into parts, each planned on its own."""

    def split_day(self, scheduled_time: datetime) -> list[DayPart]: ...
    def plan_part(self, message: Mapping[str, Any], message_id: str) -> P: ...


def plan_whole_day[P](planner: DayPlanner[P], scheduled_time: datetime, by: str) -> list[P]:
    """Split the day and plan each of its parts here, in turn, as messages of planner `by` would
    (the parts stay on the queue too, as SQS would hold them): what each part planned."""
    pending = [part.message() for part in planner.split_day(scheduled_time)]
    plans: list[P] = []
    while pending:
        plan = planner.plan_part(pending.pop(), f"{by}-{len(plans)}")
        plans.append(plan)
        pending += [following.message() for following in getattr(plan, "next_parts", ())]
    return plans

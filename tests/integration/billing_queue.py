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
from dataclasses import dataclass, field
from typing import Any

import boto3


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
            batch = response.get("Messages", [])
            if not batch:
                break
            for message in batch:
                found.setdefault(message["MessageId"], message)
        return list(found.values())

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
            if not self.deliver() and not self.receive():
                return
        raise AssertionError(f"the queue still holds {len(self.receive())} messages")

    def purge(self) -> None:
        for message in self.receive(visibility=30):
            self.client.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])


def run_cycle(day: str, queue: BillingQueue | None = None) -> dict[str, Any]:
    """The planner for `day` at 08:15 UTC, then the worker until the queue is empty."""
    from invoicing_cycle.app import lambda_handler

    plan: dict[str, Any] = lambda_handler({"scheduled_time": f"{day}T08:15:00Z"}, LambdaContextStub())
    (queue or BillingQueue()).drain()
    return plan


def reminders_queue() -> BillingQueue:
    return BillingQueue(url=os.environ["REMIT_REMINDERS_QUEUE_URL"], consumer="reminders.app")


def send_queue() -> BillingQueue:
    """The send queue, feeding the send worker (`notifications.sender`)."""
    return BillingQueue(url=os.environ["REMIT_SEND_QUEUE_URL"], consumer="notifications.sender")


def run_reminders(day: str) -> dict[str, Any]:
    """The reminders run for `day` at 08:45 UTC, then its queue until it is empty."""
    from reminders.app import lambda_handler

    plan: dict[str, Any] = lambda_handler({"scheduled_time": f"{day}T08:45:00Z"}, LambdaContextStub())
    reminders_queue().drain()
    return plan

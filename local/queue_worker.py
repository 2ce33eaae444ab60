"""An SQS queue, delivered to its function as Lambda's SQS poller would deliver it.

The local stack runs one `QueueWorker` per SQS event source of the template: the billing queue
feeding the billing worker, the reminders queue feeding the reminders function, the send queue
feeding the send worker. In the deployed
stack an event source mapping long-polls the queue (`BillingQueue`) and invokes its function
(`BillingWorkerFunction`) with batches of up to its `BatchSize` messages; it deletes the messages
the function did not report in `batchItemFailures` (none of them if the function raised), and
the others come back once their visibility timeout has run out. After `maxReceiveCount` receives
SQS moves a message to the queue's dead-letter queue. Here one thread does the same against the
emulated queue, with the batch size read from `template.yaml` and the redrive policy the queue
was created with (`local.cloudformation.create_queues`), so the worker gets the same events.

Differences from Lambda: one poller and one invocation at a time (Lambda runs up to the
mapping's `MaximumConcurrency`); a failed message comes back after a short back-off (1 s,
doubling up to 8 s) rather than the queue's visibility timeout of minutes, so retries and the
move to the dead-letter queue happen within seconds. The move itself is moto's, as SQS does it:
on the first receive after the message's last allowed one.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from local.autosave import RequestGate, StackStopping
from local.cloudformation import load_template, parameter_value
from local.environment import REGION
from local.lambda_runtime import LocalFunction

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType
    from mypy_boto3_sqs.type_defs import ChangeMessageVisibilityBatchRequestEntryTypeDef

logger = logging.getLogger(__name__)

FUNCTION = "BillingWorkerFunction"
QUEUE_EVENT = "BillingWork"
#: How long one receive waits for a message: also how long `stop()` may wait for the thread.
POLL_WAIT_SECONDS = 1
FIRST_RETRY_SECONDS = 1
LONGEST_RETRY_SECONDS = 8
# After an error of the emulation itself (not of the function), before polling again.
_ERROR_PAUSE_SECONDS = 1.0
# ReceiveMessage returns at most 10 messages.
_MOST_PER_RECEIVE = 10
_COUNTS: tuple[QueueAttributeNameType, ...] = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)


@dataclass(frozen=True)
class QueueMapping:
    """The settings of the template's SQS event source mapping that shape the batches."""

    batch_size: int
    report_batch_item_failures: bool

    @classmethod
    def from_template(cls, function: str = FUNCTION, event: str = QUEUE_EVENT) -> QueueMapping:
        template = load_template()
        properties = template["Resources"][function]["Properties"]["Events"][event]["Properties"]
        batch_size = int(parameter_value(properties.get("BatchSize", 10), template))
        if not 1 <= batch_size <= _MOST_PER_RECEIVE:
            raise ValueError(
                f"the local queue worker reads each batch with one receive ({_MOST_PER_RECEIVE} messages "
                f"at most), not BatchSize {batch_size}"
            )
        return cls(
            batch_size=batch_size,
            report_batch_item_failures="ReportBatchItemFailures"
            in properties.get("FunctionResponseTypes", []),
        )


def lambda_record(message: Mapping[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS message (as `ReceiveMessage` answers it) as Lambda passes it to a function."""
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _lambda_message_attribute(value)
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _lambda_message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    # Lambda spells the keys in camel case, and sends binary values in base64.
    def text(binary: bytes) -> str:
        return base64.b64encode(binary).decode("ascii")

    attribute: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": [text(item) for item in value.get("BinaryListValues", [])],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = text(value["BinaryValue"])
    return attribute


def retry_delay(
    receive_count: int, first: int = FIRST_RETRY_SECONDS, longest: int = LONGEST_RETRY_SECONDS
) -> int:
    """Seconds a message that failed its `receive_count`-th delivery stays hidden before the next."""
    return int(min(first * 2 ** max(0, receive_count - 1), longest))


class QueueWorker:
    """A thread that feeds the messages of the queue `queue_name` to `function`, batch by batch.

    `mapping` is the template's event source mapping of that queue to that function (by default
    the billing worker's, `QueueMapping.from_template()`).

        `sqs` makes the client, once `start()` runs (the emulation's endpoint is known by then). Each
        invocation holds the request gate like an HTTP request, so snapshots fall between them, and
        marks the data as changed afterwards. `stop()` lets the current batch finish.
    """

    def __init__(
        self,
        function: LocalFunction,
        sqs: Callable[[], SQSClient],
        queue_name: str,
        gate: RequestGate,
        on_change: Callable[[], None],
        *,
        mapping: QueueMapping | None = None,
        poll_wait_seconds: int = POLL_WAIT_SECONDS,
        retry_delay: Callable[[int], int] = retry_delay,
    ) -> None:
        self._function = function
        self._make_client = sqs
        self._queue_name = queue_name
        self._sqs: SQSClient | None = None
        self._queue_url = ""
        self._gate = gate
        self._on_change = on_change
        self._mapping = mapping or QueueMapping.from_template()
        self._poll_wait_seconds = poll_wait_seconds
        self._retry_delay = retry_delay
        self._queue_arn = ""
        self._max_receive_count: int | None = None
        self._dead_letter_queue = ""
        # True from a receive that returned messages until they are deleted or hidden for a retry.
        self._busy = False
        self._busy_lock = threading.Lock()
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"remit-queue-worker-{queue_name}")

    def start(self) -> None:
        """Find the queue, read its ARN and redrive policy, then start polling."""
        self._sqs = sqs = self._make_client()
        self._queue_url = sqs.get_queue_url(QueueName=self._queue_name)["QueueUrl"]
        attributes = sqs.get_queue_attributes(
            QueueUrl=self._queue_url, AttributeNames=["QueueArn", "RedrivePolicy"]
        )["Attributes"]
        self._queue_arn = attributes["QueueArn"]
        if "RedrivePolicy" in attributes:
            redrive = json.loads(attributes["RedrivePolicy"])
            self._max_receive_count = int(redrive["maxReceiveCount"])
            self._dead_letter_queue = redrive["deadLetterTargetArn"].rsplit(":", 1)[-1]
        self._thread.start()

    def stop(self) -> None:
        """Stop polling, after the batch under way (if any) has been handled."""
        self.request_stop()
        if self._thread.is_alive():
            self._thread.join()

    def request_stop(self) -> None:
        """Ask the thread to stop after its receive (a long poll of up to a second) and the batch
        under way, without waiting for it: several workers asked at once stop together."""
        self._stopping.set()
        self._wake.set()

    @property
    def running(self) -> bool:
        """True from `start()` until `stop()` is called."""
        return self._thread.is_alive() and not self._stopping.is_set()

    def wake(self) -> None:
        """Poll again now, if the thread is pausing after an error of the emulation.

        A long poll already returns as soon as a message arrives.
        """
        self._wake.set()

    def drained(self) -> bool:
        """True when the queue holds no message (visible, in flight or delayed) and no batch is under way.

        A batch's messages stay in flight until it has been handled, so the two never both look
        empty while a batch is under way. A message that used its last receive still counts until
        the next receive moves it to the dead-letter queue.
        """
        attributes = self._client().get_queue_attributes(
            QueueUrl=self._queue_url, AttributeNames=list(_COUNTS)
        )["Attributes"]
        with self._busy_lock:
            busy = self._busy
        return not busy and all(int(attributes.get(name) or 0) == 0 for name in _COUNTS)

    def wait_until_drained(self, timeout: float, cancelled: threading.Event | None = None) -> bool:
        """Wait up to `timeout` seconds for `drained()`; False if it never was (or on `cancelled`)."""
        self.wake()
        deadline = time.monotonic() + timeout
        cancelled = cancelled or threading.Event()
        while not self.drained():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._stopping.is_set() or cancelled.wait(min(0.05, remaining)):
                return False
        return True

    def _client(self) -> SQSClient:
        if self._sqs is None:
            raise RuntimeError("the queue worker has not been started")
        return self._sqs

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                messages = self._receive()
                if messages:
                    self._deliver(messages)
            except StackStopping:
                return
            except Exception:
                logger.exception("polling the queue %s failed; will retry", self._queue_name)
                self._wake.wait(_ERROR_PAUSE_SECONDS)
                self._wake.clear()

    def _receive(self) -> list[dict[str, Any]]:
        messages = (
            self._client()
            .receive_message(
                QueueUrl=self._queue_url,
                MaxNumberOfMessages=self._mapping.batch_size,
                WaitTimeSeconds=self._poll_wait_seconds,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            .get("Messages", [])
        )
        if messages:
            with self._busy_lock:
                self._busy = True
        return [dict(message) for message in messages]

    def _deliver(self, messages: Sequence[dict[str, Any]]) -> None:
        """Invoke the function with the batch, delete what succeeded, hide what failed for a retry."""
        try:
            failed = self._failed_messages([lambda_record(message, self._queue_arn) for message in messages])
            done = [message for message in messages if message["MessageId"] not in failed]
            retried = [message for message in messages if message["MessageId"] in failed]
            if done:
                self._client().delete_message_batch(
                    QueueUrl=self._queue_url,
                    Entries=[
                        {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                        for index, message in enumerate(done)
                    ],
                )
            if retried:
                self._hide_for_retry(retried)
        finally:
            with self._busy_lock:
                self._busy = False

    def _failed_messages(self, records: list[dict[str, Any]]) -> set[str]:
        """The ids of the messages the function reported as failed (all if it raised or named others)."""
        everything = {record["messageId"] for record in records}
        try:
            with self._gate.request():
                response = self._function.invoke({"Records": records})
        except StackStopping:
            raise
        except Exception:
            logger.exception("%s failed on a batch of %d messages", self._function.name, len(records))
            return everything
        finally:
            self._on_change()
        if not self._mapping.report_batch_item_failures:
            return set()
        failures = response.get("batchItemFailures") if isinstance(response, dict) else None
        failed = {
            str(failure.get("itemIdentifier") or "") if isinstance(failure, dict) else ""
            for failure in failures or []
        }
        if not failed <= everything:
            # Lambda treats an identifier it did not send (or an empty one) as the whole batch failing.
            logger.error(
                "%s reported failures of messages not in its batch: %s",
                self._function.name,
                failed - everything,
            )
            return everything
        return failed

    def _hide_for_retry(self, messages: Sequence[dict[str, Any]]) -> None:
        entries: list[ChangeMessageVisibilityBatchRequestEntryTypeDef] = []
        for index, message in enumerate(messages):
            count = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
            if self._max_receive_count is not None and count >= self._max_receive_count:
                logger.warning(
                    "message %s of %s failed its receive %d of %d; SQS moves it to %s on the next receive",
                    message["MessageId"],
                    self._queue_name,
                    count,
                    self._max_receive_count,
                    self._dead_letter_queue,
                )
            entries.append(
                {
                    "Id": str(index),
                    "ReceiptHandle": message["ReceiptHandle"],
                    "VisibilityTimeout": self._retry_delay(count),
                }
            )
        self._client().change_message_visibility_batch(QueueUrl=self._queue_url, Entries=entries)

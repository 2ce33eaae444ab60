"""The billing table's stream, delivered to the notifications function as Lambda would deliver it.

In the deployed stack an event source mapping reads `BillingTable`'s stream, keeps the records
its `FilterCriteria` match, and invokes `NotificationsFunction` with batches of them, retrying
the records a batch reports as failed; EventBridge Scheduler invokes the same function for the
sweep. Here one thread does both, reading the emulation's stream shard in this process, with
the mapping's settings (filters, batch size, retries) read from `template.yaml`, so the handler
runs on the same trigger path with the same events. The function queues the owed emails on the
send queue, which the stack's queue worker feeds to the send worker (`local.queue_worker`). After
each outbox sweep the thread runs the function's refund sweep (`{"sweep": "refunds"}`), as the
template's second schedule does.

Differences from Lambda, all on the safe side: one shard, read from its start (records already
handled are dropped); failed batches are retried after
exponential back-off and, once the retries are spent, logged where Lambda would send them to the
dead-letter queue (the sweep queues their emails either way).
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from local.autosave import RequestGate, StackStopping
from local.aws_emulation import AwsEmulation, read_stream_records, trim_stream
from local.cloudformation import load_template
from local.environment import REGION
from local.lambda_runtime import LocalFunction

logger = logging.getLogger(__name__)

FUNCTION = "NotificationsFunction"
STREAM_EVENT = "OutboxStream"
POLL_SECONDS = 0.25
SWEEP_SECONDS = 30.0
SWEEP_EVENT = {"sweep": True}
# The template's second schedule of the function: card refunds the provider never acknowledged.
REFUND_SWEEP_EVENT = {"sweep": "refunds"}
_FIRST_RETRY_SECONDS = 0.5
_LONGEST_RETRY_SECONDS = 10.0
_RECORDS_PER_READ = 1000


@dataclass(frozen=True)
class StreamMapping:
    """The settings of the template's event source mapping that decide which records go where."""

    filters: list[dict[str, Any]]
    batch_size: int
    maximum_retry_attempts: int

    @classmethod
    def from_template(cls, function: str = FUNCTION, event: str = STREAM_EVENT) -> StreamMapping:
        properties = load_template()["Resources"][function]["Properties"]["Events"][event]["Properties"]
        filters = properties.get("FilterCriteria", {}).get("Filters", [])
        return cls(
            filters=[json.loads(entry["Pattern"]) for entry in filters],
            batch_size=int(properties.get("BatchSize", 100)),
            maximum_retry_attempts=int(properties.get("MaximumRetryAttempts", -1)),
        )

    def accepts(self, record: Mapping[str, Any]) -> bool:
        """True when the record matches one of the filters (or there are none), as Lambda decides."""
        return not self.filters or any(matches(pattern, record) for pattern in self.filters)


def matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Whether `event` matches an event filter `pattern`: exact values and `anything-but`.

    As in Lambda, a key the pattern names must be present in the event, even under `anything-but`.
    """
    for name, expected in pattern.items():
        if name not in event:
            return False
        value = event[name]
        if isinstance(expected, Mapping):
            if not isinstance(value, Mapping) or not matches(expected, value):
                return False
        elif not any(_matches_value(rule, value) for rule in expected):
            return False
    return True


def _matches_value(rule: Any, value: Any) -> bool:
    if not isinstance(rule, Mapping):
        return bool(rule == value)
    if "anything-but" in rule:
        excluded = rule["anything-but"]
        return value not in (excluded if isinstance(excluded, list) else [excluded])
    raise ValueError(f"the local stream worker does not support the filter rule {rule}")


def lambda_record(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """A DynamoDB Streams record as Lambda passes it to a function (JSON-shaped, with the source ARN)."""
    stream = dict(record["dynamodb"])
    for image in ("NewImage", "OldImage", "Keys"):
        if image in stream:
            stream[image] = {name: _json_value(value) for name, value in stream[image].items()}
    created = stream.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):  # boto3 parses it; Lambda sends epoch seconds
        stream["ApproximateCreationDateTime"] = int(created.timestamp())
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": stream,
        "eventSourceARN": stream_arn,
    }


def _json_value(value: Mapping[str, Any]) -> dict[str, Any]:
    """An attribute value as Lambda's JSON event carries it: binary (which moto keeps as bytes) in
    base64, at any depth."""
    ((kind, content),) = value.items()
    if kind == "B" and isinstance(content, bytes | bytearray):
        return {"B": base64.b64encode(content).decode()}
    if kind == "BS":
        return {
            "BS": [base64.b64encode(m).decode() if isinstance(m, bytes | bytearray) else m for m in content]
        }
    if kind == "M":
        return {"M": {name: _json_value(inner) for name, inner in content.items()}}
    if kind == "L":
        return {"L": [_json_value(inner) for inner in content]}
    return {kind: content}


def _sequence(record: Mapping[str, Any]) -> int:
    return int(record["dynamodb"]["SequenceNumber"])


class StreamWorker:
    """A thread that feeds the billing table's stream to `function` and runs its sweep on a schedule.

    Each invocation holds the request gate like an HTTP request, so snapshots fall between them,
    and marks the data as changed afterwards. `stop()` lets the current invocation finish.
    """

    def __init__(
        self,
        function: LocalFunction,
        emulation: AwsEmulation,
        table_name: str,
        gate: RequestGate,
        on_change: Callable[[], None],
        *,
        mapping: StreamMapping | None = None,
        poll_seconds: float = POLL_SECONDS,
        sweep_seconds: float = SWEEP_SECONDS,
        followers: Sequence[StreamFollower] = (),
    ) -> None:
        self._followers = list(followers)
        self._function = function
        self._emulation = emulation
        self._table_name = table_name
        self._gate = gate
        self._on_change = on_change
        # The function's own mapping: its records are delivered as a follower's are.
        self._own = StreamFollower(
            function,
            gate,
            on_change,
            mapping or StreamMapping.from_template(),
            given_up="The sweep will queue their emails.",
        )
        self._poll_seconds = poll_seconds
        self._sweep_seconds = sweep_seconds
        self._stream_arn = ""
        # The sequence number of the last record read; none yet: from the shard's start.
        self._position: int | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="remit-stream-worker")

    def start(self) -> None:
        """Find the table's stream and start reading it from its first record."""
        table = self._emulation.dynamodb().describe_table(TableName=self._table_name)["Table"]
        self._stream_arn = table["LatestStreamArn"]
        self._thread.start()

    def stop(self) -> None:
        """Stop reading, after the invocation under way (if any) has returned."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        next_sweep = time.monotonic() + self._sweep_seconds
        while not self._stopping.is_set():
            try:
                self._deliver_new_records()
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + self._sweep_seconds
                    self._sweep()
            except StackStopping:
                return
            except Exception:
                logger.exception("reading the billing table's stream failed; will retry")
            self._stopping.wait(self._poll_seconds)

    def _deliver_new_records(self) -> None:
        read = self._read_new_records()
        if not self._own.deliver(read, self._stopping):
            return
        for follower in self._followers:
            follower.deliver(read, self._stopping)
        # Every record read so far has been handled (delivered, or given up to the sweep): the
        # emulation need not keep them, as DynamoDB drops records after 24 hours.
        if self._position is not None:
            trim_stream(self._table_name, self._position)

    def _read_new_records(self) -> list[dict[str, Any]]:
        """Every record written since the last read, in order, as Lambda's event wants them.

        Read from the emulation's shard in this process: the Streams API would answer the same
        records, each through moto's generic response serializer, which costs more than the rest
        of the stack together.
        """
        records: list[dict[str, Any]] = []
        while read := read_stream_records(self._table_name, self._position, _RECORDS_PER_READ):
            records += [lambda_record(record, self._stream_arn) for record in read]
            self._position = int(read[-1]["dynamodb"]["SequenceNumber"])
        return records

    def _sweep(self) -> None:
        try:
            report = self._invoke(dict(SWEEP_EVENT))
        except StackStopping:
            raise
        except Exception:
            self._on_change()
            logger.exception("the outbox sweep failed; it runs again in %.0f s", self._sweep_seconds)
            return
        # A sweep writes nothing to the table: it queues owed emails, which the send worker sends.
        logger.debug("outbox sweep: %s", report)
        try:
            sent = self._invoke(dict(REFUND_SWEEP_EVENT))
        except StackStopping:
            raise
        except Exception:
            logger.exception("the refund sweep failed; it runs again in %.0f s", self._sweep_seconds)
            return
        finally:
            self._on_change()  # the refund sweep records what the provider answered
        logger.debug("refund sweep: %s", sent)

    def _invoke(self, event: dict[str, Any]) -> Any:
        with self._gate.request():
            return self._function.invoke(event)


class StreamFollower:
    """A function mapped to the stream (its own filters, batches and retries), fed the records the
    stream worker reads, before they are trimmed: one reader, so none is missed. The stream
    worker's own function is fed by one too, ahead of the others.

    As Lambda retries a mapping's failed records: from the first failure, with back-off, up to the
    mapping's `MaximumRetryAttempts`, then logged where Lambda would send them to its dead-letter
    queue. No sweep.
    """

    def __init__(
        self,
        function: LocalFunction,
        gate: RequestGate,
        on_change: Callable[[], None],
        mapping: StreamMapping,
        *,
        given_up: str = "",
    ) -> None:
        self._function = function
        self._gate = gate
        self._on_change = on_change
        self._mapping = mapping
        # Said after the records whose retries are spent: what becomes of them then.
        self._given_up = given_up

    def deliver(self, read: Sequence[dict[str, Any]], stopping: threading.Event) -> bool:
        """Deliver the records of `read` the mapping accepts, in batches; False when `stopping`
        was set before every batch was delivered."""
        records = [record for record in read if self._mapping.accepts(record)]
        size = self._mapping.batch_size
        for start in range(0, len(records), size):
            if stopping.is_set():
                return False
            self._deliver(records[start : start + size], stopping)
        return True

    def _deliver(self, batch: Sequence[dict[str, Any]], stopping: threading.Event) -> None:
        pending = list(batch)
        retries = self._mapping.maximum_retry_attempts
        attempt = 0
        while True:
            failed = self._failed_records(pending)
            if not failed:
                return
            first_failed = min(failed)
            pending = [record for record in pending if _sequence(record) >= first_failed]
            if 0 <= retries <= attempt:
                logger.warning(
                    "%d stream records still failed %s after %d retries; Lambda would send them to the "
                    "dead-letter queue. %s",
                    len(pending),
                    self._function.name,
                    retries,
                    self._given_up,
                )
                return
            delay = min(_FIRST_RETRY_SECONDS * 2**attempt, _LONGEST_RETRY_SECONDS)
            attempt += 1
            if stopping.wait(delay):
                return

    def _failed_records(self, batch: Sequence[dict[str, Any]]) -> set[int]:
        try:
            with self._gate.request():
                response = self._function.invoke({"Records": list(batch)})
        except StackStopping:
            raise
        except Exception:
            logger.exception("%s failed on a batch of %d stream records", self._function.name, len(batch))
            return {_sequence(record) for record in batch}
        finally:
            self._on_change()
        failures = (response or {}).get("batchItemFailures") or []
        return {int(failure["itemIdentifier"]) for failure in failures}

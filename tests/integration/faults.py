"""Faults injected into AWS calls through botocore's event hooks (no patching of Remit's code).

Handlers are registered on boto3's default session; Remit's services are rebuilt afterwards so
that their clients, created on first use, carry them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, get_args

import boto3
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError


class InjectedCrash(Exception):
    """The process died here (as far as the code under test can tell)."""


def _session() -> Any:
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    return boto3.DEFAULT_SESSION


@contextmanager
def hooked(event: str, handler: Callable[..., Any]) -> Iterator[None]:
    from tests.integration.conftest import reset_remit

    events = _session().events
    events.register(event, handler)
    reset_remit()
    try:
        yield
    finally:
        events.unregister(event, handler)
        reset_remit()


@contextmanager
def crash_after(operation: str, nth: int = 1, service: str = "dynamodb") -> Iterator[Counter[str]]:
    """The `nth` successful `operation` call returns to a process that then dies (raises)."""
    seen: Counter[str] = Counter()

    def after_call(**_: Any) -> None:
        seen[operation] += 1
        if seen[operation] == nth:
            raise InjectedCrash(f"crashed after {operation} #{nth}")

    with hooked(f"after-call.{service}.{operation}", after_call):
        yield seen


@contextmanager
def fail_before(operation: str, nth: int = 1, service: str = "dynamodb") -> Iterator[Counter[str]]:
    """The `nth` `operation` call fails before reaching AWS."""
    seen: Counter[str] = Counter()

    def before_call(**_: Any) -> None:
        seen[operation] += 1
        if seen[operation] == nth:
            raise InjectedCrash(f"failed before {operation} #{nth}")

    with hooked(f"before-call.{service}.{operation}", before_call):
        yield seen


@contextmanager
def counting_reads() -> Iterator[Counter[str]]:
    """Items returned by Query, GetItem and BatchGetItem calls while inside."""
    read: Counter[str] = Counter()

    def after_call(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        name = model.name
        if name == "Query":
            read["items"] += len(parsed.get("Items", []))
            read["calls"] += 1
        elif name == "GetItem":
            read["items"] += 1 if parsed.get("Item") else 0
            read["calls"] += 1
        elif name == "BatchGetItem":
            read["items"] += sum(len(items) for items in parsed.get("Responses", {}).values())
            read["calls"] += 1
        elif name == "Scan":
            read["scans"] += 1

    with hooked("after-call.dynamodb", after_call):
        yield read


# --- Faults as DynamoDB (or any AWS service) answers them -------------------------------------
#
# Each injection hits the calls of one operation chosen by number: the `nth` call and the
# `times - 1` calls after it (`times=3`: three calls in a row). Calls before and after pass through.
# `before-call` handlers see the call after botocore's retries would have run, so an injected error
# is one that outlasted them.

Fault = Literal["throttle", "transaction_conflict", "timeout_before", "timeout_after"]
FAULTS: tuple[Fault, ...] = get_args(Fault)


@dataclass(frozen=True)
class Calls:
    """Which calls of `operation` a fault hits: the `nth` and the `times - 1` after it."""

    operation: str
    nth: int = 1
    times: int = 1
    service: str = "dynamodb"

    def hit(self, number: int) -> bool:
        return self.nth <= number < self.nth + self.times


def error_answer(
    operation: str, code: str, message: str, **fields: Any
) -> tuple[AWSResponse, dict[str, Any]]:
    """What botocore hands its caller for an AWS error: the HTTP response and the parsed body."""
    status = 500 if code in ("InternalServerError", "ServiceUnavailable") else 400
    http = AWSResponse(f"https://dynamodb.eu-west-1.amazonaws.com/#{operation}", status, {}, None)
    parsed = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "injected", "RetryAttempts": 0},
        **fields,
    }
    return http, parsed


def _transact_items(params: dict[str, Any]) -> int:
    body = params.get("body") or b"{}"
    return len(json.loads(body).get("TransactItems", [])) or 1


@contextmanager
def injected(fault: Fault, calls: Calls) -> Iterator[Counter[str]]:
    """Inject `fault` into the calls `calls` names; yields the counts: `calls` seen, `hit` injected.

    * `throttle`: `ProvisionedThroughputExceededException` (what DynamoDB answers a hot key);
    * `transaction_conflict`: `TransactionCanceledException`, the first item's reason
      `TransactionConflict` (another transaction held one of its items), nothing written;
    * `timeout_before`: `ConnectTimeoutError`, the request never reached AWS;
    * `timeout_after`: `ReadTimeoutError` after AWS applied the call: the write landed, the caller
      cannot tell.
    """
    seen: Counter[str] = Counter()
    endpoint = f"https://{calls.service}.eu-west-1.amazonaws.com"

    def before_call(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        seen["calls"] += 1
        if not calls.hit(seen["calls"]):
            return None
        seen["hit"] += 1
        if fault == "throttle":
            return error_answer(
                calls.operation,
                "ProvisionedThroughputExceededException",
                "The level of configured provisioned throughput for the table was exceeded.",
            )
        if fault == "transaction_conflict":
            reasons = [{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}]
            reasons += [{"Code": "None"}] * (_transact_items(params) - 1)
            return error_answer(
                calls.operation,
                "TransactionCanceledException",
                "Transaction cancelled, please refer cancellation reasons for specific reasons "
                f"[{', '.join(reason['Code'] for reason in reasons)}]",
                CancellationReasons=reasons,
            )
        raise ConnectTimeoutError(endpoint_url=endpoint)

    def after_call(http_response: AWSResponse, **_: Any) -> None:
        seen["calls"] += 1
        if calls.hit(seen["calls"]) and http_response.status_code < 300:
            seen["hit"] += 1
            raise ReadTimeoutError(endpoint_url=endpoint)

    if fault not in FAULTS:
        raise ValueError(f"unknown fault {fault!r}")
    if fault == "transaction_conflict" and calls.operation != "TransactWriteItems":
        raise ValueError("only a transaction can be cancelled by a conflict")
    when, handler = ("after-call", after_call) if fault == "timeout_after" else ("before-call", before_call)
    with hooked(f"{when}.{calls.service}.{calls.operation}", handler):
        yield seen

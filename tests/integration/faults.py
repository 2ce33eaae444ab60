"""Faults injected into AWS calls through botocore's event hooks (no patching of Remit's code).

Handlers are registered on boto3's default session; Remit's services are rebuilt afterwards so
that their clients, created on first use, carry them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3


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

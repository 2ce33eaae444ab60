"""Webhooks in the local stack: an invoice finalized over HTTP reaches a receiver on this machine
through the same path as in AWS (event item → table stream → fan-out → webhook queue → worker),
signed so that the Standard Webhooks library verifies it, and each attempt is listed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from tests.e2e.conftest import call
from tests.e2e.local_stack import RunningLocalStack
from tests.integration.webhook_receiver import Receiver, running_receiver

pytestmark = pytest.mark.e2e

DELIVERY_TIMEOUT_SECONDS = 60.0  # polled: only a failure waits this long


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def wait_for(receiver: Receiver, path: str, count: int, stack: RunningLocalStack) -> list[Any]:
    deadline = time.monotonic() + DELIVERY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if len(receiver.to(path)) >= count:
            return receiver.to(path)
        time.sleep(0.2)
    raise AssertionError(f"{count} deliveries to {path} expected; the stack's log:\n{stack.log()}")


def test_a_finalized_invoice_reaches_a_receiver_on_this_machine(
    stack: RunningLocalStack, receiver: Receiver
) -> None:
    org = call(
        stack, "POST", "/v1/organisations", {"name": "Hooks Ltd", "default_currency": "EUR"}, expect=201
    )
    base = f"/v1/organisations/{org['id']}"
    endpoint = call(
        stack,
        "POST",
        f"{base}/webhook_endpoints",
        {"url": receiver.url("/remit"), "enabled_events": ["invoice.*"]},
        expect=201,
    )
    customer = call(
        stack,
        "POST",
        f"{base}/customers",
        {"name": "Globex", "email": "ap@globex.test", "tax_rate": "19"},
        expect=201,
    )
    draft = call(
        stack,
        "POST",
        f"{base}/invoices",
        {"customer_id": customer["id"], "line_items": [{"description": "Work", "unit_amount": 10000}]},
        expect=201,
    )
    call(stack, "POST", f"{base}/invoices/{draft['id']}/finalize")

    requests_ = wait_for(receiver, "/remit", 2, stack)

    delivered = sorted(
        (Webhook(endpoint["secret"]).verify(r.body, r.headers) for r in requests_),
        key=lambda event: event["object"]["sequence"],
    )
    assert [event["type"] for event in delivered] == ["invoice.created", "invoice.finalized"]
    attempts = call(stack, "GET", f"{base}/webhook_endpoints/{endpoint['id']}/deliveries")["data"]
    assert {a["event_id"] for a in attempts} == {event["id"] for event in delivered}
    assert all(a["succeeded"] for a in attempts)

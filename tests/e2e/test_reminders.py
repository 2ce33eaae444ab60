"""The reminders example of docs/billing.md ("Payment reminders") over HTTP against the local
stack: an invoice sent, reminded three days before its due date and fifteen days after, once
each, in `/_dev/outbox` and on its timeline.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from tests.e2e.conftest import call
from tests.e2e.local_stack import RunningLocalStack

pytestmark = pytest.mark.e2e


def run_reminders(stack: RunningLocalStack, day: str) -> dict[str, Any]:
    response = requests.post(stack.url("/_dev/run/reminders"), json={"date": day}, timeout=300)
    assert response.status_code == 200, response.text
    summary: dict[str, Any] = response.json()
    return summary


def reminder_emails(stack: RunningLocalStack, number: str, expected: int) -> list[dict[str, Any]]:
    """The reminders of invoice `number` in the outbox, once `expected` of them were delivered."""
    deadline = time.monotonic() + 30
    while True:
        emails = [
            e
            for e in call(stack, "GET", "/_dev/outbox")
            if e["subject"].startswith(f"Reminder: invoice {number}")
        ]
        if len(emails) >= expected or time.monotonic() > deadline:
            return emails
        time.sleep(0.2)


def test_a_due_soon_and_an_overdue_reminder_are_sent_once_each(stack: RunningLocalStack) -> None:
    org = call(
        stack,
        "POST",
        "/v1/organisations",
        {
            "name": "Acme Ltd",
            "default_currency": "EUR",
            "reminders": {"days_before_due": [3], "days_after_due": [15]},
        },
        201,
    )["id"]
    base = f"/v1/organisations/{org}"
    customer = call(stack, "POST", f"{base}/customers", {"name": "Globex", "email": "ap@globex.test"}, 201)[
        "id"
    ]
    draft = call(
        stack,
        "POST",
        f"{base}/invoices",
        {
            "customer_id": customer,
            "line_items": [{"description": "Audit", "unit_amount": 50000}],
            "due_date": "2027-03-31",
        },
        201,
    )
    invoice = call(stack, "POST", f"{base}/invoices/{draft['id']}/send")

    soon = run_reminders(stack, "2027-03-28")
    overdue = run_reminders(stack, "2027-04-15")
    again = [run_reminders(stack, day) for day in ("2027-03-28", "2027-04-15", "2027-04-16")]

    assert (soon["sent"], overdue["sent"]) == (1, 1)
    assert sum(summary["sent"] for summary in again) == 0
    emails = reminder_emails(stack, invoice["number"], 2)
    assert sorted(e["subject"] for e in emails) == [
        f"Reminder: invoice {invoice['number']} from Acme Ltd is 15 days overdue",
        f"Reminder: invoice {invoice['number']} from Acme Ltd is due in 3 days",
    ]
    assert all(e["to"] == ["ap@globex.test"] for e in emails)
    assert all(
        e["attachments"] == [{"filename": f"{invoice['number']}.pdf", "content_type": "application/pdf"}]
        for e in emails
    )
    assert all("€500.00" in e["text"] and invoice["hosted_url"] in e["text"] for e in emails)
    timeline = call(stack, "GET", f"{base}/invoices/{invoice['id']}/events")["data"]
    steps = [e["data"]["step"] for e in timeline if e["type"] == "invoice.reminder_sent"]
    assert steps == ["before_3", "after_15"]

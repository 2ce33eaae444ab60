"""The subscription example of docs/billing.md ("Subscriptions") over HTTP against the local
stack: a monthly subscription from Jan 31 billed by `/_dev/run/invoicing-cycle`, a manual
customer's drafts, a bulk run.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from tests.e2e.conftest import call
from tests.e2e.local_stack import RunningLocalStack

pytestmark = pytest.mark.e2e


def run_cycle(stack: RunningLocalStack, day: str) -> dict[str, Any]:
    response = requests.post(stack.url("/_dev/run/invoicing-cycle"), json={"date": day}, timeout=300)
    assert response.status_code == 200, response.text
    summary: dict[str, Any] = response.json()
    return summary


def test_a_subscription_from_jan_31_is_invoiced_once_per_period_sent_or_drafted_per_flow(
    stack: RunningLocalStack,
) -> None:
    org = call(stack, "POST", "/v1/organisations", {"name": "Acme Ltd", "default_currency": "EUR"}, 201)["id"]
    base = f"/v1/organisations/{org}"
    automatic = call(stack, "POST", f"{base}/customers", {"name": "Globex", "email": "ap@globex.test"}, 201)
    manual = call(
        stack,
        "POST",
        f"{base}/customers",
        {"name": "Initech", "email": "ap@initech.test", "invoicing_flow": "manual"},
        201,
    )
    for customer in (automatic, manual):
        subscription = call(
            stack,
            "POST",
            f"{base}/subscriptions",
            {
                "customer_id": customer["id"],
                "line_items": [{"description": "Pro plan", "unit_amount": 4900}],
                "start_date": "2027-01-31",
            },
            201,
        )
        call(stack, "POST", f"{base}/subscriptions/{subscription['id']}/activate")
    sent_before = len(call(stack, "GET", "/_dev/outbox"))

    summaries = [run_cycle(stack, day) for day in ("2027-01-31", "2027-02-28", "2027-03-30", "2027-03-31")]
    again = run_cycle(stack, "2027-03-31")

    assert [s["issued"] for s in summaries] == [2, 2, 0, 2]
    assert again["issued"] == 0
    invoices = call(stack, "GET", f"{base}/invoices?limit=100")["data"]
    by_customer = {
        c["id"]: sorted((i["period_start"], i["status"]) for i in invoices if i["customer_id"] == c["id"])
        for c in (automatic, manual)
    }
    assert by_customer[automatic["id"]] == [
        ("2027-01-31", "open"),
        ("2027-02-28", "open"),
        ("2027-03-31", "open"),
    ]
    assert by_customer[manual["id"]] == [
        ("2027-01-31", "draft"),
        ("2027-02-28", "draft"),
        ("2027-03-31", "draft"),
    ]
    deadline = time.monotonic() + 30
    while len(call(stack, "GET", "/_dev/outbox")) < sent_before + 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(call(stack, "GET", "/_dev/outbox")) == sent_before + 3


def test_a_bulk_run_answers_at_once_and_completes_in_the_background(stack: RunningLocalStack) -> None:
    org = call(stack, "POST", "/v1/organisations", {"name": "Club", "default_currency": "EUR"}, 201)["id"]
    base = f"/v1/organisations/{org}"
    customers = [
        call(stack, "POST", f"{base}/customers", {"name": f"Member {n}", "email": f"m{n}@club.test"}, 201)[
            "id"
        ]
        for n in range(30)
    ]

    response = requests.post(
        stack.url(f"{base}/billing"),
        json={
            "customer_ids": customers,
            "line_items": [{"description": "Dues", "unit_amount": 5000}],
            "currency": "EUR",
        },
        headers=stack.auth(),
        timeout=30,
    )

    assert response.status_code == 202, response.text
    run = response.json()
    deadline = time.monotonic() + 60
    while run["status"] in ("pending", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
        run = call(stack, "GET", f"{base}/billing_runs/{run['id']}")
    assert (run["status"], run["invoices_created"]) == ("completed", 30)

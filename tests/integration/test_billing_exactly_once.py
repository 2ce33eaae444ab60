"""Invariant 5: one invoice per subscription period, whatever the retries, duplicates and crashes.

Crashes are injected between the steps of the planner and the worker through botocore's event
hooks; the queue is then delivered again, as SQS would after the visibility timeout.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.billing_queue import BillingQueue, plan_cycle, run_cycle
from tests.integration.conftest import SettableClock
from tests.integration.faults import InjectedCrash, counting_reads, crash_after, fail_before

PLAN = [{"description": "Pro plan", "unit_amount": 4900}]


@pytest.fixture
def acme(api: ApiClient, clock: SettableClock) -> Billing:
    clock.set("2027-01-20T10:00:00+00:00")
    return Billing(api, invoice_numbering={"prefix": "ACME-"})


def subscribe(acme: Billing, customer: str | None = None, **fields: Any) -> str:
    body = {
        "customer_id": customer or acme.customer,
        "line_items": PLAN,
        "start_date": "2027-01-31",
        **fields,
    }
    subscription = acme.api.post(f"{acme.base}/subscriptions", body).json()
    assert acme.api.post(f"{acme.base}/subscriptions/{subscription['id']}/activate").status == 200
    return str(subscription["id"])


def issued(acme: Billing) -> list[tuple[str, str]]:
    invoices = acme.api.get(f"{acme.base}/invoices?limit=100").json()["data"]
    return sorted((i["subscription_id"], i["period_start"]) for i in invoices)


def plan(day: str) -> dict[str, Any]:
    return plan_cycle(day)


def numbers_are_gapless(acme: Billing) -> bool:
    invoices = acme.api.get(f"{acme.base}/invoices?limit=100").json()["data"]
    numbers = sorted(int(i["number"].removeprefix("ACME-")) for i in invoices if i["number"])
    return numbers == list(range(1, len(numbers) + 1))


def test_a_planner_that_dies_before_queueing_is_made_good_by_the_retry(acme: Billing) -> None:
    subscription = subscribe(acme)

    with fail_before("SendMessageBatch", service="sqs"), pytest.raises(InjectedCrash):
        plan("2027-02-28")
    run_cycle("2027-02-28")  # EventBridge Scheduler's retry

    assert issued(acme) == [(subscription, "2027-01-31"), (subscription, "2027-02-28")]
    runs = acme.api.get(f"{acme.base}/billing_runs").json()["data"]
    assert [(r["status"], r["invoices_created"]) for r in runs] == [("completed", 2)]


def test_a_planner_that_dies_after_queueing_plans_nothing_twice(acme: Billing) -> None:
    subscription = subscribe(acme)

    with crash_after("SendMessageBatch", service="sqs"), pytest.raises(InjectedCrash):
        plan("2027-01-31")
    run_cycle("2027-01-31")

    assert issued(acme) == [(subscription, "2027-01-31")]
    [run] = acme.api.get(f"{acme.base}/billing_runs").json()["data"]
    assert (run["customer_count"], run["processed"], run["status"]) == (1, 1, "completed")


@pytest.mark.parametrize("crash_at", [1, 2, 3, 4])
def test_a_worker_that_dies_after_any_write_ends_with_one_invoice_per_period(
    acme: Billing, crash_at: int
) -> None:
    subscriptions = [subscribe(acme), subscribe(acme, start_date="2027-02-01")]
    plan("2027-03-01")  # Jan 31, Feb 28 and Feb 1, Mar 1: four periods, then the runs' counters
    queue = BillingQueue()

    with crash_after("TransactWriteItems", nth=crash_at):
        failed = queue.deliver()
    assert failed, "the crash was reported as a batch item failure"
    queue.drain()

    first, second = subscriptions
    assert issued(acme) == sorted(
        [(first, "2027-01-31"), (first, "2027-02-28"), (second, "2027-02-01"), (second, "2027-03-01")]
    )
    assert numbers_are_gapless(acme)
    [run] = acme.api.get(f"{acme.base}/billing_runs").json()["data"]
    assert (run["status"], run["invoices_created"], run["processed"]) == ("completed", 4, 2)
    emails = acme.api.get(f"{acme.base}/invoices?limit=100").json()["data"]
    assert all(invoice["sent_at"] for invoice in emails)


def test_the_catch_up_stops_at_the_safety_bound_and_continues_the_next_day(
    acme: Billing, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.integration.conftest import reset_remit

    monkeypatch.setenv("REMIT_MAX_PERIODS_PER_RUN", "3")
    reset_remit()
    subscription = subscribe(acme, period_units="weeks", start_date="2027-01-04")

    run_cycle("2027-03-01")  # nine weekly periods were due
    assert len(issued(acme)) == 3
    run_cycle("2027-03-02")
    run_cycle("2027-03-03")

    assert [start for _, start in issued(acme)] == [
        "2027-01-04",
        "2027-01-11",
        "2027-01-18",
        "2027-01-25",
        "2027-02-01",
        "2027-02-08",
        "2027-02-15",
        "2027-02-22",
        "2027-03-01",
    ]
    assert (
        acme.api.get(f"{acme.base}/subscriptions/{subscription}").json()["next_billing_date"] == "2027-03-08"
    )


def test_the_planner_reads_what_is_due_not_what_is_stored(acme: Billing) -> None:
    from datetime import date

    from remit.adapters.due_index import due_keys
    from remit.bootstrap import services

    # 10,000 active subscriptions stored, due later; 100 due today (written straight to the table).
    table = services().billing_runs._store._table
    client = table.client
    for n in range(10_000):
        day = date(2027, 3, 1) if n < 100 else date(2027, 6, 1)
        keys = due_keys(day, acme.org, f"sub_{n:05d}")
        client.put_item(
            TableName=table.name,
            Item={
                "PK": {"S": f"ORG#{acme.org}"},
                "SK": {"S": f"SUB#sub_{n:05d}"},
                **{k: {"S": v} for k, v in keys.items()},
            },
        )

    with counting_reads() as read:
        result = plan("2027-03-01")

    assert result["enqueued"] == 100
    assert 100 <= read["items"] <= 110  # the 100 index entries and the organisation
    assert read["scans"] == 0


def test_a_bulk_run_whose_messages_were_lost_is_resumed_by_the_next_cycle(
    acme: Billing, clock: SettableClock
) -> None:
    customers = [acme.new_customer(name=f"M{n}", email=f"m{n}@club.test") for n in range(12)]
    body = {"customer_ids": customers, "line_items": PLAN, "currency": "EUR"}
    run = acme.api.post(f"{acme.base}/billing", body).json()["id"]
    queue = BillingQueue()
    first, *others = queue.receive(visibility=30)
    queue.client.delete_message(QueueUrl=queue.url, ReceiptHandle=first["ReceiptHandle"])  # lost
    for message in others:
        queue.client.change_message_visibility(
            QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    queue.drain()
    assert acme.api.get(f"{acme.base}/billing_runs/{run}").json()["status"] == "running"

    plan("2027-01-20")  # within the hour: the run may still be under way, nothing is queued again
    assert queue.receive() == []
    run_cycle("2027-01-21")  # the next day's cycle queues what the run has left

    resumed = acme.api.get(f"{acme.base}/billing_runs/{run}").json()
    assert (resumed["status"], resumed["invoices_created"]) == ("completed", 12)
    assert resumed["completed_at"]
    assert len(acme.api.get(f"{acme.base}/invoices?limit=100").json()["data"]) == 12


def test_a_cycle_run_whose_messages_were_lost_is_completed_by_a_later_cycle(acme: Billing) -> None:
    subscription = subscribe(acme)
    plan("2027-01-31")
    BillingQueue().purge()  # the queue lost them (a local stack restarted, a purge by hand)

    run_cycle("2027-02-01")

    assert issued(acme) == [(subscription, "2027-01-31")]
    runs = acme.api.get(f"{acme.base}/billing_runs").json()["data"]
    assert [(r["status"], r["invoices_created"]) for r in runs] == [("completed", 1)]

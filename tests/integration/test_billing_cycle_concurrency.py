"""Exactly once under real concurrency (threads against the moto server): planners racing on the
same schedule, workers racing on the same messages, and a bulk run of 200 customers.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest

from remit.domain.billing_template import BulkBillingRequest
from remit.domain.customer import NewCustomer
from remit.domain.invoice import NewLineItem
from remit.domain.organisation import NewOrganisation
from remit.domain.subscription import NewSubscription
from tests.integration.billing_queue import plan_whole_day
from tests.integration.test_billing_concurrency import race

pytestmark = pytest.mark.concurrency


def queued_messages() -> list[dict[str, Any]]:
    """Every message on the billing queue (taken off it)."""
    import os

    sqs, url = boto3.client("sqs"), os.environ["REMIT_BILLING_QUEUE_URL"]
    bodies: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            body = json.loads(message["Body"])
            if body.get("kind") != "plan_cycle":  # the parts of the day, planned by the test
                bodies.append(body)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def organisation(name: str) -> tuple[str, str]:
    from remit.bootstrap import services

    account = services().accounts.create_account(name).account_id
    created = services().organisations.create(account, NewOrganisation(name=name, default_currency="EUR"))
    return account, created.id


def test_three_planners_and_duplicate_workers_issue_one_invoice_per_period(served_aws: None) -> None:
    from remit.bootstrap import services

    account, org = organisation("Racing")
    for n in range(6):
        customer = services().customers.create(account, org, NewCustomer(name=f"C{n}", email=f"c{n}@x.test"))
        subscription = services().subscriptions.create(
            account,
            org,
            NewSubscription(
                customer_id=customer.id,
                line_items=[{"description": "Plan", "unit_amount": 1000}],  # type: ignore[list-item]
                start_date=date(2027, 1, 1),
            ),
        )
        services().subscriptions.activate(account, org, subscription.id)
    scheduled = datetime(2027, 3, 1, 8, 15, tzinfo=UTC)

    planners = race(3, lambda n: plan_whole_day(services().billing_cycle, scheduled, f"planner-{n}"))
    messages = queued_messages()
    # Every message (each already queued three times, once per planner) twice more, by six workers.
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(services().billing_cycle.process, messages + messages[::-1]))

    plans = [plan for racer in planners for plan in racer if plan.runs]
    assert {run.run_id for plan in plans for run in plan.runs} == {plans[0].runs[0].run_id}
    invoices = services().invoices.list_invoices(account, org, 100, None, None, None).items
    periods = sorted((i.subscription_id, i.period_start) for i in invoices)
    assert len(periods) == 18  # 6 subscriptions x Jan, Feb, Mar
    assert len(set(periods)) == 18
    assert sorted(i.sequence or 0 for i in invoices) == list(range(1, 19))
    run = services().billing_runs.run_of(org, plans[0].runs[0].run_id)
    assert (run.status, run.invoices_created, run.processed, run.customer_count) == ("completed", 18, 6, 6)


def test_a_bulk_run_of_200_customers_with_racing_redeliveries_bills_each_once(served_aws: None) -> None:
    from remit.bootstrap import services

    account, org = organisation("Bulk")
    customers = [
        services().customers.create(account, org, NewCustomer(name=f"M{n}", email=f"m{n}@club.test")).id
        for n in range(200)
    ]
    run = services().billing_runs.bill_customers(
        account,
        org,
        BulkBillingRequest(
            customer_ids=customers,
            line_items=[NewLineItem(description="Membership", unit_amount=12000)],
            currency="EUR",
        ),
        "https://billing.test",
    )
    messages = queued_messages()
    assert len(messages) == 20

    # Each message twice, five workers at once (the deployed worker's maximum concurrency).
    with ThreadPoolExecutor(5) as pool:
        list(pool.map(services().billing_cycle.process, messages + messages[::-1]))

    done = services().billing_runs.run_of(org, run.id)
    assert (done.status, done.invoices_created, len(set(done.invoice_ids))) == ("completed", 200, 200)
    invoices = services().invoices.list_invoices(account, org, 100, None, None, None)
    second = services().invoices.list_invoices(account, org, 100, invoices.next_cursor, None, None)
    issued = invoices.items + second.items
    assert sorted(i.customer_id for i in issued) == sorted(customers)
    assert sorted(i.sequence or 0 for i in issued) == list(range(1, 201))

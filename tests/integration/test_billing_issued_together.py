"""One organisation's invoices issued together: the billing worker issues the subscriptions of one
organisation in a batch in as few transactions as fit (consecutive numbers, one write of the
number series), exactly once and gapless under redelivery, races and faults.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest

from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.billing_queue import BillingQueue, plan_cycle, plan_whole_day
from tests.integration.conftest import SettableClock
from tests.integration.faults import FAULTS, Calls, Fault, hooked, injected
from tests.integration.test_fault_injection import outbox_items

PLAN = [{"description": "Pro plan", "unit_amount": 4900}]
DAY = "2027-03-01"


@pytest.fixture
def acme(api: ApiClient, clock: SettableClock) -> Billing:
    clock.set("2027-02-20T10:00:00+00:00")
    return Billing(api, invoice_numbering={"prefix": "ACME-"}, email="billing@acme.test")


def subscribe(acme: Billing, count: int, start_date: str = DAY) -> list[str]:
    """`count` subscriptions, each of a customer of its own, with one period due on `start_date`."""
    subscriptions = []
    for n in range(count):
        customer = acme.new_customer(name=f"Customer {n}", email=f"c{n}@customers.test")
        body = {"customer_id": customer, "line_items": PLAN, "start_date": start_date}
        subscription = acme.api.post(f"{acme.base}/subscriptions", body).json()
        assert acme.api.post(f"{acme.base}/subscriptions/{subscription['id']}/activate").status == 200
        subscriptions.append(str(subscription["id"]))
    return subscriptions


def plan(day: str = DAY) -> None:
    """The invoicing cycle of `day` planned: its items on the billing queue."""
    plan_cycle(day)


@contextmanager
def transactions() -> Iterator[list[int]]:
    """The size (actions) of each TransactWriteItems made meanwhile."""
    sizes: list[int] = []

    def count(params: dict[str, Any], **_: Any) -> None:
        sizes.append(len(params["TransactItems"]))

    with hooked("before-parameter-build.dynamodb.TransactWriteItems", count):
        yield sizes


def invoices_of(acme: Billing) -> list[dict[str, Any]]:
    return list(acme.api.get(f"{acme.base}/invoices?limit=100").json()["data"])


def assert_each_period_once_numbered_without_gaps(acme: Billing, subscriptions: list[str]) -> None:
    invoices = invoices_of(acme)
    assert sorted(i["subscription_id"] for i in invoices) == sorted(subscriptions)
    assert sorted(i["number"] for i in invoices) == [
        f"ACME-{n:05d}" for n in range(1, len(subscriptions) + 1)
    ]
    owed = [item["invoice_id"] for item in outbox_items(acme.org) if item["kind"] == "invoice"]
    assert sorted(owed) == sorted(i["id"] for i in invoices)
    [run] = acme.api.get(f"{acme.base}/billing_runs").json()["data"]
    assert (run["status"], run["invoices_created"], run["processed"]) == (
        "completed",
        len(subscriptions),
        len(subscriptions),
    )


def test_one_organisations_batch_is_issued_in_few_transactions_with_consecutive_numbers(
    acme: Billing,
) -> None:
    # Given twelve subscriptions of one organisation due today, planned onto the billing queue
    subscriptions = subscribe(acme, 12)
    plan()

    # When the worker bills them, ten messages a batch
    with transactions() as sizes:
        BillingQueue().drain()

    # Then each is invoiced once, numbered 1 to 12, in far fewer transactions than invoices, none
    # over DynamoDB's 100 actions
    assert_each_period_once_numbered_without_gaps(acme, subscriptions)
    issuing = [size for size in sizes if size > 5]  # a run's count alone is a smaller transaction
    assert len(issuing) <= 4, sizes
    assert max(sizes) <= 100
    assert max(issuing) >= 50  # several invoices in one transaction


def test_a_period_billed_while_its_group_was_being_issued_leaves_the_others_issued_renumbered(
    acme: Billing,
) -> None:
    from remit.bootstrap import services

    # Given five subscriptions due, planned onto the billing queue
    subscriptions = subscribe(acme, 5)
    plan()
    queue = BillingQueue()
    messages = queue.bodies()
    third = next(m for m in messages if m["subscription_id"] == subscriptions[2])
    raced: Counter[str] = Counter()

    def bill_one_first(params: dict[str, Any], **_: Any) -> None:
        # Another worker (a duplicate delivery) bills one of the group's periods just before the
        # group commits: the group's transaction meets that period's marker and a moved series.
        if len(params["TransactItems"]) > 20 and not raced["done"]:
            raced["done"] += 1
            services().billing_cycle.process(third)

    # When the worker issues the batch as one group while that happens
    with hooked("before-parameter-build.dynamodb.TransactWriteItems", bill_one_first):
        assert queue.deliver() == []

    # Then that period has its one invoice (number 1), and the four others follow it without a gap
    assert raced["done"] == 1
    assert_each_period_once_numbered_without_gaps(acme, subscriptions)
    first = [i for i in invoices_of(acme) if i["subscription_id"] == subscriptions[2]]
    assert [i["number"] for i in first] == ["ACME-00001"]


def test_a_number_taken_by_hand_while_a_group_was_being_issued_moves_the_group_on(acme: Billing) -> None:
    # Given five subscriptions due, planned onto the billing queue, and a draft made by hand
    subscriptions = subscribe(acme, 5)
    plan()
    draft = acme.draft()["id"]
    raced: Counter[str] = Counter()

    def finalize_first(params: dict[str, Any], **_: Any) -> None:
        raced["group transactions"] += len(params["TransactItems"]) > 20
        if len(params["TransactItems"]) > 20 and not raced["finalized"]:
            raced["finalized"] += 1
            assert acme.api.post(f"{acme.invoice(draft)}/finalize").status == 200

    # When the draft is finalized just before the group commits
    with hooked("before-parameter-build.dynamodb.TransactWriteItems", finalize_first):
        assert BillingQueue().deliver() == []

    # Then the draft has number 1 and the group took 2 to 6 at its second try
    assert (raced["finalized"], raced["group transactions"]) == (1, 2)
    assert acme.get(draft)["number"] == "ACME-00001"
    issued = [i for i in invoices_of(acme) if i["subscription_id"]]
    assert sorted(i["subscription_id"] for i in issued) == sorted(subscriptions)
    assert sorted(i["number"] for i in issued) == [f"ACME-{n:05d}" for n in range(2, 7)]


@pytest.mark.parametrize("nth", [1, 2])
@pytest.mark.parametrize("fault", FAULTS)
def test_a_group_meeting_a_fault_bills_each_period_once_without_gaps(
    acme: Billing, fault: Fault, nth: int
) -> None:
    # Given fourteen subscriptions due, planned onto the billing queue
    subscriptions = subscribe(acme, 14)
    plan()
    queue = BillingQueue()

    # When a transaction of the worker meets a fault, and SQS delivers what failed again
    with injected(fault, Calls("TransactWriteItems", nth=nth)) as seen:
        queue.deliver()
    assert seen["hit"] == 1
    queue.drain()

    # Then each period has one invoice, numbered without gaps, each owing its email once
    assert_each_period_once_numbered_without_gaps(acme, subscriptions)


def test_a_redelivered_batch_issues_nothing_twice(acme: Billing) -> None:
    subscriptions = subscribe(acme, 6)
    plan()

    assert BillingQueue().deliver(times=2) == []

    assert_each_period_once_numbered_without_gaps(acme, subscriptions)


def bill_in_bulk(acme: Billing, count: int) -> tuple[list[str], str]:
    """A bulk run billing `count` new customers (its messages queued): (customers, run id)."""
    customers = [acme.new_customer(name=f"Member {n}", email=f"m{n}@club.test") for n in range(count)]
    body = {"customer_ids": customers, "line_items": PLAN, "currency": "EUR"}
    response = acme.api.post(f"{acme.base}/billing", body)
    assert response.status == 202, response.body
    return customers, str(response.json()["id"])


def assert_billed_once_each_numbered_without_gaps(acme: Billing, customers: list[str], run_id: str) -> None:
    invoices = [i for i in invoices_of(acme) if i["customer_id"] in customers]
    assert sorted(i["customer_id"] for i in invoices) == sorted(customers)
    assert sorted(i["number"] for i in invoices) == [f"ACME-{n:05d}" for n in range(1, len(customers) + 1)]
    run = acme.api.get(f"{acme.base}/billing_runs/{run_id}").json()
    assert (run["status"], run["invoices_created"], sorted(run["invoice_ids"])) == (
        "completed",
        len(customers),
        sorted(i["id"] for i in invoices),
    )


def test_a_bulk_runs_customers_are_issued_together_with_consecutive_numbers(acme: Billing) -> None:
    # Given a bulk run of 20 customers (two messages of ten)
    customers, run_id = bill_in_bulk(acme, 20)

    # When the worker bills it
    with transactions() as sizes:
        BillingQueue().drain()

    # Then each customer has one invoice, numbered 1 to 20, from a few transactions of several each
    assert_billed_once_each_numbered_without_gaps(acme, customers, run_id)
    issuing = [size for size in sizes if size > 5]
    assert len(issuing) <= 4, sizes
    assert max(sizes) <= 100


@pytest.mark.parametrize("fault", FAULTS)
def test_a_bulk_group_meeting_a_fault_bills_each_customer_once_without_gaps(
    acme: Billing, fault: Fault
) -> None:
    customers, run_id = bill_in_bulk(acme, 10)
    queue = BillingQueue()

    with injected(fault, Calls("TransactWriteItems")) as seen:
        queue.deliver()
    assert seen["hit"] == 1
    queue.drain()

    assert_billed_once_each_numbered_without_gaps(acme, customers, run_id)


# --- real threads against the moto server ------------------------------------------------------


def queued(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    bodies: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            body = json.loads(message["Body"])
            if body.get("kind") != "plan_cycle":  # the parts of the day, planned by the test
                bodies.append(body)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


@pytest.mark.concurrency
def test_racing_workers_and_finalizations_of_one_organisation_keep_its_numbers_gapless(
    served_aws: None,
) -> None:
    import os

    from remit.bootstrap import services
    from remit.domain.customer import NewCustomer
    from remit.domain.invoice import NewInvoice, NewLineItem
    from remit.domain.organisation import NewOrganisation
    from remit.domain.subscription import NewSubscription

    # Given one organisation with 30 subscriptions due and 6 drafts made by hand
    account = services().accounts.create_account("Racing").account_id
    org = services().organisations.create(account, NewOrganisation(name="Busy", default_currency="EUR")).id
    subscriptions = []
    for n in range(30):
        customer = services().customers.create(account, org, NewCustomer(name=f"C{n}", email=f"c{n}@x.test"))
        subscription = services().subscriptions.create(
            account,
            org,
            NewSubscription(
                customer_id=customer.id,
                line_items=PLAN,  # type: ignore[arg-type]
                start_date=date(2027, 3, 1),
            ),
        )
        services().subscriptions.activate(account, org, subscription.id)
        subscriptions.append(subscription.id)
    line = NewLineItem(description="Extra", unit_amount=500)
    new = NewInvoice(customer_id=customer.id, line_items=[line])
    drafts = [services().invoices.create_draft(account, org, new).id for _ in range(6)]
    plan_whole_day(services().billing_cycle, datetime(2027, 3, 1, 8, 15, tzinfo=UTC), "planner")
    messages = queued(os.environ["REMIT_BILLING_QUEUE_URL"])
    assert len(messages) == 30

    def work(batch: list[dict[str, Any]]) -> None:
        """A worker's invocation: the batch's groups, then each message left on its own."""
        done = services().billing_cycle.issue_together({str(n): m for n, m in enumerate(batch)})
        for n, message in enumerate(batch):
            if str(n) not in done:
                services().billing_cycle.process(message)

    def finalize(draft: str) -> None:
        services().invoice_lifecycle.finalize(account, org, draft, "https://billing.test")

    # When six workers bill every batch twice (in opposite orders) while the drafts are finalized
    batches = [messages[start : start + 10] for start in range(0, 30, 10)]
    batches += [list(reversed(batch)) for batch in batches]
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(work, batch) for batch in batches]
        futures += [pool.submit(finalize, draft) for draft in drafts]
        for future in futures:
            future.result()

    # Then each period is invoiced once, and the 36 invoices finalized share the numbers 1 to 36
    first = services().invoices.list_invoices(account, org, 100, None, None, None)
    invoices = first.items
    assert first.next_cursor is None
    assert sorted(i.subscription_id for i in invoices if i.subscription_id) == sorted(subscriptions)
    assert sorted(i.sequence or 0 for i in invoices) == list(range(1, 37))

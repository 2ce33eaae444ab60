"""Reminders under real concurrency (threads against the moto server): three runs planned at once,
each invoice's message worked on by three senders at once, and one reminder per step."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

import boto3
import pytest

from remit.domain.customer import NewCustomer
from remit.domain.invoice import NewInvoice, NewLineItem
from remit.domain.organisation import NewOrganisation, Reminders
from tests.integration.billing_queue import plan_whole_day
from tests.integration.test_billing_concurrency import race

pytestmark = pytest.mark.concurrency


def test_three_concurrent_runs_send_each_step_once(served_aws: None) -> None:
    from remit.bootstrap import services

    account = services().accounts.create_account("Racing").account_id
    org = (
        services()
        .organisations.create(
            account,
            NewOrganisation(
                name="Acme Ltd", default_currency="EUR", reminders=Reminders(days_after_due=[15])
            ),
        )
        .id
    )
    customer = (
        services().customers.create(account, org, NewCustomer(name="Globex", email="ap@globex.test")).id
    )
    line = NewLineItem(description="Widget", unit_amount=10000)
    invoices = []
    for _ in range(3):
        draft = services().invoices.create_draft(
            account, org, NewInvoice(customer_id=customer, line_items=[line], due_date=date(2027, 3, 31))
        )
        invoices.append(services().sending.send(account, org, draft.id, "https://billing.test").id)

    race(3, lambda n: plan_whole_day(services().reminders, datetime(2027, 4, 15, 8, 45, tzinfo=UTC), f"p{n}"))
    sqs, url = boto3.client("sqs"), os.environ["REMIT_REMINDERS_QUEUE_URL"]
    messages = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        messages += [b for m in batch if (b := json.loads(m["Body"])).get("kind") != "plan_reminders"]
    assert len(messages) == 9  # each invoice queued by each of the three runs
    with ThreadPoolExecutor(9) as pool:
        outcomes = list(pool.map(services().reminders.send, messages))

    assert sorted(o.sent for o in outcomes if o.sent) == ["after_15"] * 3
    for invoice in invoices:
        steps = [
            e.data["step"]
            for e in services().invoices.events(account, org, invoice)
            if e.type == "invoice.reminder_sent"
        ]
        assert steps == ["after_15"]
    run = services().reminders.run_of(org, date(2027, 4, 15))
    assert (run.sent, run.skipped) == (3, {})

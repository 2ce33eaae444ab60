"""DynamoDB faults injected into the background paths (see `test_fault_injection.py` for the API's):
the notifications function (stream and sweep) with the send worker, the billing worker and the
reminders run.

Each is driven as the platform drives it: a failed stream record or SQS message is delivered again,
the sweep runs on its schedule. Then the end state is checked: each owed email sent once, each
period billed once with gapless numbers, each reminder step sent once.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.aws_emulation import sent_emails
from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.billing_queue import (
    BillingQueue,
    plan_cycle,
    plan_reminders,
    reminders_queue,
    run_cycle,
    send_queue,
)
from tests.integration.conftest import SettableClock
from tests.integration.faults import FAULTS, Calls, Fault, injected
from tests.integration.test_fault_injection import outbox_items

EVENTS = Path(__file__).resolve().parents[2] / "events"
MAIL_FROM = "invoices@remit.test"
NO_TRANSACTION = [fault for fault in FAULTS if fault != "transaction_conflict"]


@pytest.fixture
def acme(api: ApiClient, clock: SettableClock, monkeypatch: pytest.MonkeyPatch) -> Billing:
    from tests.integration.conftest import reset_remit

    clock.set("2027-01-20T10:00:00+00:00")
    monkeypatch.setenv("REMIT_MAIL_FROM", MAIL_FROM)
    reset_remit()
    boto3.client("sesv2").create_email_identity(EmailIdentity=MAIL_FROM)
    return Billing(api, invoice_numbering={"prefix": "ACME-"}, email="billing@acme.test")


# --- notifications ----------------------------------------------------------------------------


def stream_event(items: list[dict[str, Any]]) -> dict[str, Any]:
    """The stream's INSERT records of these outbox items, as the event source mapping hands them over."""
    template = (EVENTS / "notifications" / "outbox_inserted.json").read_text()
    records = []
    for number, item in enumerate(items):
        text = (
            template.replace("ORG_ID", item["organisation_id"])
            .replace("INVOICE_ID", item["invoice_id"])
            .replace("MESSAGE_ID", item["id"])
        )
        record = json.loads(text)["Records"][0]
        record["dynamodb"]["SequenceNumber"] = str(1000 + number)
        records.append(record)
    return {"Records": records}


def notify(event: dict[str, Any]) -> dict[str, Any]:
    from notifications import app
    from tests.integration.test_notifications import NotificationsContext

    result: dict[str, Any] = app.lambda_handler(event, NotificationsContext())
    return result


# (operation, call number) of one delivery: the claim, the invoice's read, the record of the send.
DELIVERY_CALLS = [("UpdateItem", 1), ("BatchGetItem", 1), ("UpdateItem", 2)]


@pytest.mark.parametrize(("operation", "nth"), DELIVERY_CALLS)
@pytest.mark.parametrize("fault", NO_TRANSACTION)
def test_an_owed_email_is_sent_once_whatever_fault_its_delivery_meets(
    acme: Billing, clock: SettableClock, fault: Fault, operation: str, nth: int
) -> None:
    # Given an invoice sent, whose email is owed through the outbox
    invoice = acme.api.post(f"{acme.invoice(acme.draft()['id'])}/send").json()
    owed = outbox_items(acme.org)
    assert [item["status"] for item in owed] == ["pending"]

    # When the stream queues it and the send worker delivers it under a fault, then SQS delivers
    # the failed message again
    assert notify(stream_event(owed)) == {"batchItemFailures": []}
    with injected(fault, Calls(operation, nth=nth)) as seen:
        first = send_queue().deliver()
    assert seen["hit"] == 1
    if first:
        send_queue().deliver()
    # ...and the sweep runs every few minutes, past the lease of any claim left behind
    for _ in range(3):
        clock.advance(minutes=6)
        notify({"sweep": True})
        send_queue().drain()

    # Then the email was sent exactly once, and is recorded as sent
    assert len(sent_emails()) == 1
    assert [item["status"] for item in outbox_items(acme.org)] == ["sent"]
    assert invoice["number"] == "ACME-00001"


@pytest.mark.parametrize("fault", ["timeout_before", "timeout_after"])
def test_an_owed_email_whose_queuing_fails_is_queued_again_and_sent_once(
    acme: Billing, clock: SettableClock, fault: Fault
) -> None:
    # Given an invoice sent, whose email is owed through the outbox
    acme.api.post(f"{acme.invoice(acme.draft()['id'])}/send")
    owed = outbox_items(acme.org)
    event = stream_event(owed)

    # When the stream's batch meets a fault of the send queue (before SQS took the message, or after)
    with injected(fault, Calls("SendMessageBatch", service="sqs")) as seen:
        first = notify(event)

    # Then the record is reported as failed, Lambda's retry queues it (again), and it is sent once
    assert seen["hit"] == 1
    assert first == {"batchItemFailures": [{"itemIdentifier": "1000"}]}
    assert notify(event) == {"batchItemFailures": []}
    send_queue().drain()
    assert len(sent_emails()) == 1
    assert [item["status"] for item in outbox_items(acme.org)] == ["sent"]


# --- the billing worker -----------------------------------------------------------------------

PLAN = [{"description": "Pro plan", "unit_amount": 4900}]


def subscribe(acme: Billing, start_date: str) -> str:
    body = {"customer_id": acme.customer, "line_items": PLAN, "start_date": start_date}
    subscription = acme.api.post(f"{acme.base}/subscriptions", body).json()
    assert acme.api.post(f"{acme.base}/subscriptions/{subscription['id']}/activate").status == 200
    return str(subscription["id"])


@pytest.mark.parametrize("nth", [1, 3])
@pytest.mark.parametrize("fault", FAULTS)
def test_each_period_is_billed_once_whatever_fault_the_worker_meets(
    acme: Billing, fault: Fault, nth: int
) -> None:
    # Given two subscriptions with four periods due, planned onto the billing queue
    first, second = subscribe(acme, "2027-01-31"), subscribe(acme, "2027-02-01")
    plan_cycle("2027-03-01")
    queue = BillingQueue()

    # When the worker meets a fault on one of its transactions, and SQS delivers what failed again
    with injected(fault, Calls("TransactWriteItems", nth=nth)) as seen:
        queue.deliver()
    assert seen["hit"] == 1
    queue.drain()

    # Then each period has one invoice, numbered without gaps, each owing its email once
    invoices = acme.api.get(f"{acme.base}/invoices?limit=100").json()["data"]
    assert sorted((i["subscription_id"], i["period_start"]) for i in invoices) == sorted(
        [(first, "2027-01-31"), (first, "2027-02-28"), (second, "2027-02-01"), (second, "2027-03-01")]
    )
    assert sorted(i["number"] for i in invoices) == [f"ACME-0000{n}" for n in range(1, 5)]
    owed = [item["invoice_id"] for item in outbox_items(acme.org) if item["kind"] == "invoice"]
    assert sorted(owed) == sorted(i["id"] for i in invoices)
    [run] = acme.api.get(f"{acme.base}/billing_runs").json()["data"]
    assert (run["status"], run["invoices_created"]) == ("completed", 4)


def test_a_planner_whose_read_is_throttled_fails_and_its_retry_bills(acme: Billing) -> None:
    subscription = subscribe(acme, "2027-01-31")
    with injected("throttle", Calls("Query", times=100)), pytest.raises(Exception, match="Throughput"):
        plan_cycle("2027-01-31")  # the part's read is throttled
    run_cycle("2027-01-31")  # the scheduler's retry, and SQS's delivery of the part again

    invoices = acme.api.get(f"{acme.base}/invoices").json()["data"]
    assert [(i["subscription_id"], i["number"]) for i in invoices] == [(subscription, "ACME-00001")]


# --- reminders --------------------------------------------------------------------------------

DUE = date(2027, 3, 31)


def run_plan(day: date) -> None:
    plan_reminders(day.isoformat())


@pytest.mark.parametrize("fault", FAULTS)
def test_each_reminder_step_is_sent_once_whatever_fault_the_sender_meets(
    api: ApiClient, clock: SettableClock, fault: Fault
) -> None:
    # Given two open invoices whose first reminder (3 days before due) has come
    clock.set("2027-03-01T10:00:00+00:00")
    acme = Billing(api, reminders={"days_before_due": [3], "days_after_due": [15]})
    body = {"customer_id": acme.customer, "line_items": PLAN, "due_date": DUE.isoformat()}
    invoices = [acme.api.post(f"{acme.base}/invoices", body).json()["id"] for _ in range(2)]
    for invoice in invoices:
        assert acme.api.post(f"{acme.invoice(invoice)}/send").status == 200
    run_plan(DUE - timedelta(days=3))

    # When the sender meets a fault on its transaction, and SQS delivers what failed again
    queue = reminders_queue()
    with injected(fault, Calls("TransactWriteItems")) as seen:
        queue.deliver()
    assert seen["hit"] == 1
    queue.drain()
    run_plan(DUE - timedelta(days=3))  # a duplicate schedule delivery changes nothing
    queue.drain()

    # Then each invoice was reminded once, with one email owed, and the run counted each once
    reminders = [item for item in outbox_items(acme.org) if item["kind"] == "reminder"]
    assert sorted(item["invoice_id"] for item in reminders) == sorted(invoices)
    assert {item["reminder"] for item in reminders} == {"before_3"}
    for invoice in invoices:
        events = acme.api.get(f"{acme.invoice(invoice)}/events").json()["data"]
        assert [e["data"]["step"] for e in events if e["type"] == "invoice.reminder_sent"] == ["before_3"]


def test_a_reminders_plan_whose_read_is_throttled_fails_and_its_retry_queues(
    api: ApiClient, clock: SettableClock
) -> None:
    clock.set("2027-03-01T10:00:00+00:00")
    acme = Billing(api, reminders={"days_before_due": [3]})
    body = {"customer_id": acme.customer, "line_items": PLAN, "due_date": DUE.isoformat()}
    invoice = acme.api.post(f"{acme.base}/invoices", body).json()["id"]
    acme.api.post(f"{acme.invoice(invoice)}/send")

    with injected("throttle", Calls("Query", times=100)), pytest.raises(Exception, match="Throughput"):
        run_plan(DUE - timedelta(days=3))
    run_plan(DUE - timedelta(days=3))  # the scheduler's retry
    reminders_queue().drain()

    reminders = [item for item in outbox_items(acme.org) if item["kind"] == "reminder"]
    assert [(item["invoice_id"], item["reminder"]) for item in reminders] == [(invoice, "before_3")]

"""Payment reminders (invariant 7): once per step, on each organisation's date, never a burst."""

from __future__ import annotations

import os
from datetime import date, timedelta
from typing import Any

import boto3
import pytest

from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.billing_queue import plan_reminders, reminders_queue, run_reminders
from tests.integration.conftest import SettableClock
from tests.integration.faults import counting_reads

DUE = date(2027, 3, 31)


def day(offset: int) -> str:
    return (DUE + timedelta(days=offset)).isoformat()


@pytest.fixture
def acme(api: ApiClient, clock: SettableClock) -> Billing:
    clock.set("2027-03-01T10:00:00+00:00")
    return Billing(api, reminders={"days_before_due": [3], "days_after_due": [15]})


def open_invoice(acme: Billing, customer: str | None = None) -> dict[str, Any]:
    body = {"line_items": [{"description": "Widget", "unit_amount": 10000}], "due_date": DUE.isoformat()}
    if customer:
        body["customer_id"] = customer
    draft = acme.api.post(f"{acme.base}/invoices", {"customer_id": acme.customer, **body}).json()
    invoice = acme.api.post(f"{acme.invoice(draft['id'])}/send").json()
    assert invoice["status"] == "open", invoice
    return dict(invoice)


def reminders_of(acme: Billing, invoice_id: str) -> list[str]:
    events = acme.api.get(f"{acme.invoice(invoice_id)}/events").json()["data"]
    return [e["data"]["step"] for e in events if e["type"] == "invoice.reminder_sent"]


def reminder_emails(acme: Billing) -> list[dict[str, Any]]:
    from remit.adapters.dynamodb import from_attributes

    response = boto3.client("dynamodb").query(
        TableName=os.environ["REMIT_BILLING_TABLE"],
        KeyConditionExpression="PK = :pk AND begins_with(SK, :outbox)",
        ExpressionAttributeValues={":pk": {"S": f"ORG#{acme.org}"}, ":outbox": {"S": "OUTBOX#"}},
    )
    items = [from_attributes(item) for item in response["Items"]]
    return [item for item in items if item["kind"] == "reminder"]


def test_each_step_is_sent_once_however_often_the_run_comes(acme: Billing) -> None:
    invoice = open_invoice(acme)

    for offset in (-4, -3, -3, -3, 0, 14, 15, 15, 15, 16):
        run_reminders(day(offset))

    assert sorted(reminders_of(acme, invoice["id"])) == ["after_15", "before_3"]
    emails = reminder_emails(acme)
    assert sorted(e["reminder"] for e in emails) == ["after_15", "before_3"]
    assert {tuple(e["to"]) for e in emails} == {("ap@globex.test",)}


def test_a_late_run_sends_only_the_latest_step(api: ApiClient, clock: SettableClock) -> None:
    clock.set("2027-03-01T10:00:00+00:00")
    acme = Billing(api, reminders={"days_after_due": [1, 7, 30]})
    invoice = open_invoice(acme)

    run_reminders(day(40))
    run_reminders(day(41))

    assert reminders_of(acme, invoice["id"]) == ["after_30"]


def test_steps_one_seven_thirty_each_on_their_day(api: ApiClient, clock: SettableClock) -> None:
    clock.set("2027-03-01T10:00:00+00:00")
    acme = Billing(api, reminders={"days_after_due": [1, 7, 30], "days_before_due": [3]})
    invoice = open_invoice(acme)

    for offset in range(-5, 45):
        run_reminders(day(offset))

    # (the test's clock stands still, so the timeline's order within a millisecond is not asserted)
    assert sorted(reminders_of(acme, invoice["id"])) == ["after_1", "after_30", "after_7", "before_3"]


def test_the_default_schedule_is_fifteen_days_after(api: ApiClient, clock: SettableClock) -> None:
    clock.set("2027-03-01T10:00:00+00:00")
    acme = Billing(api)
    invoice = open_invoice(acme)

    for offset in (14, 15, 16):
        run_reminders(day(offset))

    assert reminders_of(acme, invoice["id"]) == ["after_15"]


@pytest.mark.parametrize("settle", ["payment", "void", "uncollectible"])
def test_nothing_is_sent_for_an_invoice_no_longer_open(acme: Billing, settle: str) -> None:
    invoice = open_invoice(acme)
    if settle == "payment":
        acme.pay(invoice["id"], invoice["amount_due"])
    else:
        acme.api.post(f"{acme.invoice(invoice['id'])}/{'void' if settle == 'void' else 'mark_uncollectible'}")

    run_reminders(day(15))

    assert reminders_of(acme, invoice["id"]) == []
    assert reminder_emails(acme) == []


def test_disabled_reminders_or_an_opted_out_customer_get_none(acme: Billing) -> None:
    opted_out = acme.new_customer(name="Quiet", email="q@x.test", send_reminders=False)
    quiet = open_invoice(acme, customer=opted_out)
    chased = open_invoice(acme)
    run_reminders(day(-3))
    acme.api.patch(acme.base, {"reminders": {"enabled": False}})

    run_reminders(day(15))

    assert reminders_of(acme, quiet["id"]) == []
    assert reminders_of(acme, chased["id"]) == ["before_3"]


def test_a_changed_schedule_applies_from_the_next_run_without_resending(acme: Billing) -> None:
    invoice = open_invoice(acme)
    run_reminders(day(15))
    acme.api.patch(acme.base, {"reminders": {"days_after_due": [15, 30]}})

    for offset in (15, 29, 30, 31):
        run_reminders(day(offset))

    assert sorted(reminders_of(acme, invoice["id"])) == ["after_15", "after_30"]


@pytest.mark.parametrize(
    ("timezone", "sent_on_the_run_of"),
    [("Pacific/Auckland", 15), ("Pacific/Honolulu", 16), ("Europe/Berlin", 15)],
)
def test_each_organisation_is_reminded_on_its_own_date(
    api: ApiClient, clock: SettableClock, timezone: str, sent_on_the_run_of: int
) -> None:
    clock.set("2027-03-01T10:00:00+00:00")
    acme = Billing(api, timezone=timezone)
    invoice = open_invoice(acme)

    run_reminders(
        day(15)
    )  # 08:45 UTC: Auckland (UTC+13) is already evening, Honolulu (UTC-10) still yesterday
    first = reminders_of(acme, invoice["id"])
    run_reminders(day(16))

    assert first == (["after_15"] if sent_on_the_run_of == 15 else [])
    assert reminders_of(acme, invoice["id"]) == ["after_15"]


def test_a_daylight_saving_change_moves_no_reminder(api: ApiClient, clock: SettableClock) -> None:
    # Due Mar 20 in Berlin; Europe changes to summer time on Mar 28, 2027, before the step on Apr 4.
    clock.set("2027-03-01T10:00:00+00:00")
    acme = Billing(api, timezone="Europe/Berlin")
    body = {
        "customer_id": acme.customer,
        "line_items": [{"description": "W", "unit_amount": 100}],
        "due_date": "2027-03-20",
    }
    draft = acme.api.post(f"{acme.base}/invoices", body).json()
    acme.api.post(f"{acme.invoice(draft['id'])}/send")

    run_reminders("2027-04-03")
    before = reminders_of(acme, draft["id"])
    run_reminders("2027-04-04")

    assert before == []
    assert reminders_of(acme, draft["id"]) == ["after_15"]


def test_reads_grow_with_the_reminders_due_not_the_invoices_stored(acme: Billing) -> None:
    from remit.adapters.due_index import reminder_keys
    from remit.bootstrap import services

    table = services().billing_runs._store._table
    for n in range(10_000):
        reminder_day = date(2027, 4, 15) if n < 50 else date(2027, 9, 1)
        keys = reminder_keys(reminder_day, acme.org, f"inv_{n:05d}")
        table.client.put_item(
            TableName=table.name,
            Item={
                "PK": {"S": f"ORG#{acme.org}"},
                "SK": {"S": f"INVOICE#inv_{n:05d}"},
                "customer_id": {"S": acme.customer},
                **{k: {"S": v} for k, v in keys.items()},
            },
        )
    with counting_reads() as read:
        plan = plan_reminders("2027-04-15")

    assert plan["enqueued"] == 50
    assert 50 <= read["items"] <= 55
    assert read["scans"] == 0


def test_open_invoices_stored_before_the_reminder_index_are_put_on_it_once(acme: Billing) -> None:
    from remit.admin import backfill_reminders

    invoice = open_invoice(acme)
    # As an earlier version stored it: keyed by due date, without a next reminder date.
    boto3.client("dynamodb").update_item(
        TableName=os.environ["REMIT_BILLING_TABLE"],
        Key={"PK": {"S": f"ORG#{acme.org}"}, "SK": {"S": f"INVOICE#{invoice['id']}"}},
        UpdateExpression="SET GSI1PK = :old, GSI1SK = :due REMOVE next_reminder_on",
        ExpressionAttributeValues={
            ":old": {"S": "INVOICE_DUE#1"},
            ":due": {"S": f"{DUE}#{acme.org}#{invoice['id']}"},
        },
    )

    assert backfill_reminders(os.environ["REMIT_BILLING_TABLE"]) == 1
    assert backfill_reminders(os.environ["REMIT_BILLING_TABLE"]) is None
    run_reminders(day(15))

    assert reminders_of(acme, invoice["id"]) == ["after_15"]


def test_a_settings_change_stands_when_the_rescheduling_cannot_be_queued(acme: Billing) -> None:
    from tests.integration.faults import fail_before

    with fail_before("SendMessageBatch", service="sqs"):
        response = acme.api.patch(acme.base, {"reminders": {"days_after_due": [20]}})

    assert response.status == 200
    assert acme.api.get(acme.base).json()["reminders"]["days_after_due"] == [20]


@pytest.mark.parametrize("fault", ["before", "after"])
def test_a_reminder_whose_write_failed_or_whose_ack_was_lost_is_sent_once(acme: Billing, fault: str) -> None:
    from tests.integration.faults import crash_after, fail_before

    invoice = open_invoice(acme)
    plan_reminders(day(15))
    queue = reminders_queue()

    injected = fail_before if fault == "before" else crash_after
    with injected("TransactWriteItems"):
        failed = queue.deliver()
    assert failed, "the fault was reported as a batch item failure"
    queue.drain()

    assert reminders_of(acme, invoice["id"]) == ["after_15"]
    assert len(reminder_emails(acme)) == 1


# --- invoice.overdue --------------------------------------------------------------------------


def overdue_events(acme: Billing, invoice_id: str) -> list[dict[str, Any]]:
    response = acme.api.get(f"{acme.base}/events?type=invoice.overdue&object_id={invoice_id}")
    assert response.status == 200, response.body
    return list(response.json()["data"])


def test_an_invoice_is_announced_overdue_once_the_day_after_its_due_date(acme: Billing) -> None:
    # Given an open invoice due on DUE
    invoice = open_invoice(acme)

    # When the run comes on its due date, then the day after, then again (a duplicate) and later
    for offset in (-3, 0):
        run_reminders(day(offset))
    assert overdue_events(acme, invoice["id"]) == []
    for offset in (1, 1, 2, 15):
        run_reminders(day(offset))

    # Then one invoice.overdue, carrying the invoice as the API answers it that day (overdue)
    (event,) = overdue_events(acme, invoice["id"])
    assert event["data"]["overdue"] is True
    assert event["data"]["status"] == "open"
    timeline = [e["type"] for e in acme.api.get(f"{acme.invoice(invoice['id'])}/events").json()["data"]]
    assert timeline.count("invoice.overdue") == 1
    assert timeline.index("invoice.overdue") < len(timeline) - 1  # the after_15 reminder came later
    assert sorted(reminders_of(acme, invoice["id"])) == ["after_15", "before_3"]


def test_overdue_is_announced_without_reminders_for_opted_out_customers_and_disabled_schedules(
    acme: Billing,
) -> None:
    opted_out = acme.new_customer(name="Quiet", email="q@x.test", send_reminders=False)
    quiet = open_invoice(acme, customer=opted_out)
    acme.api.patch(acme.base, {"reminders": {"enabled": False}})
    unreminded = open_invoice(acme)

    run_reminders(day(1))

    assert len(overdue_events(acme, quiet["id"])) == 1
    assert len(overdue_events(acme, unreminded["id"])) == 1
    assert reminder_emails(acme) == []


def test_a_paid_invoice_is_never_announced_overdue(acme: Billing) -> None:
    invoice = open_invoice(acme)
    acme.pay(invoice["id"], invoice["amount_due"])

    run_reminders(day(1))

    assert overdue_events(acme, invoice["id"]) == []


def test_overdue_is_announced_even_when_the_step_due_was_already_sent(acme: Billing) -> None:
    # Given a schedule whose only step comes before the due date, already sent
    acme.api.patch(acme.base, {"reminders": {"days_before_due": [3], "days_after_due": []}})
    invoice = open_invoice(acme)
    run_reminders(day(-3))

    # When the run comes after the due date (the latest step reached is the one already sent)
    run_reminders(day(2))

    # Then the invoice is announced overdue once, and nothing is sent again
    assert len(overdue_events(acme, invoice["id"])) == 1
    assert reminders_of(acme, invoice["id"]) == ["before_3"]

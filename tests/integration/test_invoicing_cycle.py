"""The daily invoicing cycle over the API: subscriptions billed per period, monthly open charges."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.billing_queue import BillingQueue, plan_cycle, run_cycle
from tests.integration.conftest import SettableClock

PLAN = [{"description": "Pro plan", "unit_amount": 4900}]


@pytest.fixture
def acme(api: ApiClient, clock: SettableClock) -> Billing:
    clock.set("2027-01-20T10:00:00+00:00")
    return Billing(api)


def subscribe(acme: Billing, activate: bool = True, **fields: Any) -> dict[str, Any]:
    body = {"customer_id": acme.customer, "line_items": PLAN, "start_date": "2027-01-31", **fields}
    response = acme.api.post(f"{acme.base}/subscriptions", body)
    assert response.status == 201, response.body
    subscription = response.json()
    if activate:
        response = acme.api.post(f"{acme.base}/subscriptions/{subscription['id']}/activate")
        assert response.status == 200, response.body
        subscription = response.json()
    return subscription


def invoices(acme: Billing) -> list[dict[str, Any]]:
    return acme.api.get(f"{acme.base}/invoices?limit=100").json()["data"]


def periods(acme: Billing) -> list[tuple[str, str]]:
    return sorted((i["period_start"], i["period_end"]) for i in invoices(acme))


def test_a_monthly_subscription_from_jan_31_bills_each_period_once_on_the_anchor_day(acme: Billing) -> None:
    subscription = subscribe(acme)
    assert subscription["status"] == "active"
    assert subscription["next_billing_date"] == "2027-01-31"

    for day in ["2027-01-31", "2027-02-01", "2027-02-27", "2027-02-28", "2027-03-31", "2027-04-30"]:
        run_cycle(day)
        run_cycle(day)  # a duplicate schedule delivery changes nothing

    assert periods(acme) == [
        ("2027-01-31", "2027-02-27"),
        ("2027-02-28", "2027-03-30"),
        ("2027-03-31", "2027-04-29"),
        ("2027-04-30", "2027-05-30"),
    ]
    issued = sorted(invoices(acme), key=lambda i: i["period_start"])
    assert [i["issue_date"] for i in issued] == ["2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30"]
    assert [i["number"] for i in issued] == [f"INV-{n:05d}" for n in range(1, 5)] or all(
        i["number"] for i in issued
    )
    assert {i["status"] for i in issued} == {"open"}
    assert all(i["sent_at"] for i in issued)
    assert {i["source"] for i in issued} == {"subscription"}
    assert (
        acme.api.get(f"{acme.base}/subscriptions/{subscription['id']}").json()["next_billing_date"]
        == "2027-05-31"
    )


def test_missed_days_are_caught_up_one_invoice_per_period(acme: Billing) -> None:
    subscribe(acme)

    plan = run_cycle("2027-05-01")

    assert plan["enqueued"] == 1
    assert len(periods(acme)) == 4  # Jan 31, Feb 28, Mar 31, Apr 30
    runs = acme.api.get(f"{acme.base}/billing_runs").json()["data"]
    assert [(r["kind"], r["status"], r["invoices_created"]) for r in runs] == [
        ("invoicing_cycle", "completed", 4)
    ]


def test_a_manual_customer_gets_drafts(acme: Billing) -> None:
    acme.api.patch(f"{acme.base}/customers/{acme.customer}", {"invoicing_flow": "manual"})
    subscribe(acme)

    run_cycle("2027-01-31")

    [draft] = invoices(acme)
    assert draft["status"] == "draft"
    assert draft["number"] is None
    assert draft["sent_at"] is None


def test_each_message_delivered_twice_issues_one_invoice_per_period(acme: Billing) -> None:
    for _ in range(3):
        subscribe(acme)
    plan_cycle("2027-02-28")
    queue = BillingQueue()
    queue.deliver(acknowledge=False)  # the worker crashed before acknowledging
    queue.deliver(times=2)

    assert len(invoices(acme)) == 6
    numbers = sorted(int(i["number"].rsplit("-", 1)[1]) for i in invoices(acme))
    assert numbers == list(range(1, 7))


def test_monthly_customers_get_their_open_charges_invoiced_on_the_1st_and_nothing_without(
    acme: Billing,
) -> None:
    monthly = acme.new_customer(name="Monthly", email="m@x.test", billing_cycle="monthly")
    idle = acme.new_customer(name="Idle", email="i@x.test", billing_cycle="monthly")
    acme.charge(customer=monthly, description="Hours", quantity="2", unit_amount=5000)
    acme.charge(customer=monthly, description="Travel", unit_amount=1200)

    run_cycle("2027-01-31")
    assert invoices(acme) == []
    run_cycle("2027-02-01")
    run_cycle("2027-02-01")

    [invoice] = invoices(acme)
    assert (invoice["customer_id"], invoice["status"], invoice["source"]) == (monthly, "open", "billing")
    assert sorted(line["description"] for line in invoice["line_items"]) == ["Hours", "Travel"]
    assert invoice["issue_date"] == "2027-02-01"
    charges = acme.api.get(f"{acme.base}/customers/{monthly}/charges").json()["data"]
    assert {c["status"] for c in charges} == {"invoiced"}
    acme.charge(customer=monthly, description="More hours", unit_amount=7000)
    run_cycle("2027-03-01")
    assert len(invoices(acme)) == 2
    assert not [i for i in invoices(acme) if i["customer_id"] == idle]


@pytest.mark.parametrize(
    ("timezone", "billed_on_the_run_of"),
    [
        ("Pacific/Honolulu", "2027-02-01"),
        ("Pacific/Kiritimati", "2027-01-31"),
        ("Europe/Berlin", "2027-01-31"),
    ],
)
def test_the_cycle_bills_on_each_organisations_own_date(
    api: ApiClient, clock: SettableClock, timezone: str, billed_on_the_run_of: str
) -> None:
    clock.set("2027-01-20T10:00:00+00:00")
    acme = Billing(api, timezone=timezone)
    subscribe(acme)  # due on Jan 31

    run_cycle("2027-01-31")  # 08:15 UTC on Jan 31: still Jan 30 in Honolulu (UTC-10)
    billed_first_run = len(invoices(acme))
    run_cycle("2027-02-01")

    assert billed_first_run == (1 if billed_on_the_run_of == "2027-01-31" else 0)
    [invoice] = invoices(acme)
    assert invoice["period_start"] == "2027-01-31"
    assert invoice["issue_date"] == "2027-01-31"  # the organisation's date when the cycle billed it

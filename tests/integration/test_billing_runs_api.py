"""Bulk billing and billing templates."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.billing_queue import BillingQueue
from tests.integration.faults import crash_after

LINES = [{"description": "Annual membership", "unit_amount": 12000}]


@pytest.fixture
def acme(api: ApiClient) -> Billing:
    return Billing(api)


def test_bulk_billing_answers_a_run_at_once_and_the_worker_issues_one_invoice_per_customer(
    acme: Billing,
) -> None:
    others = [acme.new_customer(name=f"Member {n}", email=f"m{n}@club.test") for n in range(3)]
    customers = [acme.customer, *others]

    response = acme.api.post(
        f"{acme.base}/billing",
        {
            "customer_ids": customers,
            "line_items": LINES,
            "currency": "EUR",
            "days_until_due": 14,
            "send": True,
        },
    )

    assert response.status == 202
    run = response.json()
    assert response.headers["Location"] == f"{acme.base}/billing_runs/{run['id']}"
    assert (run["kind"], run["status"], run["customer_count"], run["invoice_ids"]) == (
        "bulk",
        "pending",
        4,
        [],
    )
    assert acme.api.get(f"{acme.base}/invoices").json()["data"] == []

    BillingQueue().drain()

    run = acme.api.get(f"{acme.base}/billing_runs/{run['id']}").json()
    assert (run["status"], run["invoices_created"], run["errors"]) == ("completed", 4, [])
    assert run["completed_at"]
    invoices = [acme.get(invoice_id) for invoice_id in run["invoice_ids"]]
    assert sorted(i["customer_id"] for i in invoices) == sorted(customers)
    assert sorted(i["number"] for i in invoices) == [f"ACME-{n:05d}" for n in range(1, 5)]
    assert {i["status"] for i in invoices} == {"open"}
    assert {i["source"] for i in invoices} == {"billing"}
    assert all(i["sent_at"] for i in invoices)


def test_a_bulk_run_of_200_survives_crashes_and_redeliveries_with_one_invoice_per_customer(
    acme: Billing,
) -> None:
    customers = [acme.new_customer(name=f"Member {n}", email=f"m{n}@club.test") for n in range(199)]
    customers.append(acme.customer)
    response = acme.api.post(
        f"{acme.base}/billing", {"customer_ids": customers, "line_items": LINES, "currency": "EUR"}
    )
    queue = BillingQueue()

    # A worker dies right after committing the 57th invoice, in the middle of a batch...
    with crash_after("TransactWriteItems", nth=57):
        queue.deliver()
    # ...another dies before acknowledging anything, then every message comes twice.
    queue.deliver(acknowledge=False)
    queue.deliver(times=2)
    queue.drain()

    run = acme.api.get(f"{acme.base}/billing_runs/{response.json()['id']}").json()
    assert (run["status"], run["invoices_created"], len(set(run["invoice_ids"]))) == ("completed", 200, 200)
    first = acme.api.get(f"{acme.base}/invoices?limit=100").json()
    rest = acme.api.get(f"{acme.base}/invoices?limit=100&cursor={first['next_cursor']}").json()
    invoices = first["data"] + rest["data"]
    assert sorted(i["customer_id"] for i in invoices) == sorted(customers)
    assert sorted(i["number"] for i in invoices) == [f"ACME-{n:05d}" for n in range(1, 201)]


def test_a_customer_deleted_before_the_worker_ran_is_an_error_of_the_run(acme: Billing) -> None:
    gone = acme.new_customer(name="Leaving", email="bye@club.test")
    response = acme.api.post(
        f"{acme.base}/billing",
        {"customer_ids": [acme.customer, gone], "line_items": LINES, "currency": "EUR"},
    )
    assert acme.api.delete(f"{acme.base}/customers/{gone}").status == 204

    BillingQueue().drain()

    run = acme.api.get(f"{acme.base}/billing_runs/{response.json()['id']}").json()
    assert run["status"] == "completed_with_errors"
    assert run["invoices_created"] == 1
    assert [e["customer_id"] for e in run["errors"]] == [gone]


def test_the_same_idempotency_key_returns_the_same_run(acme: Billing) -> None:
    body = {"customer_ids": [acme.customer], "line_items": LINES, "currency": "EUR"}
    first = acme.api.post(f"{acme.base}/billing", body, headers={"Idempotency-Key": "bulk-1"})
    again = acme.api.post(f"{acme.base}/billing", body, headers={"Idempotency-Key": "bulk-1"})

    assert again.json()["id"] == first.json()["id"]
    assert len(acme.api.get(f"{acme.base}/billing_runs").json()["data"]) == 1
    assert len(BillingQueue().bodies()) == 1


def test_an_unknown_run_is_404(acme: Billing, other_api: ApiClient) -> None:
    assert acme.api.get(f"{acme.base}/billing_runs/brun_nope").status == 404
    response = acme.api.post(
        f"{acme.base}/billing", {"customer_ids": [acme.customer], "line_items": LINES, "currency": "EUR"}
    )
    assert other_api.get(f"{acme.base}/billing_runs/{response.json()['id']}").status == 404


@pytest.mark.parametrize("problem", ["unknown", "currency"])
def test_bulk_billing_with_one_bad_customer_creates_nothing_and_names_it(acme: Billing, problem: str) -> None:
    bad = "cus_unknown" if problem == "unknown" else acme.new_customer(name="Yankee", currency="USD")

    response = acme.api.post(
        f"{acme.base}/billing",
        {"customer_ids": [acme.customer, bad], "line_items": LINES, "currency": "EUR"},
    )

    assert response.status == 422
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == ["customer_ids.1"]
    assert bad in errors[0]["message"]
    assert acme.api.get(f"{acme.base}/invoices").json()["data"] == []
    assert acme.api.get(f"{acme.base}/billing_runs").json()["data"] == []
    assert BillingQueue().bodies() == []


def template_body(**fields: Any) -> dict[str, Any]:
    return {"name": "Membership", "currency": "EUR", "line_items": LINES, "days_until_due": 7, **fields}


def test_a_template_round_trips_and_sends_invoices(acme: Billing) -> None:
    created = acme.api.post(f"{acme.base}/billing_templates", template_body(memo="Welcome!"))
    template = created.json()
    path = f"{acme.base}/billing_templates/{template['id']}"

    changed = acme.api.patch(path, {"name": "Membership 2027"})
    sent = acme.api.post(f"{path}/send_invoice", {"customer_id": acme.customer})

    assert created.status == 201
    assert template["id"].startswith("tpl_")
    assert changed.json()["name"] == "Membership 2027"
    assert acme.api.get(f"{acme.base}/billing_templates").json()["data"][0]["name"] == "Membership 2027"
    assert sent.status == 201
    invoice = sent.json()
    assert (invoice["source"], invoice["status"], invoice["memo"]) == ("template", "open", "Welcome!")
    assert invoice["total"] == 12000 * 119 // 100
    assert invoice["sent_at"]
    assert acme.api.delete(path).status == 204
    assert acme.api.get(path).status == 404


def test_a_template_for_another_currency_or_customer_is_refused(acme: Billing) -> None:
    template = acme.api.post(f"{acme.base}/billing_templates", template_body(currency="USD")).json()
    path = f"{acme.base}/billing_templates/{template['id']}/send_invoice"

    wrong_currency = acme.api.post(path, {"customer_id": acme.customer})
    unknown = acme.api.post(path, {"customer_id": "cus_nope"})

    assert wrong_currency.status == unknown.status == 422
    assert acme.api.get(f"{acme.base}/invoices").json()["data"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (template_body(line_items=[]), "line_items"),
        (template_body(line_items=[{"description": "x", "unit_amount": 1.5}]), "line_items.0.unit_amount"),
        (template_body(currency="EURO"), "currency"),
        (template_body(name=""), "name"),
    ],
)
def test_a_bad_template_is_a_422(acme: Billing, body: dict[str, Any], field: str) -> None:
    response = acme.api.post(f"{acme.base}/billing_templates", body)

    assert response.status == 422
    assert field in [e["field"] for e in response.json()["errors"]]


def test_runs_are_listed_oldest_first_with_their_invoice_ids_across_pages(acme: Billing) -> None:
    second = acme.new_customer(name="Second", email="s@club.test")
    body = {"customer_ids": [acme.customer, second], "line_items": LINES, "currency": "EUR"}
    runs = [acme.api.post(f"{acme.base}/billing", body).json()["id"] for _ in range(3)]
    BillingQueue().drain()

    first_page = acme.api.get(f"{acme.base}/billing_runs?limit=2").json()
    last_page = acme.api.get(f"{acme.base}/billing_runs?limit=2&cursor={first_page['next_cursor']}").json()

    listed = first_page["data"] + last_page["data"]
    assert [r["id"] for r in listed] == runs
    assert last_page["next_cursor"] is None
    assert all(len(r["invoice_ids"]) == 2 for r in listed)
    assert len({i for r in listed for i in r["invoice_ids"]}) == 6

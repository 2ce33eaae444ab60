"""Bulk billing and billing templates."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing

LINES = [{"description": "Annual membership", "unit_amount": 12000}]


@pytest.fixture
def acme(api: ApiClient) -> Billing:
    return Billing(api)


def test_bulk_billing_issues_one_finalized_invoice_per_customer(acme: Billing) -> None:
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

    assert response.status == 201
    invoices = response.json()["invoices"]
    assert [i["customer_id"] for i in invoices] == customers
    assert [i["number"] for i in invoices] == [f"ACME-{n:05d}" for n in range(1, 5)]
    assert {i["status"] for i in invoices} == {"open"}
    assert {i["source"] for i in invoices} == {"billing"}
    assert all(i["sent_at"] for i in invoices)


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
    assert acme.api.get(acme.base).json()["invoice_numbering"]["next_number"] == 1


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

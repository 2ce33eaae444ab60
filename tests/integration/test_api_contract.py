"""The API keeps to its OpenAPI document: a tour of every resource, the happy paths and the
refusals, where every answer is checked against the document `/openapi.json` serves (status
declared for the operation, body valid by its schema, no undeclared field anywhere)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.api_client import ApiClient, ApiResponse
from tests.integration.api_contract import CheckedApi, Contract, ContractBroken


@pytest.fixture
def contract(api: ApiClient) -> Contract:
    response = api.get("/openapi.json", api_key=None)
    assert response.status == 200
    return Contract(dict(response.json()))


@pytest.fixture
def checked(api: ApiClient, contract: Contract) -> CheckedApi:
    return CheckedApi(api, contract)


def answer(status: int, body: Any, content_type: str = "application/json") -> ApiResponse:
    return ApiResponse(status, {"Content-Type": content_type}, json.dumps(body).encode())


def test_a_tour_of_the_api_gets_only_answers_the_document_declares(
    checked: CheckedApi, api: ApiClient, contract: Contract
) -> None:
    # Organisations
    created = checked.post(
        "/v1/organisations",
        {
            "name": "Acme Ltd",
            "default_currency": "EUR",
            "email": "billing@acme.test",
            "timezone": "Europe/Paris",
        },
    )
    assert created.status == 201
    org = created.json()["id"]
    base = f"/v1/organisations/{org}"
    assert checked.get("/v1/organisations").status == 200
    assert checked.get(base).status == 200
    changed = checked.patch(base, {"payment_terms_days": 14, "invoice_numbering": {"prefix": "ACME-"}})
    assert changed.status == 200

    # Customers, charges, credit balance
    customer = checked.post(
        f"{base}/customers", {"name": "Globex", "email": "ap@globex.test", "tax_rate": "19"}
    ).json()
    customer_url = f"{base}/customers/{customer['id']}"
    assert checked.get(f"{base}/customers").status == 200
    assert checked.get(f"{base}/customers?external_id=none").status == 200
    assert checked.get(customer_url).status == 200
    assert checked.patch(customer_url, {"metadata": {"crm": "42"}}).status == 200
    charge = checked.post(f"{customer_url}/charges", {"description": "Extra storage", "unit_amount": 500})
    assert charge.status == 201
    assert checked.get(f"{customer_url}/charges").status == 200
    assert checked.get(f"{customer_url}/charges?status=open").status == 200
    credit = checked.post(
        f"{customer_url}/balance_transactions", {"amount": 1000, "description": "Prepayment"}
    )
    assert credit.status == 201
    assert checked.get(f"{customer_url}/balance_transactions").status == 200
    spare = checked.post(f"{base}/customers", {"name": "Initech", "email": "ap@initech.test"}).json()
    spare_charge = checked.post(
        f"{base}/customers/{spare['id']}/charges", {"description": "Setup", "unit_amount": 100}
    ).json()
    assert checked.delete(f"{base}/customers/{spare['id']}/charges/{spare_charge['id']}").status == 204
    assert checked.delete(f"{base}/customers/{spare['id']}").status == 204

    # Invoices: draft, edit, finalize, send, pay, card attempt, void, timeline, PDF
    draft = checked.post(
        f"{base}/invoices",
        {
            "customer_id": customer["id"],
            "line_items": [{"description": "Consulting", "quantity": "2", "unit_amount": 15000}],
            "include_open_charges": True,
            "days_until_due": 14,
        },
    ).json()
    invoice_url = f"{base}/invoices/{draft['id']}"
    assert checked.get(f"{invoice_url}/pdf").status == 409  # a draft has no document yet
    edited = checked.patch(
        invoice_url, {"memo": "Thank you", "line_items": [{"id": line["id"]} for line in draft["line_items"]]}
    )
    assert edited.status == 200
    assert checked.post(f"{invoice_url}/finalize").status == 200
    assert checked.post(f"{invoice_url}/finalize").status == 409
    assert checked.patch(invoice_url, {"memo": "Too late"}).status == 409
    assert checked.post(f"{invoice_url}/send").status == 200
    assert checked.get(f"{invoice_url}/pdf").status == 200
    payment = checked.post(
        f"{invoice_url}/payments", {"amount": 1000, "method": "bank_transfer", "received_on": "2026-12-01"}
    )
    assert payment.status == 201
    assert checked.post(f"{invoice_url}/charge").status in (202, 409)
    assert checked.post(f"{invoice_url}/mark_uncollectible").status == 200
    assert checked.post(f"{invoice_url}/void").status == 200
    assert checked.get(f"{invoice_url}/events").status == 200
    assert checked.get(f"{base}/payments").status == 200
    assert checked.get(f"{base}/payments?invoice_id={draft['id']}").status == 200
    assert checked.get(f"{base}/invoices?status=void&customer_id={customer['id']}").status == 200
    other = checked.post(
        f"{base}/invoices",
        {"customer_id": customer["id"], "line_items": [{"description": "Spare", "unit_amount": 100}]},
    ).json()
    assert checked.post(f"{base}/invoices/{other['id']}/send").status == 200  # finalizes it first
    dropped = checked.post(
        f"{base}/invoices",
        {"customer_id": customer["id"], "line_items": [{"description": "Dropped", "unit_amount": 100}]},
    ).json()
    assert checked.delete(f"{base}/invoices/{dropped['id']}").status == 204

    # Subscriptions
    subscription = checked.post(
        f"{base}/subscriptions",
        {
            "customer_id": customer["id"],
            "line_items": [{"description": "Support", "unit_amount": 9900}],
            "start_date": "2030-01-01",
        },
    ).json()
    subscription_url = f"{base}/subscriptions/{subscription['id']}"
    assert checked.get(f"{base}/subscriptions").status == 200
    assert checked.patch(subscription_url, {"memo": "Monthly support"}).status == 200
    assert checked.post(f"{subscription_url}/activate").status == 200
    assert checked.get(f"{subscription_url}/upcoming").status == 200
    assert checked.post(f"{subscription_url}/pause").status == 200
    assert checked.post(f"{subscription_url}/resume").status == 200
    assert checked.post(f"{subscription_url}/cancel", {"at_period_end": False}).status == 200
    assert checked.get(f"{subscription_url}/upcoming").status == 409
    assert checked.get(subscription_url).status == 200

    # Billing templates and bulk billing
    template = checked.post(
        f"{base}/billing_templates",
        {
            "name": "Monthly support",
            "currency": "EUR",
            "line_items": [{"description": "Support", "unit_amount": 9900}],
        },
    ).json()
    template_url = f"{base}/billing_templates/{template['id']}"
    assert checked.get(f"{base}/billing_templates").status == 200
    assert checked.get(template_url).status == 200
    assert checked.patch(template_url, {"memo": "Thanks"}).status == 200
    sent = checked.post(f"{template_url}/send_invoice", {"customer_id": customer["id"]})
    assert sent.status == 201
    assert checked.delete(template_url).status == 204
    run = checked.post(
        f"{base}/billing",
        {
            "customer_ids": [customer["id"]],
            "currency": "EUR",
            "line_items": [{"description": "Annual membership", "unit_amount": 12000}],
        },
    )
    assert run.status == 202
    assert checked.get(f"{base}/billing_runs").status == 200
    assert checked.get(f"{base}/billing_runs/{run.json()['id']}").status == 200

    # Card payments: the sandbox provider, then removed
    assert checked.put(f"{base}/payment_provider", json_body={"provider": "sandbox"}).status == 200
    assert checked.delete(f"{base}/payment_provider").status == 204

    # Refusals
    assert checked.get(base, api_key=None).status == 401
    assert checked.get(f"{base}/invoices/inv_missing").status == 404
    assert checked.get("/v1/organisations/org_missing").status == 404
    assert checked.request("PUT", f"{base}/invoices").status == 405
    assert checked.post(f"{base}/customers", {"name": "", "email": "not an email"}).status == 422
    assert checked.get(f"{base}/invoices?limit=0").status == 422
    assert checked.post(f"{base}/customers", raw_body="{not json").status == 400
    assert checked.post(f"{base}/customers", raw_body="x" * 1_100_000).status == 413
    refused = checked.post(
        f"{base}/customers",
        raw_body="name=Globex",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert refused.status == 415

    # A read-only key may read, not change
    from remit.bootstrap import services
    from remit.domain.account import NewApiKey

    caller = services().accounts.authenticate(f"Bearer {api.api_key}")
    issued = services().accounts.create_key(
        caller.account_id, NewApiKey(name="Reports", read_only=True), None
    )
    reader = CheckedApi(ApiClient(issued.api_key), contract)
    assert reader.get(base).status == 200
    assert reader.patch(base, {"name": "Renamed"}).status == 403

    statuses = {status for _, _, status in checked.answered + reader.answered}
    assert {200, 201, 202, 204, 400, 401, 403, 404, 405, 409, 413, 415, 422} <= statuses


def test_the_checker_refuses_an_undeclared_field(contract: Contract) -> None:
    organisation = {
        "id": "org_1",
        "name": "Acme",
        "email": None,
        "default_currency": "EUR",
        "timezone": "UTC",
        "locale": "en",
        "address": None,
        "tax_id": None,
        "branding": {"logo_url": None, "brand_colour": None},
        "invoice_numbering": {"prefix": "", "padding": 5, "next_number": 1},
        "payment_terms_days": 30,
        "payment_methods": {"card": False, "bank_transfer": None, "cheque": None},
        "reminders": {"enabled": True, "days_after_due": [15], "days_before_due": []},
        "created_at": "2026-12-01T10:00:00Z",
        "updated_at": "2026-12-01T10:00:00Z",
    }
    contract.check("GET", "/v1/organisations/org_1", answer(200, organisation))

    with pytest.raises(ContractBroken, match="account_id"):
        contract.check("GET", "/v1/organisations/org_1", answer(200, organisation | {"account_id": "acc_1"}))
    nested = organisation | {"branding": {"logo_url": None, "brand_colour": None, "version": 3}}
    with pytest.raises(ContractBroken, match="version"):
        contract.check("GET", "/v1/organisations/org_1", answer(200, nested))


def test_the_checker_refuses_an_undeclared_status(contract: Contract) -> None:
    problem = {
        "type": "https://remit.dev/problems/conflict",
        "title": "Conflict",
        "status": 409,
        "detail": "No.",
    }

    with pytest.raises(ContractBroken, match="does not declare"):
        contract.check("GET", "/v1/organisations/org_1", answer(409, problem, "application/problem+json"))


def test_the_checker_refuses_a_problem_not_in_the_problem_shape(contract: Contract) -> None:
    problem = {
        "type": "https://remit.dev/problems/not-found",
        "title": "Not Found",
        "status": 404,
        "detail": "No.",
    }
    contract.check("GET", "/v1/organisations/org_1", answer(404, problem, "application/problem+json"))

    with pytest.raises(ContractBroken, match="trace"):
        contract.check(
            "GET",
            "/v1/organisations/org_1",
            answer(404, problem | {"trace": "…"}, "application/problem+json"),
        )

"""Invariant 1 for billing: another account cannot see or touch charges, invoices, payments or balances."""

from __future__ import annotations

from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing


def test_another_account_gets_404_on_every_billing_route_and_changes_nothing(
    api: ApiClient, other_api: ApiClient
) -> None:
    acme = Billing(api)
    charge = acme.charge()
    draft = acme.draft()
    invoice = acme.finalized()
    acme.pay(invoice["id"], 100)
    customer = f"{acme.base}/customers/{acme.customer}"
    routes = [
        ("GET", f"{customer}/charges", None),
        ("POST", f"{customer}/charges", {"description": "x", "unit_amount": 1}),
        ("DELETE", f"{customer}/charges/{charge['id']}", None),
        ("GET", f"{acme.base}/invoices", None),
        ("POST", f"{acme.base}/invoices", {"customer_id": acme.customer}),
        ("GET", acme.invoice(invoice["id"]), None),
        ("PATCH", acme.invoice(draft["id"]), {"memo": "x"}),
        ("DELETE", acme.invoice(draft["id"]), None),
        ("POST", f"{acme.invoice(draft['id'])}/finalize", None),
        ("POST", f"{acme.invoice(invoice['id'])}/void", None),
        ("POST", f"{acme.invoice(invoice['id'])}/mark_uncollectible", None),
        ("POST", f"{acme.invoice(invoice['id'])}/payments", {"amount": 100, "method": "cash"}),
        ("GET", f"{acme.invoice(invoice['id'])}/events", None),
        ("GET", f"{acme.base}/payments", None),
        ("GET", f"{customer}/balance_transactions", None),
        ("POST", f"{customer}/balance_transactions", {"amount": 100}),
    ]
    before = [api.get(path).json() for _, path, _ in routes if _ is None and "charges/" not in path]

    answers = {(m, p): other_api.request(m, p, body).status for m, p, body in routes}

    assert set(answers.values()) == {404}, answers
    assert [api.get(path).json() for _, path, _ in routes if _ is None and "charges/" not in path] == before


def test_an_invoice_id_is_not_reachable_through_another_organisation(
    api: ApiClient, other_api: ApiClient
) -> None:
    acme = Billing(api)
    invoice = acme.finalized()
    intruder = Billing(other_api)

    response = other_api.get(intruder.invoice(invoice["id"]))

    assert response.status == 404

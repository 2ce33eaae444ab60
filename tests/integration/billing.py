"""Shortcuts for billing tests: an organisation, a customer, and invoices in a given state."""

from __future__ import annotations

from typing import Any

from tests.integration.api_client import ApiClient


class Billing:
    """An organisation of `api`'s account with one customer, and paths into it."""

    def __init__(self, api: ApiClient, currency: str = "EUR", **organisation: Any) -> None:
        self.api = api
        body = {"name": "Acme Ltd", "default_currency": currency, **organisation}
        response = api.post("/v1/organisations", body)
        assert response.status == 201, response.body
        self.org = response.json()["id"]
        self.base = f"/v1/organisations/{self.org}"
        self.customer = self.new_customer()

    def new_customer(self, **fields: Any) -> str:
        body = {"name": "Globex GmbH", "email": "ap@globex.test", "tax_rate": "19", **fields}
        response = self.api.post(f"{self.base}/customers", body)
        assert response.status == 201, response.body
        return str(response.json()["id"])

    def charge(self, customer: str | None = None, **fields: Any) -> dict[str, Any]:
        body = {"description": "Consulting", "quantity": "3", "unit_amount": 15000, **fields}
        response = self.api.post(f"{self.base}/customers/{customer or self.customer}/charges", body)
        assert response.status == 201, response.body
        return response.json()

    def draft(self, unit_amount: int = 1000, quantity: str = "2", **fields: Any) -> dict[str, Any]:
        body = {
            "customer_id": self.customer,
            "line_items": [{"description": "Widget", "quantity": quantity, "unit_amount": unit_amount}],
            **fields,
        }
        response = self.api.post(f"{self.base}/invoices", body)
        assert response.status == 201, response.body
        return response.json()

    def invoice(self, invoice_id: str) -> str:
        return f"{self.base}/invoices/{invoice_id}"

    def finalized(self, **fields: Any) -> dict[str, Any]:
        draft = self.draft(**fields)
        response = self.api.post(f"{self.invoice(draft['id'])}/finalize")
        assert response.status == 200, response.body
        return response.json()

    def pay(self, invoice_id: str, amount: int, method: str = "bank_transfer", **fields: Any) -> Any:
        return self.api.post(
            f"{self.invoice(invoice_id)}/payments", {"amount": amount, "method": method, **fields}
        )

    def get(self, invoice_id: str) -> dict[str, Any]:
        return self.api.get(self.invoice(invoice_id)).json()

    def customer_balance(self, customer: str | None = None) -> int:
        return int(self.api.get(f"{self.base}/customers/{customer or self.customer}").json()["balance"])

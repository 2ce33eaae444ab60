"""The invoicing tour of docs/billing.md ("A tour: charges, drafts, numbers, payments, credit"), over
HTTP against the local stack: charges to credit balance.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.e2e.local_stack import RunningLocalStack

pytestmark = pytest.mark.e2e


class Client:
    def __init__(self, stack: RunningLocalStack) -> None:
        self.stack = stack

    def call(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        response = requests.request(
            method, self.stack.url(path), json=body, headers=self.stack.auth(), timeout=20
        )
        assert response.status_code == expect, response.text
        return response.json() if response.content else None


def test_charges_become_a_numbered_invoice_paid_by_transfer_and_cheque_with_credit_left(
    stack: RunningLocalStack,
) -> None:
    client = Client(stack)
    org = client.call("POST", "/v1/organisations", {"name": "Acme Ltd", "default_currency": "EUR"}, 201)["id"]
    base = f"/v1/organisations/{org}"
    customer = client.call(
        "POST", f"{base}/customers", {"name": "Globex", "email": "ap@g.test", "tax_rate": "19"}, 201
    )
    client.call(
        "POST",
        f"{base}/customers/{customer['id']}/charges",
        {"description": "Consulting", "unit_amount": 15000},
        201,
    )

    draft = client.call(
        "POST", f"{base}/invoices", {"customer_id": customer["id"], "include_open_charges": True}, 201
    )
    edited = client.call(
        "PATCH",
        f"{base}/invoices/{draft['id']}",
        {"line_items": [{"id": draft["line_items"][0]["id"]}, {"description": "Extra", "unit_amount": 5000}]},
    )
    invoice = client.call("POST", f"{base}/invoices/{draft['id']}/finalize")
    client.call("PATCH", f"{base}/invoices/{draft['id']}", {"memo": "late change"}, 409)
    client.call(
        "POST", f"{base}/invoices/{draft['id']}/payments", {"amount": 10000, "method": "bank_transfer"}, 201
    )
    client.call("POST", f"{base}/invoices/{draft['id']}/payments", {"amount": 20000, "method": "cheque"}, 201)
    paid = client.call("GET", f"{base}/invoices/{draft['id']}")
    second = client.call(
        "POST",
        f"{base}/invoices",
        {"customer_id": customer["id"], "line_items": [{"description": "S", "unit_amount": 100}]},
        201,
    )
    second = client.call("POST", f"{base}/invoices/{second['id']}/finalize")

    assert edited["total"] == 23800
    assert (invoice["number"], invoice["status"], invoice["amount_due"]) == ("ACME-00001", "open", 23800)
    assert (paid["status"], paid["amount_paid"]) == ("paid", 23800)
    assert (second["number"], second["credit_applied"], second["status"]) == ("ACME-00002", 119, "paid")
    assert client.call("GET", f"{base}/customers/{customer['id']}")["balance"] == 30000 - 23800 - 119

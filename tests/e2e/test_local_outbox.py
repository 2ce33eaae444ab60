"""Emails in the local stack: sending an invoice over HTTP reaches the customer through the same path
as in AWS (outbox item → table stream → notifications function → SES), seen at `GET /_dev/outbox`.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import requests

from tests.e2e.local_stack import RunningLocalStack

pytestmark = pytest.mark.e2e

DELIVERY_TIMEOUT_SECONDS = 60.0  # polled: only a failure waits this long


class Client:
    def __init__(self, stack: RunningLocalStack) -> None:
        self.stack = stack

    def call(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        response = requests.request(
            method, self.stack.url(path), json=body, headers=self.stack.auth(), timeout=30
        )
        assert response.status_code == expect, response.text
        return response.json() if response.content else None


def emails_to(stack: RunningLocalStack, address: str) -> list[dict[str, Any]]:
    response = requests.get(stack.url("/_dev/outbox"), timeout=10)
    assert response.status_code == 200, response.text
    return [email for email in response.json() if address in email["to"]]


def wait_for_emails(stack: RunningLocalStack, address: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + DELIVERY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        emails = emails_to(stack, address)
        if len(emails) >= count:
            return emails
        time.sleep(0.2)
    raise AssertionError(f"{count} email(s) to {address} expected; the stack's log:\n{stack.log()}")


def customer_with_billing_contact(client: Client, base: str) -> tuple[str, str, str]:
    primary = f"ap-{uuid.uuid4().hex[:8]}@globex.test"
    cfo = f"cfo-{uuid.uuid4().hex[:8]}@globex.test"
    customer = client.call(
        "POST",
        f"{base}/customers",
        {
            "name": "Globex GmbH",
            "email": primary,
            "tax_rate": "19",
            "contacts": [{"name": "CFO", "email": cfo, "preferences": ["billing"]}],
        },
        201,
    )
    return customer["id"], primary, cfo


def test_a_sent_invoice_arrives_once_with_its_pdf_at_every_billing_recipient(
    stack: RunningLocalStack,
) -> None:
    # Given an organisation and a customer with a billing contact
    client = Client(stack)
    org = client.call(
        "POST",
        "/v1/organisations",
        {"name": "Acme Ltd", "default_currency": "EUR", "email": "billing@acme.test"},
        201,
    )["id"]
    base = f"/v1/organisations/{org}"
    customer, primary, cfo = customer_with_billing_contact(client, base)
    draft = client.call(
        "POST",
        f"{base}/invoices",
        {"customer_id": customer, "line_items": [{"description": "Consulting", "unit_amount": 15000}]},
        201,
    )

    # When the draft is sent
    sent = client.call("POST", f"{base}/invoices/{draft['id']}/send")

    # Then one email reaches both recipients, with the invoice as a PDF
    [email] = wait_for_emails(stack, primary, 1)
    assert email["to"] == [primary, cfo]
    assert sent["number"] in email["subject"]
    assert sent["number"] in email["text"]
    assert sent["number"] in email["html"]
    assert email["attachments"] == [{"filename": f"{sent['number']}.pdf", "content_type": "application/pdf"}]
    assert set(email) == {"to", "subject", "html", "text", "attachments", "sent_at"}
    # ...and only once, however long one waits
    time.sleep(1.0)
    assert len(emails_to(stack, primary)) == 1


def test_sending_again_resends_and_voiding_notifies_without_an_attachment(stack: RunningLocalStack) -> None:
    client = Client(stack)
    org = client.call("POST", "/v1/organisations", {"name": "Brand Co", "default_currency": "EUR"}, 201)["id"]
    base = f"/v1/organisations/{org}"
    customer, primary, _ = customer_with_billing_contact(client, base)
    invoice = client.call(
        "POST",
        f"{base}/invoices",
        {"customer_id": customer, "line_items": [{"description": "Licence", "unit_amount": 9900}]},
        201,
    )["id"]

    client.call("POST", f"{base}/invoices/{invoice}/send")
    wait_for_emails(stack, primary, 1)
    client.call("POST", f"{base}/invoices/{invoice}/send")
    wait_for_emails(stack, primary, 2)
    client.call("POST", f"{base}/invoices/{invoice}/void")
    emails = wait_for_emails(stack, primary, 3)

    assert [len(email["attachments"]) for email in emails] == [1, 1, 0]
    assert [email["sent_at"] for email in emails] == sorted(email["sent_at"] for email in emails)

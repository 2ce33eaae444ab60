"""Sending: every email is owed through the outbox in the same transaction as its state change."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.conftest import TABLES


@pytest.fixture
def acme(api: ApiClient) -> Billing:
    billing = Billing(api, email="billing@acme.test")
    api.patch(
        f"{billing.base}/customers/{billing.customer}",
        {
            "contacts": [
                {"name": "AP", "email": "invoices@globex.test", "preferences": ["billing"]},
                {"name": "CEO", "email": "ceo@globex.test", "preferences": ["updates"]},
            ]
        },
    )
    return billing


def outbox(org: str) -> list[dict[str, Any]]:
    items = boto3.client("dynamodb").query(
        TableName=TABLES["BillingTable"],
        KeyConditionExpression="PK = :pk AND begins_with(SK, :outbox)",
        ExpressionAttributeValues={":pk": {"S": f"ORG#{org}"}, ":outbox": {"S": "OUTBOX#"}},
    )["Items"]
    return [
        {"kind": i["kind"]["S"], "invoice_id": i["invoice_id"]["S"], "to": [t["S"] for t in i["to"]["L"]]}
        for i in items
    ]


def test_sending_a_draft_finalizes_it_and_owes_the_invoice_email(acme: Billing) -> None:
    draft = acme.draft()

    response = acme.api.post(f"{acme.invoice(draft['id'])}/send")

    assert response.status == 200
    invoice = response.json()
    assert (invoice["status"], invoice["number"]) == ("open", "ACME-00001")
    assert invoice["sent_at"]
    assert outbox(acme.org) == [
        {"kind": "invoice", "invoice_id": draft["id"], "to": ["ap@globex.test", "invoices@globex.test"]}
    ]
    events = [e["type"] for e in acme.api.get(f"{acme.invoice(draft['id'])}/events").json()["data"]]
    assert events == ["invoice.created", "invoice.finalized", "invoice.sent"]


def test_sending_again_resends(acme: Billing) -> None:
    invoice = acme.finalized()

    acme.api.post(f"{acme.invoice(invoice['id'])}/send")
    acme.api.post(f"{acme.invoice(invoice['id'])}/send")

    assert [m["kind"] for m in outbox(acme.org)] == ["invoice", "invoice"]


def test_voiding_owes_a_void_notice_and_payments_owe_receipts(acme: Billing) -> None:
    invoice = acme.finalized()

    acme.pay(invoice["id"], 100)
    acme.api.post(f"{acme.invoice(invoice['id'])}/void")

    assert [m["kind"] for m in outbox(acme.org)] == ["payment_receipt", "void_notice"]


def test_a_void_invoice_cannot_be_sent_and_nothing_is_owed(acme: Billing) -> None:
    invoice = acme.finalized()
    acme.api.post(f"{acme.invoice(invoice['id'])}/void")
    owed_before = outbox(acme.org)

    response = acme.api.post(f"{acme.invoice(invoice['id'])}/send")

    assert response.status == 409
    assert outbox(acme.org) == owed_before


def test_a_state_change_that_rolls_back_owes_no_email(acme: Billing, monkeypatch: pytest.MonkeyPatch) -> None:
    from remit.adapters.dynamodb import Write, key
    from remit.adapters.dynamodb_billing import DynamoBillingTransaction
    from remit.domain.errors import Conflict

    invoice = acme.finalized()
    before = acme.get(invoice["id"])
    stage_event = DynamoBillingTransaction.insert_event

    def insert_event_and_a_failing_check(self: DynamoBillingTransaction, event: Any) -> None:
        # One more item in the same transaction whose condition fails: the whole void is cancelled.
        stage_event(self, event)
        self._writes.append(
            Write(
                "ConditionCheck",
                {"Key": key("NOWHERE", "NOTHING"), "ConditionExpression": "attribute_exists(PK)"},
                lambda: Conflict("injected"),
            )
        )

    monkeypatch.setattr(DynamoBillingTransaction, "insert_event", insert_event_and_a_failing_check)
    voided = acme.api.post(f"{acme.invoice(invoice['id'])}/void")
    sent = acme.api.post(f"{acme.invoice(invoice['id'])}/send")

    assert (voided.status, sent.status) == (409, 409)
    assert outbox(acme.org) == []
    assert acme.get(invoice["id"]) == before


def test_an_invoice_pdf_is_served_for_finalized_invoices_only(acme: Billing) -> None:
    draft = acme.draft()
    invoice = acme.finalized()

    pdf = acme.api.get(f"{acme.invoice(invoice['id'])}/pdf")
    refused = acme.api.get(f"{acme.invoice(draft['id'])}/pdf")

    assert pdf.status == 200
    assert pdf.content_type == "application/pdf"
    assert pdf.body.startswith(b"%PDF")
    assert "ACME-00001.pdf" in pdf.headers["Content-Disposition"]
    assert refused.status == 409


def test_the_hosted_page_is_public_and_unknown_tokens_are_404(acme: Billing) -> None:
    invoice = acme.finalized()
    path = invoice["hosted_url"].removeprefix("https://api.remit.test")

    page = acme.api.get(path, api_key=None)
    pdf = acme.api.get(f"{path}/pdf", api_key=None)
    unknown = acme.api.get("/i/" + "x" * 43, api_key=None)

    assert page.status == 200
    assert page.content_type.startswith("text/html")
    assert b"ACME-00001" in page.body
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert pdf.status == 200
    assert pdf.body.startswith(b"%PDF")
    assert unknown.status == 404
    assert b"ACME" not in unknown.body

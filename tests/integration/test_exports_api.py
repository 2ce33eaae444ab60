"""Exports through the API: a month's documents as CSV files an accountant opens in a spreadsheet,
and the whole organisation as JSON Lines, each downloaded from the address the API redirects to."""

from __future__ import annotations

from typing import Any

import pytest

from tests.clocks import SettableClock
from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.exports_helpers import csv_rows, downloaded, jsonl_lines

NOVEMBER = "from=2026-11-01&to=2026-11-30"
HOSTILE_NAME = '=HYPERLINK("http://evil.test","Click")'


class November:
    """An organisation's November: mixed tax rates, two currencies (one of them JPY), a part-paid
    invoice, a void one, a credit note, a draft, and documents just outside the month."""

    def __init__(self, api: ApiClient, clock: SettableClock) -> None:
        clock.set("2026-10-31T12:00:00Z")
        self.acme = acme = Billing(api)
        self.before = acme.finalized(unit_amount=999)
        clock.set("2026-11-02T10:00:00Z")
        self.yen_customer = acme.new_customer(
            name=HOSTILE_NAME, email="=cmd@evil.test", currency="JPY", tax_rate="10"
        )
        self.tokyo = acme.new_customer(
            name="株式会社東京商事", email="keiri@tokyo.test", external_ids=["+41 crm"]
        )
        self.mixed = acme.finalized(
            line_items=[
                {"description": "Widget", "quantity": "1", "unit_amount": 10000},
                {"description": "Book", "quantity": "1", "unit_amount": 5000, "tax_rate": "7"},
            ]
        )
        assert acme.pay(self.mixed["id"], 10000, received_on="2026-11-03", reference="-2+3").status == 201
        clock.set("2026-11-05T10:00:00Z")
        self.yen = acme.finalized(customer_id=self.yen_customer, unit_amount=1000, quantity="1")
        assert acme.pay(self.yen["id"], 1100, method="cash", reference="@SUM(1)").status == 201
        clock.set("2026-11-10T10:00:00Z")
        self.voided = acme.finalized(customer_id=self.tokyo, unit_amount=2000, quantity="1")
        assert api.post(f"{acme.invoice(self.voided['id'])}/void").status == 200
        self.draft = acme.draft()
        clock.set("2026-11-12T10:00:00Z")
        line = self.mixed["line_items"][0]["id"]
        response = api.post(
            f"{acme.invoice(self.mixed['id'])}/credit_notes",
            {"lines": [{"invoice_line_id": line, "amount": 1000}], "reason": "order_change"},
        )
        assert response.status == 201, response.body
        self.credit_note = response.json()
        clock.set("2026-12-01T00:30:00Z")
        self.after = acme.finalized(unit_amount=777)
        assert acme.pay(self.mixed["id"], 100, received_on="2026-12-01").status == 201


@pytest.fixture
def november(api: ApiClient, clock: SettableClock) -> November:
    return November(api, clock)


def export(november: November, kind: str, period: str = NOVEMBER) -> list[dict[str, str]]:
    content, _ = downloaded(november.acme.api, f"{november.acme.base}/exports/{kind}.csv?{period}")
    return csv_rows(content)


def test_the_invoices_of_a_month_are_one_row_each_with_net_and_tax_per_rate_and_no_draft(
    november: November,
) -> None:
    # When the accountant downloads November's invoices
    rows = export(november, "invoices")

    # Then each invoice issued in November is one row (drafts and other months left out), void ones
    # with their status; amounts in each currency's exponent; a net/tax pair for every rate present;
    # what is paid and due as of the download (December's payment counted)
    mixed, yen, voided = november.mixed, november.yen, november.voided
    assert rows == [
        {
            "number": "ACME-00002",
            "issue_date": "2026-11-02",
            "due_date": "2026-12-02",
            "status": "open",
            "customer_id": november.acme.customer,
            "customer_name": "Globex GmbH",
            "customer_tax_id": "",
            "currency": "EUR",
            "net": "150.00",
            "tax": "22.50",
            "total": "172.50",
            "credit_applied": "0.00",
            "paid": "101.00",
            "credited": "11.90",
            "due": "59.60",
            "invoice_id": mixed["id"],
            "net_7.00": "50.00",
            "tax_7.00": "3.50",
            "net_10.00": "",
            "tax_10.00": "",
            "net_19.00": "100.00",
            "tax_19.00": "19.00",
        },
        {
            "number": "ACME-00003",
            "issue_date": "2026-11-05",
            "due_date": "2026-12-05",
            "status": "paid",
            "customer_id": november.yen_customer,
            "customer_name": "'" + HOSTILE_NAME,
            "customer_tax_id": "",
            "currency": "JPY",
            "net": "1000",
            "tax": "100",
            "total": "1100",
            "credit_applied": "0",
            "paid": "1100",
            "credited": "0",
            "due": "0",
            "invoice_id": yen["id"],
            "net_7.00": "",
            "tax_7.00": "",
            "net_10.00": "1000",
            "tax_10.00": "100",
            "net_19.00": "",
            "tax_19.00": "",
        },
        {
            "number": "ACME-00004",
            "issue_date": "2026-11-10",
            "due_date": "2026-12-10",
            "status": "void",
            "customer_id": november.tokyo,
            "customer_name": "株式会社東京商事",
            "customer_tax_id": "",
            "currency": "EUR",
            "net": "20.00",
            "tax": "3.80",
            "total": "23.80",
            "credit_applied": "0.00",
            "paid": "0.00",
            "credited": "0.00",
            "due": "0.00",
            "invoice_id": voided["id"],
            "net_7.00": "",
            "tax_7.00": "",
            "net_10.00": "",
            "tax_10.00": "",
            "net_19.00": "20.00",
            "tax_19.00": "3.80",
        },
    ]


def test_the_credit_notes_of_a_month_are_negative_so_that_they_take_from_sales(november: November) -> None:
    rows = export(november, "credit_notes")

    note = november.credit_note
    assert rows == [
        {
            "number": "ACME-CN-00001",
            "issue_date": "2026-11-12",
            "invoice_number": "ACME-00002",
            "invoice_issue_date": "2026-11-02",
            "status": "issued",
            "reason": "order_change",
            "customer_id": november.acme.customer,
            "customer_name": "Globex GmbH",
            "currency": "EUR",
            "net": "-10.00",
            "tax": "-1.90",
            "total": "-11.90",
            "off_amount_due": "-11.90",
            "refunded": "0.00",
            "to_credit_balance": "0.00",
            "out_of_band": "0.00",
            "credit_note_id": note["id"],
            "invoice_id": november.mixed["id"],
            "net_19.00": "-10.00",
            "tax_19.00": "-1.90",
        }
    ]


def test_the_payments_of_a_month_are_chosen_by_the_day_received_and_name_invoice_and_customer(
    november: November,
) -> None:
    acme = november.acme
    # The payments as recorded, oldest first: November's two, then December's
    recorded = [payment["id"] for payment in acme.api.get(f"{acme.base}/payments").json()["data"]]

    rows = export(november, "payments")

    # Then the payment received on 1 December is left out; hostile references are shown as text
    assert rows == [
        {
            "received_on": "2026-11-03",
            "invoice_number": "ACME-00002",
            "customer_id": acme.customer,
            "customer_name": "Globex GmbH",
            "method": "bank_transfer",
            "status": "succeeded",
            "reference": "'-2+3",
            "currency": "EUR",
            "amount": "100.00",
            "refunded": "0.00",
            "payment_id": recorded[0],
            "invoice_id": november.mixed["id"],
            "provider_payment_id": "",
        },
        {
            "received_on": "2026-11-05",
            "invoice_number": "ACME-00003",
            "customer_id": november.yen_customer,
            "customer_name": "'" + HOSTILE_NAME,
            "method": "cash",
            "status": "succeeded",
            "reference": "'@SUM(1)",
            "currency": "JPY",
            "amount": "1100",
            "refunded": "0",
            "payment_id": recorded[1],
            "invoice_id": november.yen["id"],
            "provider_payment_id": "",
        },
    ]
    assert len(recorded) == 3


def test_the_customers_export_holds_those_created_in_the_period_with_non_latin_names_intact(
    november: November,
) -> None:
    rows = export(november, "customers")

    # Globex was created in October with the organisation; the others on 2 November
    assert [
        (row["name"], row["email"], row["currency"], row["external_ids"], row["balance"]) for row in rows
    ] == [
        ("'" + HOSTILE_NAME, "'=cmd@evil.test", "JPY", "", "0"),
        ("株式会社東京商事", "keiri@tokyo.test", "EUR", "'+41 crm", "0.00"),
    ]
    assert rows[0]["created_at"] == "2026-11-02T10:00:00Z"
    assert list(rows[0])[:3] == ["customer_id", "name", "email"]


def test_a_download_is_named_for_its_kind_and_period_and_expires_within_minutes(november: November) -> None:
    _, download = downloaded(november.acme.api, f"{november.acme.base}/exports/invoices.csv?{NOVEMBER}")

    assert download["disposition"] == 'attachment; filename="invoices_2026-11-01_2026-11-30.csv"'
    assert download["type"] == "text/csv; charset=utf-8"


def test_a_period_with_nothing_in_it_is_a_header_alone(november: November) -> None:
    content, _ = downloaded(
        november.acme.api, f"{november.acme.base}/exports/invoices.csv?from=2025-01-01&to=2025-01-31"
    )

    assert content.decode("utf-8-sig").startswith("number,issue_date,due_date,")
    assert csv_rows(content) == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-11-01", "to"),
        ("to=2026-11-30", "from"),
        ("from=2026-11-31&to=2026-12-01", "from"),
        ("from=yesterday&to=2026-12-01", "from"),
        ("from=2026-11-30&to=2026-11-01", "to"),
    ],
)
def test_a_bad_period_is_refused_naming_the_parameter(api: ApiClient, query: str, field: str) -> None:
    acme = Billing(api)

    response = api.get(f"{acme.base}/exports/invoices.csv?{query}")

    assert response.status == 422
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_an_unknown_kind_is_refused_naming_it(api: ApiClient) -> None:
    acme = Billing(api)

    response = api.get(f"{acme.base}/exports/quotes.csv?{NOVEMBER}")

    assert response.status == 422
    assert [error["field"] for error in response.json()["errors"]] == ["kind"]


def test_another_accounts_organisation_cannot_be_exported(api: ApiClient, other_api: ApiClient) -> None:
    acme = Billing(api)
    acme.finalized()

    for path in (f"exports/invoices.csv?{NOVEMBER}", "exports/organisation.jsonl"):
        assert other_api.get(f"{acme.base}/{path}").status == 404


def organisation_lines(api: ApiClient, billing: Billing) -> list[dict[str, Any]]:
    content, download = downloaded(api, f"{billing.base}/exports/organisation.jsonl")
    assert download["type"] == "application/x-ndjson; charset=utf-8"
    return jsonl_lines(content)


def test_the_organisation_export_holds_each_object_exactly_as_the_api_answers_it(november: November) -> None:
    acme = november.acme

    lines = organisation_lines(acme.api, acme)

    # Then every line is {"type", "data"}, the organisation first, each object as its GET answers it
    assert all(set(line) == {"type", "data"} for line in lines)
    assert lines[0] == {"type": "organisation", "data": acme.api.get(acme.base).json()}
    paths = {
        "customer": "customers",
        "invoice": "invoices",
        "credit_note": "credit_notes",
    }
    for line in lines:
        if line["type"] in paths:
            answer = acme.api.get(f"{acme.base}/{paths[line['type']]}/{line['data']['id']}").json()
            assert line["data"] == answer
    payments = acme.api.get(f"{acme.base}/payments?limit=100").json()["data"]
    assert [line["data"] for line in lines if line["type"] == "payment"] == payments
    kinds = [line["type"] for line in lines]
    assert kinds.count("customer") == 3
    assert kinds.count("invoice") == 6  # drafts too: the organisation owns them
    assert kinds.count("credit_note") == 1
    assert kinds.count("payment") == 3


def test_the_organisation_export_never_holds_another_organisations_items(api: ApiClient) -> None:
    # Given two organisations of one account, each with a customer and an invoice
    acme = Billing(api)
    acme.finalized()
    other = Billing(api, name="Other Ltd")
    other.finalized()

    lines = organisation_lines(api, acme)

    ids = {line["data"]["id"] for line in lines}
    text = str(lines)
    assert other.org not in text
    assert other.customer not in text
    assert acme.org in ids
    assert acme.customer in ids
    assert all(line["data"].get("organisation_id", acme.org) == acme.org for line in lines)


def test_the_organisation_export_holds_no_secret(api: ApiClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from remit import bootstrap
    from tests.integration.test_payment_provider_api import SECRET_KEY, SECRETS_PREFIX, STRIPE, WEBHOOK_SECRET
    from tests.integration.test_webhook_endpoints_api import PUBLIC, Resolver

    # Given an organisation with a card provider connected and a webhook endpoint (its secret shown once)
    monkeypatch.setenv("REMIT_SECRETS_PREFIX", SECRETS_PREFIX)
    bootstrap.use_host_resolver(Resolver())
    try:
        acme = Billing(api)
        assert api.put(f"{acme.base}/payment_provider", json_body=STRIPE).status == 200
        created = api.post(f"{acme.base}/webhook_endpoints", {"url": PUBLIC, "enabled_events": ["*"]})
        assert created.status == 201, created.body
        endpoint_secret = created.json()["secret"]

        # When the organisation is exported
        content, _ = downloaded(api, f"{acme.base}/exports/organisation.jsonl")
    finally:
        bootstrap.use_host_resolver(None)

    # Then the endpoint is there, and no secret nor the API key is anywhere in the file
    text = content.decode()
    assert [line["data"]["url"] for line in jsonl_lines(content) if line["type"] == "webhook_endpoint"] == [
        PUBLIC
    ]
    for secret in (SECRET_KEY, WEBHOOK_SECRET, endpoint_secret, api.api_key, "whsec_", "sk_test"):
        assert secret not in text

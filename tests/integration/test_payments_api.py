"""Offline payments, overpayments, credit balances and their application to the next invoice."""

from __future__ import annotations

import pytest

from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing


@pytest.fixture
def acme(api: ApiClient) -> Billing:
    return Billing(api)


def test_partial_payments_then_full_payment_mark_the_invoice_paid(acme: Billing) -> None:
    invoice = acme.finalized(unit_amount=10000, quantity="1")  # 119.00 EUR

    first = acme.pay(invoice["id"], 5000, reference="SEPA 1", received_on="2026-11-20")
    after_first = acme.get(invoice["id"])
    second = acme.pay(invoice["id"], 6900, method="cash")
    after_second = acme.get(invoice["id"])

    assert first.status == second.status == 201
    assert first.json()["method"] == "bank_transfer"
    assert first.json()["received_on"] == "2026-11-20"
    assert first.json()["status"] == "succeeded"
    assert (after_first["status"], after_first["amount_paid"], after_first["amount_due"]) == (
        "open",
        5000,
        6900,
    )
    assert (after_second["status"], after_second["amount_paid"], after_second["amount_due"]) == (
        "paid",
        11900,
        0,
    )
    assert after_second["paid_at"]


def test_an_overpayment_goes_to_the_credit_balance_and_pays_the_next_invoice(acme: Billing) -> None:
    first = acme.finalized(unit_amount=10000, quantity="1")  # 11900
    acme.pay(first["id"], 3000)

    acme.pay(first["id"], 20000, method="cheque", reference="Cheque 0042")

    assert acme.customer_balance() == 11100
    second = acme.finalized(unit_amount=5000, quantity="1")  # 5950, covered by credit
    third = acme.finalized(unit_amount=5000, quantity="1")  # 5150 of credit left
    assert (second["credit_applied"], second["amount_due"], second["status"]) == (5950, 0, "paid")
    assert (third["credit_applied"], third["amount_due"], third["status"]) == (5150, 800, "open")
    assert acme.customer_balance() == 0
    ledger = acme.api.get(f"{acme.base}/customers/{acme.customer}/balance_transactions").json()["data"]
    assert [(e["type"], e["amount"], e["ending_balance"]) for e in ledger] == [
        ("overpayment", 11100, 11100),
        ("applied_to_invoice", -5950, 5150),
        ("applied_to_invoice", -5150, 0),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": 0, "method": "cash"}, "amount"),
        ({"amount": -5, "method": "cash"}, "amount"),
        ({"amount": 10.5, "method": "cash"}, "amount"),
        ({"amount": 100, "method": "bitcoin"}, "method"),
        ({"amount": 100, "method": "card"}, "method"),
        ({"amount": 100, "method": "cash", "received_on": "yesterday"}, "received_on"),
        ({"method": "cash"}, "amount"),
    ],
)
def test_a_bad_payment_is_a_422_and_records_nothing(
    acme: Billing, body: dict[str, object], field: str
) -> None:
    invoice = acme.finalized()

    response = acme.api.post(f"{acme.invoice(invoice['id'])}/payments", body)

    assert response.status == 422
    assert field in [e["field"] for e in response.json()["errors"]]
    assert acme.get(invoice["id"]) == invoice
    assert acme.api.get(f"{acme.base}/payments").json()["data"] == []


def test_payments_are_listed_per_organisation_invoice_and_customer(acme: Billing) -> None:
    other = acme.new_customer(name="Initech")
    mine = acme.finalized()
    acme.customer, globex = other, acme.customer
    theirs = acme.finalized()
    acme.customer = globex
    acme.pay(mine["id"], 100)
    acme.pay(theirs["id"], 200)
    acme.pay(mine["id"], 300)

    everything = acme.api.get(f"{acme.base}/payments").json()["data"]
    by_invoice = acme.api.get(f"{acme.base}/payments?invoice_id={mine['id']}").json()["data"]
    by_customer = acme.api.get(f"{acme.base}/payments?customer_id={other}").json()["data"]
    paged = acme.api.get(f"{acme.base}/payments?limit=2").json()

    assert [p["amount"] for p in everything] == [100, 200, 300]
    assert [p["amount"] for p in by_invoice] == [100, 300]
    assert [p["amount"] for p in by_customer] == [200]
    assert len(paged["data"]) == 2
    assert paged["next_cursor"]


def test_voiding_returns_payments_and_applied_credit_to_the_balance(acme: Billing) -> None:
    acme.api.post(f"{acme.base}/customers/{acme.customer}/balance_transactions", {"amount": 1000})
    invoice = acme.finalized()  # 2380, 1000 of it from credit
    acme.pay(invoice["id"], 500)

    voided = acme.api.post(f"{acme.invoice(invoice['id'])}/void")

    assert voided.json()["status"] == "void"
    assert acme.customer_balance() == 1500


def test_credit_can_be_added_and_removed_but_never_below_zero(acme: Billing) -> None:
    path = f"{acme.base}/customers/{acme.customer}/balance_transactions"

    added = acme.api.post(path, {"amount": 5000, "description": "Prepayment"})
    removed = acme.api.post(path, {"amount": -2000, "description": "Refund"})
    too_much = acme.api.post(path, {"amount": -3001})
    zero = acme.api.post(path, {"amount": 0})
    fractional = acme.api.post(path, {"amount": 1.5})

    assert added.status == removed.status == 201
    assert (added.json()["ending_balance"], removed.json()["ending_balance"]) == (5000, 3000)
    assert added.json()["id"].startswith("btx_")
    assert too_much.status == 409
    assert too_much.json()["errors"][0]["field"] == "amount"
    assert zero.status == fractional.status == 422
    assert acme.customer_balance() == 3000
    assert [e["amount"] for e in acme.api.get(path).json()["data"]] == [5000, -2000]


def test_credit_added_after_the_draft_was_made_is_applied_at_finalization(acme: Billing) -> None:
    draft = acme.draft()  # 2380
    acme.api.post(f"{acme.base}/customers/{acme.customer}/balance_transactions", {"amount": 1000})
    acme.api.patch(f"{acme.base}/customers/{acme.customer}", {"name": "Globex AG"})

    invoice = acme.api.post(f"{acme.invoice(draft['id'])}/finalize").json()

    assert (invoice["credit_applied"], invoice["amount_due"]) == (1000, 1380)
    assert invoice["customer_name"] == "Globex AG"
    assert acme.customer_balance() == 0

"""Credit notes through the API: issue, preview, list, read, void; their numbering and their effects
on the invoice, the customer's balance, the payments, the timeline, the outbox and the overview."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.faults import FAULTS, Calls, Fault, injected
from tests.integration.test_card_webhooks import items
from tests.integration.test_fault_injection import assert_retryable_or_done, post_until_answered


@pytest.fixture
def acme(api: ApiClient) -> Billing:
    return Billing(api)


def credit_notes_of(acme: Billing, invoice_id: str) -> str:
    return f"{acme.invoice(invoice_id)}/credit_notes"


def issue(acme: Billing, invoice_id: str, body: dict[str, Any], **kwargs: Any) -> Any:
    return acme.api.post(credit_notes_of(acme, invoice_id), body, **kwargs)


def books(acme: Billing, invoice_id: str) -> dict[str, Any]:
    """What a user would look at to see whether anything changed."""
    return {
        "invoice": acme.get(invoice_id),
        "credit_notes": acme.api.get(f"{acme.base}/credit_notes").json()["data"],
        "balance": acme.customer_balance(),
        "payments": acme.api.get(f"{acme.base}/payments?invoice_id={invoice_id}").json()["data"],
        "refunds": acme.api.get(f"{acme.base}/refunds").json()["data"],
        "organisation": acme.api.get(acme.base).json()["credit_note_numbering"],
    }


def test_an_organisation_numbers_its_credit_notes_with_a_prefix_made_from_its_invoice_prefix(
    acme: Billing,
) -> None:
    organisation = acme.api.get(acme.base).json()

    assert organisation["invoice_numbering"]["prefix"] == "ACME-"
    assert organisation["credit_note_numbering"] == {"prefix": "ACME-CN-", "padding": 5, "next_number": 1}


def test_a_credit_note_on_an_open_invoice_lowers_what_is_due_and_is_numbered_at_once(acme: Billing) -> None:
    # Given an open invoice of 2 x 10.00 + 19% tax = 23.80
    invoice = acme.finalized(unit_amount=1000, quantity="2")
    line = invoice["line_items"][0]["id"]

    response = issue(
        acme, invoice["id"], {"lines": [{"invoice_line_id": line, "quantity": "1"}], "reason": "order_change"}
    )

    assert response.status == 201, response.body
    note = response.json()
    assert note["number"] == "ACME-CN-00001"
    assert (note["status"], note["total"], note["tax_total"], note["pre_payment_amount"]) == (
        "issued",
        1190,
        190,
        1190,
    )
    assert (note["invoice_number"], note["reason"]) == (invoice["number"], "order_change")
    after = acme.get(invoice["id"])
    assert (after["amount_due"], after["credited_amount"], after["status"]) == (1190, 1190, "open")
    timeline = [
        event["type"] for event in acme.api.get(f"{acme.invoice(invoice['id'])}/events").json()["data"]
    ]
    assert "invoice.credit_note_issued" in timeline
    assert acme.api.get(acme.base).json()["credit_note_numbering"]["next_number"] == 2
    assert acme.api.get(f"{acme.base}/credit_notes/{note['id']}").json() == note


def test_crediting_the_rest_of_an_open_invoice_marks_it_paid(acme: Billing) -> None:
    invoice = acme.finalized(unit_amount=1000, quantity="2")

    issue(acme, invoice["id"], {"amount": 2380})

    after = acme.get(invoice["id"])
    assert (after["status"], after["amount_due"], after["credited_amount"]) == ("paid", 0, 2380)


def test_a_credit_note_on_a_paid_invoice_credits_the_balance_in_the_invoices_currency(acme: Billing) -> None:
    invoice = acme.finalized(unit_amount=1000, quantity="2")
    acme.pay(invoice["id"], 2380)

    response = issue(acme, invoice["id"], {"amount": 1190, "credit_amount": 1000, "out_of_band_amount": 190})

    assert response.status == 201, response.body
    assert response.json()["pre_payment_amount"] == 0
    assert acme.customer_balance() == 1000
    ledger = acme.api.get(f"{acme.base}/customers/{acme.customer}/balance_transactions").json()["data"]
    assert [(entry["type"], entry["amount"], entry["currency"]) for entry in ledger] == [
        ("credit_note", 1000, "EUR")
    ]


def test_an_offline_refund_is_recorded_at_once_on_the_newest_payments(acme: Billing) -> None:
    invoice = acme.finalized(unit_amount=1000, quantity="2")
    first = acme.pay(invoice["id"], 1380).json()
    second = acme.pay(invoice["id"], 1000, method="cheque").json()

    response = issue(acme, invoice["id"], {"amount": 1500, "refund_amount": 1500})

    assert response.status == 201, response.body
    refunds = acme.api.get(f"{acme.base}/refunds?invoice_id={invoice['id']}").json()["data"]
    assert [(r["payment_id"], r["amount"], r["status"]) for r in refunds] == [
        (second["id"], 1000, "succeeded"),
        (first["id"], 500, "succeeded"),
    ]
    payments = {
        p["id"]: p for p in acme.api.get(f"{acme.base}/payments?invoice_id={invoice['id']}").json()["data"]
    }
    assert (payments[second["id"]]["status"], payments[second["id"]]["amount_refunded"]) == ("refunded", 1000)
    assert (payments[first["id"]]["status"], payments[first["id"]]["amount_refunded"]) == (
        "partially_refunded",
        500,
    )
    by_payment = acme.api.get(f"{acme.base}/refunds?payment_id={first['id']}").json()["data"]
    assert [r["amount"] for r in by_payment] == [500]


def test_a_refund_beyond_what_the_payments_hold_is_a_409_and_changes_nothing(acme: Billing) -> None:
    invoice = acme.finalized(unit_amount=1000, quantity="2")
    acme.pay(invoice["id"], 2380)
    other = acme.finalized(unit_amount=1000, quantity="2")
    issue(acme, other["id"], {"amount": 100})
    before = books(acme, invoice["id"])

    # The invoice's payment already had 2000 refunded by an earlier credit note
    assert issue(acme, invoice["id"], {"amount": 2000, "refund_amount": 2000}).status == 201
    before = books(acme, invoice["id"])
    response = issue(acme, invoice["id"], {"amount": 380, "refund_amount": 300, "credit_amount": 80})
    assert response.status == 201
    before = books(acme, invoice["id"])
    refused = issue(
        acme,
        invoice["id"],
        {"lines": [{"description": "x", "amount": 1, "tax_rate": "0"}], "refund_amount": 1},
    )

    assert refused.status == 409
    assert books(acme, invoice["id"]) == before


def test_a_split_that_does_not_add_up_is_a_422_naming_the_amount_expected_and_changes_nothing(
    acme: Billing,
) -> None:
    invoice = acme.finalized(unit_amount=1000, quantity="2")
    acme.pay(invoice["id"], 2000)  # 380 still due
    before = books(acme, invoice["id"])

    response = issue(acme, invoice["id"], {"amount": 1000, "refund_amount": 500})

    assert response.status == 422
    problem = response.json()
    assert {e["field"] for e in problem["errors"]} == {"refund_amount", "credit_amount", "out_of_band_amount"}
    assert "620" in problem["detail"]
    assert books(acme, invoice["id"]) == before


def test_credit_notes_never_add_up_to_more_than_the_invoice(acme: Billing) -> None:
    invoice = acme.finalized(unit_amount=1000, quantity="2")
    issue(acme, invoice["id"], {"amount": 2000})
    before = books(acme, invoice["id"])

    response = issue(acme, invoice["id"], {"amount": 381, "credit_amount": 1})

    assert response.status == 409
    assert books(acme, invoice["id"]) == before


def test_an_unknown_line_is_a_422_naming_it_and_changes_nothing(acme: Billing) -> None:
    invoice = acme.finalized(unit_amount=1000, quantity="2")
    line = invoice["line_items"][0]["id"]
    before = books(acme, invoice["id"])

    response = issue(
        acme,
        invoice["id"],
        {
            "lines": [
                {"invoice_line_id": line, "quantity": "1"},
                {"invoice_line_id": line, "amount": 1},
                {"invoice_line_id": "li_nope", "amount": 1},
            ]
        },
    )

    assert response.status == 422
    assert [e["field"] for e in response.json()["errors"]] == ["lines[2].invoice_line_id"]
    assert books(acme, invoice["id"]) == before


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"amount": 100, "lines": [{"description": "x", "amount": 1, "tax_rate": "0"}]},
        {"amount": 0},
        {"amount": 10.5},
        {"amount": 100, "reason": "because"},
        {"amount": 100, "refund_amount": -1},
        {"lines": [{"invoice_line_id": "li_1", "quantity": "1", "amount": 5}]},
        {"lines": []},
    ],
)
def test_a_malformed_request_is_a_422(acme: Billing, body: dict[str, Any]) -> None:
    invoice = acme.finalized()

    response = issue(acme, invoice["id"], body)

    assert response.status == 422, response.body


def test_a_draft_or_void_invoice_cannot_be_credited(acme: Billing) -> None:
    draft = acme.draft()
    void = acme.finalized()
    acme.api.post(f"{acme.invoice(void['id'])}/void")

    assert issue(acme, draft["id"], {"amount": 100}).status == 409
    assert issue(acme, void["id"], {"amount": 100}).status == 409
    assert acme.api.get(f"{acme.base}/credit_notes").json()["data"] == []


def test_another_organisations_invoice_is_not_found(acme: Billing, other_api: ApiClient) -> None:
    invoice = acme.finalized()
    note = issue(acme, invoice["id"], {"amount": 100}).json()

    assert other_api.post(credit_notes_of(acme, invoice["id"]), {"amount": 100}).status == 404
    assert other_api.get(f"{acme.base}/credit_notes/{note['id']}").status == 404
    assert other_api.post(f"{acme.base}/credit_notes/{note['id']}/void").status == 404
    assert other_api.get(f"{acme.base}/credit_notes").status == 404
    assert acme.get(invoice["id"])["credited_amount"] == 100


def test_a_retry_with_the_same_idempotency_key_returns_the_same_credit_note(acme: Billing) -> None:
    invoice = acme.finalized()
    headers = {"Idempotency-Key": "credit-1"}

    first = issue(acme, invoice["id"], {"amount": 100}, headers=headers)
    second = issue(acme, invoice["id"], {"amount": 100}, headers=headers)

    assert (first.status, second.status) == (201, 201)
    assert first.json()["id"] == second.json()["id"]
    assert len(acme.api.get(f"{acme.base}/credit_notes").json()["data"]) == 1
    assert acme.get(invoice["id"])["credited_amount"] == 100


def test_a_preview_stores_nothing(acme: Billing) -> None:
    invoice = acme.finalized(unit_amount=1000, quantity="2")
    before = books(acme, invoice["id"])

    response = acme.api.post(f"{credit_notes_of(acme, invoice['id'])}/preview", {"amount": 2380})

    assert response.status == 200, response.body
    preview = response.json()
    assert (preview["total"], preview["invoice_amount_due"], preview["invoice_credited_amount"]) == (
        2380,
        0,
        2380,
    )
    assert books(acme, invoice["id"]) == before


def test_lists_filter_by_invoice_and_customer_and_page(acme: Billing) -> None:
    first = acme.finalized()
    other_customer = acme.new_customer(email="b@globex.test")
    second = acme.finalized(customer_id=other_customer)
    notes = [issue(acme, first["id"], {"amount": 10}).json()["id"] for _ in range(3)]
    theirs = issue(acme, second["id"], {"amount": 10}).json()["id"]

    of_first = acme.api.get(credit_notes_of(acme, first["id"])).json()["data"]
    of_customer = acme.api.get(f"{acme.base}/credit_notes?customer_id={other_customer}").json()["data"]
    page = acme.api.get(f"{acme.base}/credit_notes?limit=2").json()
    rest = acme.api.get(f"{acme.base}/credit_notes?limit=2&cursor={page['next_cursor']}").json()

    assert [n["id"] for n in of_first] == notes
    assert [n["id"] for n in of_customer] == [theirs]
    assert [n["id"] for n in page["data"] + rest["data"]] == [*notes, theirs]
    assert rest["next_cursor"] is None


def test_voiding_a_credit_note_restores_the_invoice_and_its_number_stays_used(acme: Billing) -> None:
    invoice = acme.finalized(unit_amount=1000, quantity="2")
    note = issue(acme, invoice["id"], {"amount": 2380}).json()

    voided = acme.api.post(f"{acme.base}/credit_notes/{note['id']}/void")
    again = issue(acme, invoice["id"], {"amount": 100}).json()

    assert voided.status == 200, voided.body
    assert (voided.json()["status"], voided.json()["number"]) == ("void", "ACME-CN-00001")
    assert again["number"] == "ACME-CN-00002"
    after = acme.get(invoice["id"])
    assert (after["status"], after["amount_due"], after["credited_amount"]) == ("open", 2280, 100)
    assert acme.api.post(f"{acme.base}/credit_notes/{note['id']}/void").status == 409


def test_a_credit_note_whose_credit_was_spent_cannot_be_voided(acme: Billing) -> None:
    invoice = acme.finalized(unit_amount=1000, quantity="2")
    acme.pay(invoice["id"], 2380)
    note = issue(acme, invoice["id"], {"amount": 1000, "credit_amount": 1000}).json()
    acme.finalized(unit_amount=100, quantity="1")  # takes 119 of the credit
    before = books(acme, invoice["id"])

    response = acme.api.post(f"{acme.base}/credit_notes/{note['id']}/void")

    assert response.status == 409
    assert "spent" in response.json()["detail"]
    assert books(acme, invoice["id"]) == before


def test_a_refunded_credit_note_cannot_be_voided(acme: Billing) -> None:
    invoice = acme.finalized(unit_amount=1000, quantity="2")
    acme.pay(invoice["id"], 2380)
    note = issue(acme, invoice["id"], {"amount": 1000, "refund_amount": 1000}).json()

    assert acme.api.post(f"{acme.base}/credit_notes/{note['id']}/void").status == 409


def test_a_credit_note_owes_an_email_to_the_invoices_billing_recipients(acme: Billing) -> None:
    invoice = acme.finalized()

    note = issue(acme, invoice["id"], {"amount": 100}).json()

    owed = [item for item in items(acme.org, "OUTBOX#") if item["kind"] == "credit_note"]
    assert [(item["credit_note_id"], item["invoice_id"], item["to"]) for item in owed] == [
        (note["id"], invoice["id"], ["ap@globex.test"])
    ]


def test_the_overview_counts_revenue_net_of_credit_notes_and_outstanding_lowered(aws: None) -> None:
    from remit.bootstrap import services

    issued = services().accounts.create_account("Overview account")
    acme = Billing(ApiClient(issued.api_key))
    invoice = acme.finalized(unit_amount=1000, quantity="2")
    before = services().overview.figures(issued.account_id, acme.org).in_currency("EUR")

    issue(acme, invoice["id"], {"amount": 380})

    after = services().overview.figures(issued.account_id, acme.org).in_currency("EUR")
    assert before is not None
    assert after is not None
    assert (before.outstanding, before.revenue_by_month[-1].amount) == (2380, 2380)
    assert (after.outstanding, after.revenue_by_month[-1].amount) == (2000, 2000)


def test_the_credit_note_numbering_can_be_changed_but_never_back_over_a_used_number(acme: Billing) -> None:
    invoice = acme.finalized()
    issue(acme, invoice["id"], {"amount": 10})
    issue(acme, invoice["id"], {"amount": 10})

    back = acme.api.patch(acme.base, {"credit_note_numbering": {"next_number": 2}})
    moved = acme.api.patch(
        acme.base, {"credit_note_numbering": {"prefix": "GS-", "next_number": 100, "padding": 3}}
    )
    note = issue(acme, invoice["id"], {"amount": 10}).json()

    assert back.status == 422
    assert [e["field"] for e in back.json()["errors"]] == ["credit_note_numbering.next_number"]
    assert moved.status == 200, moved.body
    assert moved.json()["credit_note_numbering"] == {"prefix": "GS-", "padding": 3, "next_number": 100}
    assert moved.json()["invoice_numbering"]["next_number"] == 2  # the invoice series is its own
    assert note["number"] == "GS-100"


def test_an_organisation_stored_before_credit_notes_numbers_them_from_its_invoice_prefix(
    acme: Billing,
) -> None:
    import boto3

    from tests.integration.conftest import TABLES

    # Given the organisation's item as stored before credit notes existed (no setting, no series)
    boto3.client("dynamodb").update_item(
        TableName=TABLES["BillingTable"],
        Key={"PK": {"S": f"ORG#{acme.org}"}, "SK": {"S": "ORG"}},
        UpdateExpression="REMOVE credit_note_numbering",
    )
    boto3.client("dynamodb").delete_item(
        TableName=TABLES["BillingTable"],
        Key={"PK": {"S": f"ORG#{acme.org}"}, "SK": {"S": "SERIES#credit_note"}},
    )
    invoice = acme.finalized()

    note = issue(acme, invoice["id"], {"amount": 10}).json()

    assert note["number"] == "ACME-CN-00001"
    assert acme.api.get(acme.base).json()["credit_note_numbering"]["next_number"] == 2


@pytest.mark.parametrize("fault", FAULTS)
def test_a_credit_note_with_a_refund_under_a_fault_is_issued_once(acme: Billing, fault: Fault) -> None:
    # Given a paid invoice, and a credit note refunding part of it sent under a fault
    invoice = acme.finalized()
    acme.pay(invoice["id"], 2380)
    path, key = credit_notes_of(acme, invoice["id"]), str(uuid.uuid4())
    body = {"amount": 1000, "refund_amount": 700, "credit_amount": 300}
    with injected(fault, Calls("TransactWriteItems")) as seen:
        response = acme.api.post(path, body, headers={"Idempotency-Key": key})
    assert seen["hit"] == 1

    # When the client retries as told
    assert_retryable_or_done(response, 201)
    answered = post_until_answered(acme.api, path, body, key, response)

    # Then one credit note, one refund and one credit are recorded
    assert answered.status == 201, answered.body
    notes = acme.api.get(f"{acme.base}/credit_notes").json()["data"]
    assert [note["id"] for note in notes] == [answered.json()["id"]]
    assert [note["number"] for note in notes] == ["ACME-CN-00001"]
    assert [refund["amount"] for refund in acme.api.get(f"{acme.base}/refunds").json()["data"]] == [700]
    assert acme.customer_balance() == 300
    (payment,) = acme.api.get(f"{acme.base}/payments?invoice_id={invoice['id']}").json()["data"]
    assert payment["amount_refunded"] == 700
    assert acme.get(invoice["id"])["credited_amount"] == 1000


def test_credit_from_an_invoice_in_another_currency_goes_to_that_currencys_balance(acme: Billing) -> None:
    # Given a customer billed in USD, paid, who has EUR credit too
    acme.customer = acme.new_customer(email="us@globex.test", currency="USD")
    invoice = acme.finalized()
    acme.pay(invoice["id"], invoice["total"])
    acme.api.post(
        f"{acme.base}/customers/{acme.customer}/balance_transactions", {"amount": 100, "currency": "EUR"}
    )

    note = issue(acme, invoice["id"], {"amount": 500, "credit_amount": 500}).json()

    customer = acme.api.get(f"{acme.base}/customers/{acme.customer}").json()
    assert (invoice["currency"], note["currency"]) == ("USD", "USD")
    assert customer["balances"] == {"EUR": 100, "USD": 500}


def test_an_invoice_reopened_by_voiding_its_credit_note_is_chased_by_the_reminders_again(
    api: ApiClient,
) -> None:
    from tests.integration.test_card_webhooks import items

    acme = Billing(api, reminders={"days_after_due": [7]})
    invoice = acme.finalized(days_until_due=14)
    note = issue(acme, invoice["id"], {"amount": invoice["total"]}).json()
    paid = items(acme.org, f"INVOICE#{invoice['id']}")[0]

    acme.api.post(f"{acme.base}/credit_notes/{note['id']}/void")

    reopened = items(acme.org, f"INVOICE#{invoice['id']}")[0]
    assert (paid["status"], paid.get("next_reminder_on")) == ("paid", None)
    assert reopened["status"] == "open"
    assert reopened["next_reminder_on"] is not None
    assert reopened["GSI1PK"].startswith("REMIND#")


def test_an_issued_credit_note_is_served_as_a_pdf_to_its_account_only(
    acme: Billing, other_api: ApiClient
) -> None:
    invoice = acme.finalized()
    note = issue(acme, invoice["id"], {"amount": 100}).json()
    path = f"{acme.base}/credit_notes/{note['id']}/pdf"

    response = acme.api.get(path)

    assert response.status == 200, response.body
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.body.startswith(b"%PDF")
    assert note["number"] in response.headers["Content-Disposition"]
    assert other_api.get(path).status == 404

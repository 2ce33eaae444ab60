"""E-invoices through the API: finalize and credit notes refuse a document that breaks the rules
(nothing locked, nothing numbered), keep the report of a valid one, and download it (a download
writes nothing)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from remit import bootstrap
from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.billing_queue import BillingQueue, run_cycle
from tests.integration.conftest import SettableClock, reset_remit
from tests.integration.einvoice_fakes import JudgingValidator, number_in, use_fakes

GERMAN_PUBLIC = {
    "name": "Bundesamt für Beispiele",
    "email": "rechnung@bund.test",
    "country": "DE",
    "tax_rate": "19",
    "einvoice_format": "xrechnung_cii",
}


@pytest.fixture
def validator(aws: None) -> Iterator[JudgingValidator]:
    fake = use_fakes()
    yield fake
    bootstrap.use_einvoice_parts(None)


@pytest.fixture
def acme(api: ApiClient, validator: JudgingValidator) -> Billing:
    return Billing(api)


def draft_for(acme: Billing, customer: str) -> dict[str, Any]:
    body = {
        "customer_id": customer,
        "line_items": [{"description": "Beratung", "quantity": "2", "unit_amount": 5000}],
    }
    response = acme.api.post(f"{acme.base}/invoices", body)
    assert response.status == 201, response.body
    return response.json()


def next_number(acme: Billing) -> int:
    return int(acme.api.get(acme.base).json()["invoice_numbering"]["next_number"])


def test_finalizing_an_xrechnung_without_buyer_reference_is_refused_naming_the_rule_and_field(
    acme: Billing,
) -> None:
    # Given a German public customer without a Leitweg-ID, and a draft for it
    customer = acme.new_customer(**GERMAN_PUBLIC)
    draft = draft_for(acme, customer)

    # When it is finalized
    response = acme.api.post(f"{acme.invoice(draft['id'])}/finalize")

    # Then it is refused with the rule, the field to fix and the message; nothing is locked or numbered
    assert response.status == 422, response.body
    problem = response.json()
    assert problem["type"].endswith("/invalid-fields")
    assert problem["errors"] == [
        {
            "field": "customer.buyer_reference",
            "rule": "BR-DE-15",
            "message": "The element 'Buyer reference' (BT-10) must be transmitted.",
        }
    ]
    assert "BR-DE-15" in problem["detail"]
    assert acme.get(draft["id"]) == draft
    assert next_number(acme) == 1

    # And the next invoice, of a customer without a format, takes the number that was not consumed
    assert acme.finalized()["number"] == "ACME-00001"


def test_once_the_customer_is_fixed_the_invoice_finalizes_with_its_einvoice_status(
    acme: Billing, validator: JudgingValidator
) -> None:
    customer = acme.new_customer(**GERMAN_PUBLIC)
    draft = draft_for(acme, customer)
    assert acme.api.post(f"{acme.invoice(draft['id'])}/finalize").status == 422

    patched = acme.api.patch(f"{acme.base}/customers/{customer}", {"buyer_reference": "04011000-12345-67"})
    assert patched.status == 200, patched.body
    response = acme.api.post(f"{acme.invoice(draft['id'])}/finalize")

    assert response.status == 200, response.body
    invoice = response.json()
    assert invoice["number"] == "ACME-00001"
    assert invoice["einvoice"]["format"] == "xrechnung_cii"
    assert invoice["einvoice"]["valid"] is True
    assert invoice["einvoice"]["failed_rules"] == []
    assert invoice["einvoice"]["validated_at"]
    # validated with the number it was about to take
    assert number_in(validator.validated[-1]) == "ACME-00001"
    assert acme.get(draft["id"])["einvoice"] == invoice["einvoice"]


def test_an_einvoice_customers_finalization_reads_the_billing_table_once(
    acme: Billing, validator: JudgingValidator
) -> None:
    # Given a draft of a customer who takes XRechnung, and every call to the billing table counted
    customer = acme.new_customer(**GERMAN_PUBLIC, buyer_reference="04011000-12345-67")
    draft = draft_for(acme, customer)
    organisation_id = acme.org
    calls: list[str] = []

    def count(params: dict[str, Any], model: Any, **_: Any) -> None:
        if organisation_id in str(params):  # the organisation's items (the API key is read aside)
            calls.append(model.name)

    session = boto3.DEFAULT_SESSION
    assert session is not None  # the `aws` fixture made clients from it
    hook = {"event_name": "before-parameter-build.dynamodb", "unique_id": "test-finalize-calls"}
    session.events.register(handler=count, **hook)
    reset_remit()  # the app's clients are made after the hook, so they carry it
    try:
        # When it is finalized
        response = acme.api.post(f"{acme.invoice(draft['id'])}/finalize")
    finally:
        session.events.unregister(**hook)

    # Then its e-invoice was judged on the customer read with the draft: one read, one write, as
    # for any customer
    assert response.status == 200, response.body
    assert response.json()["einvoice"]["valid"] is True
    assert calls == ["BatchGetItem", "TransactWriteItems"]


def test_a_refusal_judged_on_a_customer_changed_since_the_draft_is_judged_again_on_the_customer_now(
    acme: Billing, validator: JudgingValidator
) -> None:
    # Given a draft of a customer without a Leitweg-ID, who is given one after the draft was made
    customer = acme.new_customer(**GERMAN_PUBLIC)
    draft = draft_for(acme, customer)
    patched = acme.api.patch(f"{acme.base}/customers/{customer}", {"buyer_reference": "04011000-12345-67"})
    assert patched.status == 200, patched.body

    # When the draft is finalized
    response = acme.api.post(f"{acme.invoice(draft['id'])}/finalize")

    # Then the refusal the draft's copy earned is dropped: the customer as it is now is valid
    assert response.status == 200, response.body
    assert response.json()["number"] == "ACME-00001"
    assert len(validator.validated) == 2
    assert number_in(validator.validated[-1]) == "ACME-00001"


def test_a_validator_that_cannot_be_reached_is_retryable_and_nothing_is_locked(
    acme: Billing, validator: JudgingValidator
) -> None:
    customer = acme.new_customer(**GERMAN_PUBLIC, buyer_reference="04011000-12345-67")
    draft = draft_for(acme, customer)
    validator.unreachable = True

    response = acme.api.post(f"{acme.invoice(draft['id'])}/finalize")

    assert response.status == 503, response.body
    assert response.headers["Retry-After"] == "30"
    assert acme.get(draft["id"]) == draft
    assert next_number(acme) == 1

    validator.unreachable = False
    assert acme.api.post(f"{acme.invoice(draft['id'])}/finalize").json()["number"] == "ACME-00001"


def test_a_customer_without_a_format_finalizes_unchecked_and_its_download_is_validated_writing_nothing(
    acme: Billing, validator: JudgingValidator
) -> None:
    invoice = acme.finalized()
    assert invoice["einvoice"] is None
    assert validator.validated == []
    before = acme.get(invoice["id"])

    no_format = acme.api.get(f"{acme.invoice(invoice['id'])}/einvoice")
    assert no_format.status == 422
    assert [e["field"] for e in no_format.json()["errors"]] == ["format"]

    response = acme.api.get(f"{acme.invoice(invoice['id'])}/einvoice?format=peppol_ubl")

    assert response.status == 200, response.body
    assert response.content_type == "application/xml"
    assert response.headers["Remit-Einvoice-Valid"] == "true"
    assert number_in(response.body) == invoice["number"]
    assert len(validator.validated) == 1
    assert acme.get(invoice["id"]) == before


def test_downloads_answer_xml_or_the_facturx_pdf_and_say_whether_valid(
    acme: Billing, validator: JudgingValidator
) -> None:
    customer = acme.new_customer(**GERMAN_PUBLIC, buyer_reference="04011000-12345-67")
    invoice = acme.api.post(f"{acme.invoice(draft_for(acme, customer)['id'])}/finalize").json()
    path = f"{acme.invoice(invoice['id'])}/einvoice"

    default = acme.api.get(path)
    assert default.status == 200, default.body
    assert default.content_type == "application/xml"
    assert b'format="xrechnung_cii"' in default.body

    facturx = acme.api.get(f"{path}?format=facturx")
    assert facturx.status == 200, facturx.body
    assert facturx.content_type == "application/pdf"
    assert facturx.body.startswith(b"%PDF")
    assert b'format="facturx"' in facturx.body

    validator.fail = _rule("BR-CO-26", "VAT identifier missing")
    invalid = acme.api.get(f"{path}?format=xrechnung_ubl")
    assert invalid.status == 200
    assert invalid.headers["Remit-Einvoice-Valid"] == "false"


def test_einvoice_downloads_refuse_drafts_unknown_formats_and_other_accounts(
    acme: Billing, other_api: ApiClient
) -> None:
    draft = acme.draft()
    assert acme.api.get(f"{acme.invoice(draft['id'])}/einvoice?format=facturx").status == 409

    invoice = acme.finalized()
    unknown = acme.api.get(f"{acme.invoice(invoice['id'])}/einvoice?format=pdf")
    assert unknown.status == 422
    assert [e["field"] for e in unknown.json()["errors"]] == ["format"]

    assert other_api.get(f"{acme.invoice(invoice['id'])}/einvoice?format=facturx").status == 404
    assert acme.api.get(f"{acme.base}/invoices/inv_nope/einvoice?format=facturx").status == 404
    assert acme.api.get(f"{acme.base}/credit_notes/cn_nope/einvoice?format=facturx").status == 404


def test_a_credit_note_refused_by_the_rules_is_not_numbered_and_a_valid_one_keeps_its_report(
    acme: Billing, validator: JudgingValidator
) -> None:
    customer = acme.new_customer(**GERMAN_PUBLIC, buyer_reference="04011000-12345-67")
    invoice = acme.api.post(f"{acme.invoice(draft_for(acme, customer)['id'])}/finalize").json()
    body = {
        "lines": [{"invoice_line_id": invoice["line_items"][0]["id"], "quantity": "1"}],
        "reason": "order_change",
    }

    validator.fail = _rule("BR-CO-26", "VAT identifier missing")
    refused = acme.api.post(f"{acme.invoice(invoice['id'])}/credit_notes", body)

    assert refused.status == 422, refused.body
    assert refused.json()["errors"] == [
        {"field": "organisation.legal.vat_id", "rule": "BR-CO-26", "message": "VAT identifier missing"}
    ]
    assert acme.api.get(f"{acme.base}/credit_notes").json()["data"] == []
    assert acme.get(invoice["id"])["amount_due"] == invoice["amount_due"]

    validator.fail = None
    issued = acme.api.post(f"{acme.invoice(invoice['id'])}/credit_notes", body)
    assert issued.status == 201, issued.body
    note = issued.json()
    assert note["number"].endswith("00001")
    assert (note["einvoice"]["format"], note["einvoice"]["valid"]) == ("xrechnung_cii", True)

    download = acme.api.get(f"{acme.base}/credit_notes/{note['id']}/einvoice")
    assert download.status == 200, download.body
    assert download.content_type == "application/xml"
    assert b'type="381"' in download.body
    assert number_in(download.body) == note["number"]


def test_a_bulk_run_records_the_refused_customer_as_an_error_and_issues_the_others(acme: Billing) -> None:
    refused = acme.new_customer(**GERMAN_PUBLIC)
    fine = acme.new_customer(**{**GERMAN_PUBLIC, "name": "Land Beispiel", "buyer_reference": "991-12345-06"})

    response = acme.api.post(
        f"{acme.base}/billing",
        {
            "customer_ids": [refused, fine, acme.customer],
            "line_items": [{"description": "Jahresbeitrag", "unit_amount": 12000}],
            "currency": "EUR",
            "days_until_due": 14,
        },
    )
    assert response.status == 202, response.body
    BillingQueue().drain()

    run = acme.api.get(f"{acme.base}/billing_runs/{response.json()['id']}").json()
    assert run["status"] == "completed_with_errors"
    assert run["invoices_created"] == 2
    assert [error["customer_id"] for error in run["errors"]] == [refused]
    assert "BR-DE-15 (customer.buyer_reference)" in run["errors"][0]["detail"]
    invoices = [acme.get(invoice_id) for invoice_id in run["invoice_ids"]]
    assert sorted(i["customer_id"] for i in invoices) == sorted([fine, acme.customer])
    assert sorted(i["number"] for i in invoices) == ["ACME-00001", "ACME-00002"]


def _rule(rule: str, message: str) -> Any:
    from remit.domain.einvoices import FailedRule

    return FailedRule(rule=rule, message=message)


def test_a_bulk_run_waits_for_a_validator_that_cannot_be_reached_instead_of_recording_an_error(
    acme: Billing, validator: JudgingValidator
) -> None:
    customer = acme.new_customer(**{**GERMAN_PUBLIC, "buyer_reference": "991-12345-06"})
    response = acme.api.post(
        f"{acme.base}/billing",
        {
            "customer_ids": [customer],
            "line_items": [{"description": "Jahresbeitrag", "unit_amount": 12000}],
            "currency": "EUR",
            "days_until_due": 14,
        },
    )
    run_path = f"{acme.base}/billing_runs/{response.json()['id']}"
    queue = BillingQueue()

    validator.unreachable = True
    failed = queue.deliver()

    assert len(failed) == 1  # the message goes back to the queue
    run = acme.api.get(run_path).json()
    assert (run["status"], run["errors"], run["invoice_ids"]) == ("pending", [], [])
    assert next_number(acme) == 1

    validator.unreachable = False
    queue.drain()
    run = acme.api.get(run_path).json()
    assert (run["status"], run["invoices_created"], run["errors"]) == ("completed", 1, [])
    assert acme.get(run["invoice_ids"][0])["number"] == "ACME-00001"


def test_the_daily_cycle_records_a_refused_subscription_invoice_and_issues_the_others(
    acme: Billing, clock: SettableClock
) -> None:
    clock.set("2027-01-20T10:00:00+00:00")
    refused = acme.new_customer(**GERMAN_PUBLIC)
    subscriptions = {}
    for customer in (refused, acme.customer):
        body = {"customer_id": customer, "line_items": [{"description": "Pro", "unit_amount": 4900}]}
        created = acme.api.post(f"{acme.base}/subscriptions", {**body, "start_date": "2027-01-31"}).json()
        assert acme.api.post(f"{acme.base}/subscriptions/{created['id']}/activate").status == 200
        subscriptions[customer] = created["id"]

    run_cycle("2027-01-31")

    issued = acme.api.get(f"{acme.base}/invoices").json()["data"]
    assert [(i["customer_id"], i["number"]) for i in issued] == [(acme.customer, "ACME-00001")]
    runs = acme.api.get(f"{acme.base}/billing_runs").json()["data"]
    errors = [error for run in runs for error in run["errors"]]
    assert [(e["customer_id"], e["subscription_id"]) for e in errors] == [(refused, subscriptions[refused])]
    assert "BR-DE-15 (customer.buyer_reference)" in errors[0]["detail"]


def test_a_format_given_to_the_customer_after_the_draft_was_made_is_checked_at_finalization(
    acme: Billing,
) -> None:
    customer = acme.new_customer(**{k: v for k, v in GERMAN_PUBLIC.items() if k != "einvoice_format"})
    draft = draft_for(acme, customer)
    patched = acme.api.patch(f"{acme.base}/customers/{customer}", {"einvoice_format": "xrechnung_ubl"})
    assert patched.status == 200, patched.body

    response = acme.api.post(f"{acme.invoice(draft['id'])}/finalize")

    assert response.status == 422, response.body
    assert [e["rule"] for e in response.json()["errors"]] == ["BR-DE-15"]
    assert acme.get(draft["id"])["status"] == "draft"

"""What the customer is shown of an invoice's credit notes, through the public hosted page and the
API function: the list on the page and in the invoice PDF, and each credit note's PDF under the
invoice's link, which opens that invoice's credit notes and nothing else.

Invoices are made through the API; credit notes are read through the `CreditNoteReader` port, here
from memory (the documents never write one).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from pypdf import PdfReader

from remit import bootstrap
from remit.domain.errors import NotFound
from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.credit_notes import MemoryCreditNoteReader, a_credit_note
from tests.integration.test_pdf_invoice import text_of


@pytest.fixture
def credit_notes(aws: None) -> Iterator[MemoryCreditNoteReader]:
    reader = MemoryCreditNoteReader()
    bootstrap.use_credit_note_reader(reader)
    yield reader
    bootstrap.use_credit_note_reader(None)


@pytest.fixture
def acme(api: ApiClient, credit_notes: MemoryCreditNoteReader) -> Billing:
    return Billing(api, email="billing@acme.test")


def path_of(invoice: dict[str, Any]) -> str:
    return str(invoice["hosted_url"]).removeprefix("https://api.remit.test")


def credit_note_of(
    billing: Billing, invoice: dict[str, Any], number: str = "ACME-CN-00001", **changes: Any
) -> dict[str, Any]:
    """Fields of a credit note of `invoice` as the credit notes' service would store it."""
    fields = {
        "organisation_id": billing.org,
        "invoice_id": invoice["id"],
        "invoice_number": invoice["number"],
        "invoice_issue_date": date.fromisoformat(invoice["issue_date"]),
        "number": number,
        "credit_note_id": f"cn_{number.lower().replace('-', '')}",
    }
    return fields | changes


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-")
    return text_of(PdfReader(io.BytesIO(content)))


# --- the link opens its own invoice's credit notes only (attacks first) ---------------------------


def test_a_credit_note_of_another_invoice_is_not_found_under_this_invoices_link(
    acme: Billing, credit_notes: MemoryCreditNoteReader
) -> None:
    # Given two invoices of one organisation, and a credit note of the second
    mine, theirs = acme.finalized(), acme.finalized()
    other = credit_notes.add(a_credit_note(**credit_note_of(acme, theirs)))

    # When the first invoice's link asks for it
    response = acme.api.get(f"{path_of(mine)}/credit_notes/{other.id}.pdf", api_key=None)

    # Then it is not found, and nothing of it is shown
    assert response.status == 404
    assert other.number.encode() not in response.body
    # ...while its own invoice's link serves it
    own = acme.api.get(f"{path_of(theirs)}/credit_notes/{other.id}.pdf", api_key=None)
    assert own.status == 200


def test_a_credit_note_of_another_organisation_is_not_found_even_naming_this_invoice(
    acme: Billing, other_api: ApiClient, credit_notes: MemoryCreditNoteReader
) -> None:
    # Given a credit note of another account's organisation that claims this invoice's id
    invoice = acme.finalized()
    intruder = Billing(other_api)
    forged = credit_notes.add(
        a_credit_note(**credit_note_of(intruder, invoice, number="EVIL-CN-1", credit_note_id="cn_evil1"))
    )

    # When this invoice's link asks for it
    response = acme.api.get(f"{path_of(invoice)}/credit_notes/{forged.id}.pdf", api_key=None)

    # Then it is not found
    assert response.status == 404
    assert b"EVIL" not in response.body


@pytest.mark.parametrize(
    "tail",
    [
        "cn_unknown.pdf",  # no such credit note
        "CREDIT_NOTE_ID.pdf",  # not a credit note id
        "{id}",  # not a PDF's name
        "{id}.html",
        "..%2F..%2Fpdf.pdf",
        "{id}.pdf.pdf",
    ],
)
def test_anything_but_a_credit_notes_pdf_name_under_the_link_is_not_found(
    acme: Billing, credit_notes: MemoryCreditNoteReader, tail: str
) -> None:
    invoice = acme.finalized()
    note = credit_notes.add(a_credit_note(**credit_note_of(acme, invoice)))

    response = acme.api.get(f"{path_of(invoice)}/credit_notes/{tail.format(id=note.id)}", api_key=None)

    assert response.status == 404


def test_an_unknown_link_serves_no_credit_note(acme: Billing, credit_notes: MemoryCreditNoteReader) -> None:
    invoice = acme.finalized()
    note = credit_notes.add(a_credit_note(**credit_note_of(acme, invoice)))

    response = acme.api.get(f"/i/{'x' * 43}/credit_notes/{note.id}.pdf", api_key=None)

    assert response.status == 404


def test_the_accounts_credit_note_pdf_is_served_to_it_and_to_no_other_account(
    acme: Billing, other_api: ApiClient, credit_notes: MemoryCreditNoteReader
) -> None:
    invoice = acme.finalized()
    note = credit_notes.add(a_credit_note(**credit_note_of(acme, invoice)))
    documents = bootstrap.services().documents
    owner = bootstrap.services().accounts.account_for_key(str(acme.api.api_key))
    intruder = bootstrap.services().accounts.account_for_key(str(other_api.api_key))
    assert owner
    assert intruder

    file_name, content = documents.credit_note_pdf(owner, acme.org, note.id)

    assert file_name == "ACME-CN-00001.pdf"
    assert "CREDIT NOTE" in pdf_text(content)
    with pytest.raises(NotFound):
        documents.credit_note_pdf(intruder, acme.org, note.id)
    with pytest.raises(NotFound):
        documents.credit_note_pdf(owner, acme.org, "cn_unknown")


# --- what the customer sees ------------------------------------------------------------------------


def test_the_hosted_credit_note_pdf_is_the_credit_note_of_the_invoice(
    acme: Billing, credit_notes: MemoryCreditNoteReader
) -> None:
    invoice = acme.finalized()
    note = credit_notes.add(a_credit_note(**credit_note_of(acme, invoice), reason="duplicate"))

    response = acme.api.get(f"{path_of(invoice)}/credit_notes/{note.id}.pdf", api_key=None)

    assert response.status == 200
    assert response.content_type == "application/pdf"
    assert 'filename="ACME-CN-00001.pdf"' in response.headers["Content-Disposition"]
    text = pdf_text(response.body)
    assert "CREDIT NOTE" in text
    assert invoice["number"] in text
    assert "Duplicate invoice" in text
    assert "Acme Ltd" in text


def test_the_hosted_page_lists_the_invoices_credit_notes_with_a_pdf_each_void_ones_marked(
    acme: Billing, credit_notes: MemoryCreditNoteReader
) -> None:
    # Given an invoice with an issued and a void credit note, and another invoice's credit note
    invoice, other_invoice = acme.finalized(), acme.finalized()
    issued = credit_notes.add(a_credit_note(**credit_note_of(acme, invoice), total=1230))
    second = credit_note_of(acme, invoice, number="ACME-CN-00002")
    void = credit_notes.add(a_credit_note(**second, status="void"))
    credit_notes.add(a_credit_note(**credit_note_of(acme, other_invoice, number="ACME-CN-00003")))

    # When the customer opens the invoice's page
    page = acme.api.get(path_of(invoice), api_key=None).body.decode()

    # Then both of its credit notes are listed, with their date, total and status, and a PDF each
    assert "Credit notes" in page
    assert "ACME-CN-00001" in page
    assert "<s>ACME-CN-00002</s>" in page
    assert "ACME-CN-00003" not in page
    assert "14 April 2026" in page
    assert "€12.30" in page
    assert ">Issued</span>" in page
    assert ">Void</span>" in page
    for note in (issued, void):
        assert f'href="{invoice["hosted_url"]}/credit_notes/{note.id}.pdf"' in page


def test_an_invoice_without_credit_notes_shows_none_on_its_page_or_pdf(
    acme: Billing, credit_notes: MemoryCreditNoteReader
) -> None:
    invoice = acme.finalized()

    page = acme.api.get(path_of(invoice), api_key=None).body.decode()
    pdf = pdf_text(acme.api.get(f"{path_of(invoice)}/pdf", api_key=None).body)

    assert "Credit note" not in page
    assert "credit_notes" not in page
    assert "Credit note" not in pdf


def test_the_invoice_pdf_lists_its_credit_notes_and_is_drawn_again_when_one_is_issued_or_voided(
    acme: Billing, credit_notes: MemoryCreditNoteReader
) -> None:
    # Given an invoice whose PDF was drawn before any credit note
    invoice = acme.finalized()
    before = pdf_text(acme.api.get(f"{path_of(invoice)}/pdf", api_key=None).body)
    assert "CREDIT NOTES" not in before

    # When a credit note is issued, then voided
    fields = credit_note_of(acme, invoice)
    credit_notes.add(a_credit_note(**fields))
    issued = pdf_text(acme.api.get(f"{path_of(invoice)}/pdf", api_key=None).body)
    credit_notes.add(a_credit_note(**fields, status="void"))
    voided = pdf_text(acme.api.get(f"{path_of(invoice)}/pdf", api_key=None).body)

    # Then the invoice's PDF lists it each time as it stands
    assert "CREDIT NOTES" in issued
    assert "ACME-CN-00001" in issued
    assert "14 April 2026" in issued
    assert "Issued" in issued
    assert "Void" in voided
    assert "Issued" not in voided


def test_markup_in_a_credit_notes_number_is_escaped_on_the_hosted_page(
    acme: Billing, credit_notes: MemoryCreditNoteReader
) -> None:
    invoice = acme.finalized()
    credit_notes.add(a_credit_note(**credit_note_of(acme, invoice, number="<script>alert(1)</script>")))

    page = acme.api.get(path_of(invoice), api_key=None).body.decode()

    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_hosted_page_of_a_german_customer_lists_gutschriften(
    acme: Billing, credit_notes: MemoryCreditNoteReader
) -> None:
    acme.customer = acme.new_customer(preferred_locale="de-DE")
    invoice = acme.finalized()
    credit_notes.add(a_credit_note(**credit_note_of(acme, invoice)))

    page = acme.api.get(path_of(invoice), api_key=None).body.decode()

    assert "Gutschriften" in page
    assert "Ausgestellt" in page
    assert "14. April 2026" in page

"""`/v1/organisations/{organisation_id}/…/credit_notes` and `…/refunds`: issue, preview, read, list
and void credit notes; list refunds."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from api.http import (
    DEFAULT_LIMIT,
    Cursor,
    Limit,
    account_id,
    answered,
    caller_services,
    json_response,
    page_response,
    request_of,
)
from api.routes.hosted import pdf_response
from remit.domain.answers import CreditNote, CreditNotePreview
from remit.domain.credit_notes import NewCreditNote
from remit.domain.pagination import ListResponse
from remit.domain.refunds import Refund

router = APIGatewayRouter()
OF_INVOICE = "/<organisation_id>/invoices/<invoice_id>/credit_notes"
CREDIT_NOTE = "/<organisation_id>/credit_notes/<credit_note_id>"


@router.post(
    OF_INVOICE,
    summary="Issue a credit note on an invoice",
    description=(
        "Numbered at once in the organisation's credit note series. The credited total first lowers "
        "the invoice's amount due; the rest must equal `refund_amount + credit_amount + "
        "out_of_band_amount` exactly. Only on `open`, `paid` and `uncollectible` invoices."
    ),
)
def issue_credit_note(
    organisation_id: str, invoice_id: str, new: Annotated[NewCreditNote, Body()]
) -> Response[CreditNote]:
    note = caller_services(router).credit_notes.issue(
        account_id(router), organisation_id, invoice_id, new, request_of(router)
    )
    return json_response(201, CreditNote.of(note))


@router.post(f"{OF_INVOICE}/preview", summary="Preview a credit note (nothing is stored)")
def preview_credit_note(
    organisation_id: str, invoice_id: str, new: Annotated[NewCreditNote, Body()]
) -> Response[CreditNotePreview]:
    note, invoice = caller_services(router).credit_notes.preview(
        account_id(router), organisation_id, invoice_id, new
    )
    shown = {name: getattr(note, name) for name in CreditNotePreview.model_fields if hasattr(note, name)}
    preview = CreditNotePreview.model_construct(
        **shown, invoice_amount_due=invoice.amount_due, invoice_credited_amount=invoice.credited_amount
    )
    return json_response(200, preview)


@router.get(OF_INVOICE, summary="List an invoice's credit notes")
def invoice_credit_notes(
    organisation_id: str, invoice_id: str, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Response[ListResponse[CreditNote]]:
    page = caller_services(router).credit_notes.of_invoice(
        account_id(router), organisation_id, invoice_id, limit, cursor
    )
    return page_response(answered(page, CreditNote.of))


@router.get("/<organisation_id>/credit_notes", summary="List credit notes")
def list_credit_notes(
    organisation_id: str,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    customer_id: Annotated[str | None, Query()] = None,
    invoice_id: Annotated[str | None, Query()] = None,
) -> Response[ListResponse[CreditNote]]:
    page = caller_services(router).credit_notes.list_credit_notes(
        account_id(router), organisation_id, limit, cursor, invoice_id, customer_id
    )
    return page_response(answered(page, CreditNote.of))


@router.get(CREDIT_NOTE, summary="Retrieve a credit note")
def get_credit_note(organisation_id: str, credit_note_id: str) -> Response[CreditNote]:
    note = caller_services(router).credit_notes.get(account_id(router), organisation_id, credit_note_id)
    return json_response(200, CreditNote.of(note))


@router.get(
    f"{CREDIT_NOTE}/pdf",
    summary="The credit note as a PDF",
    enable_validation=False,
    responses={200: {"description": "The PDF", "content": {"application/pdf": {}}}},
)
def credit_note_pdf(organisation_id: str, credit_note_id: str) -> Response[Any]:
    file_name, content = caller_services(router).documents.credit_note_pdf(
        account_id(router), organisation_id, credit_note_id
    )
    return pdf_response(file_name, content)


@router.post(
    f"{CREDIT_NOTE}/void",
    summary="Void a credit note",
    description=(
        "Only while its effects can be undone: nothing of it was refunded or settled out of band, and "
        "the credit it gave is unspent. The invoice's amount due is restored; the number stays used."
    ),
)
def void_credit_note(organisation_id: str, credit_note_id: str) -> Response[CreditNote]:
    note = caller_services(router).credit_notes.void(account_id(router), organisation_id, credit_note_id)
    return json_response(200, CreditNote.of(note))


@router.get("/<organisation_id>/refunds", summary="List refunds")
def list_refunds(
    organisation_id: str,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    payment_id: Annotated[str | None, Query()] = None,
    invoice_id: Annotated[str | None, Query()] = None,
) -> Response[ListResponse[Refund]]:
    page = caller_services(router).credit_notes.list_refunds(
        account_id(router), organisation_id, limit, cursor, payment_id, invoice_id
    )
    return page_response(page)

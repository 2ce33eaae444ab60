"""`/v1/organisations/{organisation_id}/invoices`: drafts, edits, actions, payments, timeline."""

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
    no_content,
    page_response,
    public_base_url,
    request_of,
)
from api.routes.hosted import pdf_response
from remit.domain.answers import Invoice, Payment
from remit.domain.invoice import InvoiceChanges, InvoiceEvent, InvoiceStatus, NewInvoice
from remit.domain.pagination import ListResponse, Page
from remit.domain.payment import NewOfflinePayment

router = APIGatewayRouter()
INVOICE = "/<organisation_id>/invoices/<invoice_id>"


@router.post("/<organisation_id>/invoices", summary="Create a draft invoice")
def create_invoice(organisation_id: str, new: Annotated[NewInvoice, Body()]) -> Response[Invoice]:
    return json_response(
        201,
        Invoice.of(caller_services(router).invoices.create_draft(account_id(router), organisation_id, new)),
    )


@router.get("/<organisation_id>/invoices", summary="List invoices")
def list_invoices(
    organisation_id: str,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    status: Annotated[InvoiceStatus | None, Query()] = None,
    customer_id: Annotated[str | None, Query()] = None,
) -> Response[ListResponse[Invoice]]:
    page = caller_services(router).invoices.list_invoices(
        account_id(router), organisation_id, limit, cursor, status, customer_id
    )
    return page_response(answered(page, Invoice.of))


@router.get(INVOICE, summary="Retrieve an invoice")
def get_invoice(organisation_id: str, invoice_id: str) -> Response[Invoice]:
    return json_response(
        200, Invoice.of(caller_services(router).invoices.get(account_id(router), organisation_id, invoice_id))
    )


@router.patch(INVOICE, summary="Edit a draft invoice")
def update_invoice(
    organisation_id: str, invoice_id: str, changes: Annotated[InvoiceChanges, Body()]
) -> Response[Invoice]:
    invoice = caller_services(router).invoices.update_draft(
        account_id(router), organisation_id, invoice_id, changes
    )
    return json_response(200, Invoice.of(invoice))


@router.delete(INVOICE, summary="Delete a draft invoice")
def delete_invoice(organisation_id: str, invoice_id: str) -> Response[None]:
    caller_services(router).invoices.delete_draft(account_id(router), organisation_id, invoice_id)
    return no_content()


@router.post(f"{INVOICE}/finalize", summary="Finalize: number, lock and open the invoice")
def finalize_invoice(organisation_id: str, invoice_id: str) -> Response[Invoice]:
    invoice = caller_services(router).invoice_lifecycle.finalize(
        account_id(router), organisation_id, invoice_id, public_base_url(router), request_of(router)
    )
    return json_response(200, Invoice.of(invoice))


@router.post(f"{INVOICE}/send", summary="Email the invoice to the customer (finalizing a draft first)")
def send_invoice(organisation_id: str, invoice_id: str) -> Response[Invoice]:
    invoice = caller_services(router).sending.send(
        account_id(router), organisation_id, invoice_id, public_base_url(router)
    )
    return json_response(200, Invoice.of(invoice))


@router.get(
    f"{INVOICE}/pdf",
    summary="The invoice as a PDF (finalized invoices)",
    enable_validation=False,
    responses={200: {"description": "The PDF", "content": {"application/pdf": {}}}},
)
def invoice_pdf(organisation_id: str, invoice_id: str) -> Response[Any]:
    file_name, content = caller_services(router).documents.pdf(
        account_id(router), organisation_id, invoice_id
    )
    return pdf_response(file_name, content)


@router.post(
    f"{INVOICE}/charge",
    summary="Attempt card: charge the customer's saved card for the amount due",
    description="Answers `202` with the invoice as it is now; the outcome arrives by webhook.",
    responses={202: {"description": "The charge was started"}},
)
def attempt_card(organisation_id: str, invoice_id: str) -> Response[Invoice]:
    invoice = caller_services(router).card_payments.attempt_card(
        account_id(router), organisation_id, invoice_id
    )
    return json_response(202, Invoice.of(invoice))


@router.post(f"{INVOICE}/void", summary="Void an open or uncollectible invoice")
def void_invoice(organisation_id: str, invoice_id: str) -> Response[Invoice]:
    return json_response(
        200,
        Invoice.of(
            caller_services(router).invoice_lifecycle.void(account_id(router), organisation_id, invoice_id)
        ),
    )


@router.post(f"{INVOICE}/mark_uncollectible", summary="Mark an open invoice uncollectible")
def mark_uncollectible(organisation_id: str, invoice_id: str) -> Response[Invoice]:
    invoice = caller_services(router).invoice_lifecycle.mark_uncollectible(
        account_id(router), organisation_id, invoice_id
    )
    return json_response(200, Invoice.of(invoice))


@router.post(f"{INVOICE}/payments", summary="Record an offline payment")
def record_payment(
    organisation_id: str, invoice_id: str, new: Annotated[NewOfflinePayment, Body()]
) -> Response[Payment]:
    _, payment = caller_services(router).payments.record_offline_payment(
        account_id(router), organisation_id, invoice_id, new, request_of(router)
    )
    return json_response(201, Payment.of(payment))


@router.get(f"{INVOICE}/events", summary="The invoice's timeline")
def invoice_events(organisation_id: str, invoice_id: str) -> Response[ListResponse[InvoiceEvent]]:
    events = caller_services(router).invoices.events(account_id(router), organisation_id, invoice_id)
    return page_response(Page(events, None))


@router.get("/<organisation_id>/payments", summary="List payments")
def list_payments(
    organisation_id: str,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    invoice_id: Annotated[str | None, Query()] = None,
    customer_id: Annotated[str | None, Query()] = None,
) -> Response[ListResponse[Payment]]:
    page = caller_services(router).payments.list_payments(
        account_id(router), organisation_id, limit, cursor, invoice_id, customer_id
    )
    return page_response(answered(page, Payment.of))

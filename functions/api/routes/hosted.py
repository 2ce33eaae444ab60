"""The public hosted invoice page `/i/{token}`, its PDF and its credit notes' PDFs: no API key, the
long token is the key.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from api.http import upload_response
from remit.bootstrap import services
from remit.domain.card_payments import checkout_notice
from remit.domain.errors import Conflict, NotFound

router = APIGatewayRouter()

# The page holds no script; it loads images (the logo) and posts only to itself (card checkout).
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; "
        "form-action 'self' https:; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def pdf_response(file_name: str, content: bytes) -> Response[Any]:
    return Response(
        status_code=200,
        content_type="application/pdf",
        body=content,
        headers={
            "Content-Disposition": f'inline; filename="{file_name}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/i/<token>", include_in_schema=False, enable_validation=False)
def hosted_invoice_page(token: str) -> Response[Any]:
    documents = services().documents
    notice = checkout_notice(router.current_event.get_query_string_value("checkout"))
    try:
        page = documents.hosted_page(token, notice)
    except NotFound:
        return Response(404, "text/html; charset=utf-8", documents.not_found_page(), headers=PAGE_HEADERS)
    return Response(200, "text/html; charset=utf-8", page, headers=PAGE_HEADERS)


@router.get("/i/<token>/pdf", include_in_schema=False, enable_validation=False)
def hosted_invoice_pdf(token: str) -> Response[Any]:
    file_name, content = services().documents.hosted_pdf(token)
    return pdf_response(file_name, content)


@router.get("/i/<token>/credit_notes/<file_name>", include_in_schema=False, enable_validation=False)
def hosted_credit_note_pdf(token: str, file_name: str) -> Response[Any]:
    """A credit note of the invoice the token opens, as `<credit note id>.pdf`; any other is not found."""
    credit_note_id = file_name.removesuffix(".pdf")
    if credit_note_id == file_name:
        raise NotFound("credit note", "(link)")
    return pdf_response(*services().documents.hosted_credit_note_pdf(token, credit_note_id))


@router.get("/i/<token>/logo", include_in_schema=False, enable_validation=False)
def hosted_invoice_logo(token: str) -> Response[Any]:
    """The logo the invoice was issued with, for its page and emails (not the organisation's current one)."""
    return upload_response(*services().documents.hosted_logo(token))


@router.post("/i/<token>/checkout", include_in_schema=False, enable_validation=False)
def start_card_checkout(token: str) -> Response[Any]:
    """The page's "Pay by card" form: off to the provider's checkout (303), or the page with why not."""
    try:
        checkout = services().card_payments.start_checkout(token)
    except NotFound:
        page = services().documents.not_found_page()
        return Response(404, "text/html; charset=utf-8", page, headers=PAGE_HEADERS)
    except Conflict as refused:
        page = services().documents.hosted_page(token, refused.detail)
        return Response(409, "text/html; charset=utf-8", page, headers=PAGE_HEADERS)
    return Response(303, headers={"Location": checkout.url, "Cache-Control": "no-store"})

"""`…/invoices/{id}/einvoice` and `…/credit_notes/{id}/einvoice`: the e-invoice, validated, to download."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from api.http import account_id, caller_services
from remit.domain.einvoices import Einvoice, EinvoiceFormat, einvoice_format_named

router = APIGatewayRouter()

FormatQuery = Annotated[
    EinvoiceFormat | None,
    Query(
        description="`facturx` (the PDF/A-3 with its CII XML), `xrechnung_cii`, `xrechnung_ubl` or "
        "`peppol_ubl` (the XML); without it, the customer's `einvoice_format`."
    ),
]
VALID_HEADER = "Remit-Einvoice-Valid"
_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {
        "description": f"The e-invoice; `{VALID_HEADER}: true|false` says whether it passed every rule.",
        "content": {
            "application/xml": {"schema": {"type": "string"}},
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
        },
        "headers": {VALID_HEADER: {"schema": {"type": "string", "enum": ["true", "false"]}}},
    },
}


def requested_format() -> EinvoiceFormat | None:
    """The `format` asked for. The routes answer bytes, so they skip the resolver's validation (which
    would serialize the answer as text); the query, declared in their signatures for the OpenAPI
    document, is read and checked here."""
    return einvoice_format_named(router.current_event.get_query_string_value("format"))


def einvoice_response(einvoice: Einvoice) -> Response[Any]:
    return Response(
        status_code=200,
        content_type=einvoice.media_type,
        body=einvoice.content,
        headers={
            "Content-Disposition": f'attachment; filename="{einvoice.file_name}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
            VALID_HEADER: "true" if einvoice.report.valid else "false",
        },
    )


@router.get(
    "/<organisation_id>/invoices/<invoice_id>/einvoice",
    summary="The invoice as an e-invoice (EN 16931), validated",
    responses=_RESPONSES,
    enable_validation=False,
)
def invoice_einvoice(organisation_id: str, invoice_id: str, format: FormatQuery = None) -> Response[Any]:
    einvoice = caller_services(router).einvoices.invoice_einvoice(
        account_id(router), organisation_id, invoice_id, requested_format()
    )
    return einvoice_response(einvoice)


@router.get(
    "/<organisation_id>/credit_notes/<credit_note_id>/einvoice",
    summary="The credit note as an e-invoice (EN 16931), validated",
    responses=_RESPONSES,
    enable_validation=False,
)
def credit_note_einvoice(
    organisation_id: str, credit_note_id: str, format: FormatQuery = None
) -> Response[Any]:
    einvoice = caller_services(router).einvoices.credit_note_einvoice(
        account_id(router), organisation_id, credit_note_id, requested_format()
    )
    return einvoice_response(einvoice)

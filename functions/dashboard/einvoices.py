"""E-invoice downloads as the dashboard answers them: the same bytes and headers as the API's."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from dashboard.page_request import PageRequest
from dashboard.rendering import download
from remit.domain.einvoices import Einvoice, EinvoiceFormat, einvoice_format_named
from remit.domain.errors import EinvoiceRefused

VALID_HEADER = "Remit-Einvoice-Valid"


def einvoice_format_asked(request: PageRequest) -> EinvoiceFormat | None:
    """The `format` of the query (None: the customer's); `InvalidInput` naming `format` otherwise."""
    return einvoice_format_named(request.query.get("format"))


def einvoice_download(einvoice: Einvoice) -> Response[bytes]:
    valid = "true" if einvoice.report.valid else "false"
    return download(einvoice.content, einvoice.media_type, einvoice.file_name, headers={VALID_HEADER: valid})


def einvoice_refusal(refused: EinvoiceRefused) -> list[str]:
    """A refused e-invoice in plain words: what happened, then each rule and the field to fix."""
    lines = [
        f"Its {refused.einvoice_format} e-invoice would break the format's rules, so nothing was issued."
    ]
    for rule in refused.failed_rules:
        fix = f" (fix {rule.field.replace('_', ' ').replace('.', ' ')})" if rule.field else ""
        lines.append(f"{rule.rule}: {rule.message}{fix}")
    return lines

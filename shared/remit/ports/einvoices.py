"""Writing an e-invoice and validating it against the official rules."""

from __future__ import annotations

from typing import Protocol

from remit.domain.einvoice_documents import EinvoiceDocument
from remit.domain.einvoices import EinvoiceFormat, ValidationReport


class EinvoiceWriter(Protocol):
    def xml(self, document: EinvoiceDocument, einvoice_format: EinvoiceFormat) -> bytes:
        """The document in the format's syntax (CII for `facturx` and `xrechnung_cii`, UBL otherwise)."""
        ...

    def facturx_pdf(self, pdf: bytes, xml: bytes, document: EinvoiceDocument) -> bytes:
        """A PDF/A-3 of `pdf` (an invoice PDF as Remit renders it) with `xml` embedded as Factur-X."""
        ...


class EinvoiceValidator(Protocol):
    def validate(self, einvoice_format: EinvoiceFormat, document: bytes) -> ValidationReport:
        """Check `document` (the XML) with the XSD, then EN 16931, then the format's own rules.

        Raises `DocumentUnavailable` when the validator cannot be reached; a document that breaks
        rules is a report with `valid: false`, never an exception.
        """
        ...

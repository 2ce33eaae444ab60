"""Invoice and credit note PDFs, the hosted page, and organisations' logos."""

from __future__ import annotations

from typing import Protocol

from remit.domain.document_renders import RenderAttempt
from remit.domain.documents import CreditNoteDocument, InvoiceDocument
from remit.domain.logos import PreparedLogo


class LogoStore(Protocol):
    def put_logo(self, organisation_id: str, logo: PreparedLogo) -> str:
        """Store the logo and return the key it is kept under (the same logo, the same key). Stored
        logos are never deleted: issued documents keep showing theirs.
        """
        ...

    def get_logo(self, key: str) -> tuple[bytes, str] | None:
        """The image bytes and content type, or None when there is no such logo."""
        ...


class LogoImages(Protocol):
    def prepare(self, content: bytes, content_type: str) -> PreparedLogo:
        """The upload as the logo to store: pixels drawn from it (PNG, or JPEG for a JPEG), fitted into
        `LOGO_BOX`. Raises `UnusableLogo`, saying why, for bytes that are not an image of
        `content_type`, an image over `MAX_UPLOAD_PIXELS`, or an SVG that cannot be drawn safely.
        """
        ...


class InvoicePdfRenderer(Protocol):
    def render(self, document: InvoiceDocument, logo: tuple[bytes, str] | None) -> bytes:
        """The invoice as a PDF (A4): branding, parties, lines, totals, instructions, PAID/VOID mark."""
        ...


class CreditNotePdfRenderer(Protocol):
    def render(self, document: CreditNoteDocument, logo: tuple[bytes, str] | None) -> bytes:
        """The credit note as a PDF (A4), titled as one, in the invoice's branding; VOID mark when void.
        Raises `UnrenderableText` when no font can draw some of its characters.
        """
        ...


class HostedPageRenderer(Protocol):
    def invoice_page(self, document: InvoiceDocument, notice: str | None = None) -> str:
        """The public hosted invoice page (HTML), with an optional notice (e.g. a declined card), listing
        the invoice's credit notes with a link to each one's PDF when it has some.
        """
        ...

    def not_found_page(self) -> str: ...


class DocumentStore(Protocol):
    def put_pdf(self, organisation_id: str, invoice_id: str, revision: str, content: bytes) -> None: ...

    def get_pdf(self, organisation_id: str, invoice_id: str, revision: str) -> bytes | None: ...

    def put_render_attempt(
        self, organisation_id: str, invoice_id: str, revision: str, attempt: RenderAttempt
    ) -> None:
        """Record the latest render of the revision's PDF (started, or failed)."""
        ...

    def get_render_attempt(
        self, organisation_id: str, invoice_id: str, revision: str
    ) -> RenderAttempt | None: ...

"""What customers see: the invoice PDF, the public hosted invoice page, and the PDFs of the credit
notes that correct an invoice.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence

from aws_lambda_powertools.metrics import MetricUnit

from remit.domain.credit_notes import CreditNote
from remit.domain.document_renders import DIED, RenderAttempt
from remit.domain.documents import CreditNoteDocument, InvoiceDocument
from remit.domain.errors import Conflict, DocumentUnavailable, NotFound, UnrenderableText
from remit.domain.invoice import Invoice
from remit.domain.organisation import Organisation
from remit.observability import logger, metrics
from remit.ports.credit_notes import CreditNoteReader
from remit.ports.documents import (
    CreditNotePdfRenderer,
    DocumentStore,
    HostedPageRenderer,
    InvoicePdfRenderer,
    LogoStore,
)
from remit.services.billing_context import BillingContext, today_in

# What a credit note id looks like in a public address (`/i/{token}/credit_notes/{id}.pdf`).
_CREDIT_NOTE_ID = re.compile(r"^cn_[A-Za-z0-9_-]{1,64}$")


def _revision(invoice: Invoice, credit_notes: Sequence[CreditNote] = ()) -> str:
    """What the PDF shows that can change after finalization: the status mark, the amounts paid, and
    the credit notes it lists (each one's status: a void one is marked so).
    """
    revision = f"{invoice.status}-{invoice.amount_paid}"
    if not credit_notes:
        return revision
    listed = ",".join(f"{note.id}:{note.status}" for note in credit_notes)
    return f"{revision}-cn{hashlib.sha256(listed.encode()).hexdigest()[:16]}"


def _credit_note_revision(credit_note: CreditNote) -> str:
    """A credit note's PDF, kept beside its invoice's: it changes only when it is voided."""
    return f"credit-note-{credit_note.id}-{credit_note.status}"


def _unavailable(invoice: Invoice, failed: RenderAttempt) -> str:
    when = failed.ended_at.isoformat(timespec="seconds") if failed.ended_at else "recently"
    return (
        f"The PDF of invoice {invoice.number} could not be produced ({when}); the failure is recorded "
        "and we are alerted. It is tried again once the Retry-After time has passed."
    )


class DocumentService:
    def __init__(
        self,
        context: BillingContext,
        logos: LogoStore,
        store: DocumentStore,
        pdf_renderer: Callable[[], InvoicePdfRenderer],
        page_renderer: Callable[[], HostedPageRenderer],
        credit_notes: CreditNoteReader,
        credit_note_pdf_renderer: Callable[[], CreditNotePdfRenderer],
    ) -> None:
        self._context = context
        self._billing = context.billing
        self._logos = logos
        self._store = store
        # Factories: fpdf2 and Jinja2 are imported only by requests that render.
        self._pdf_renderer = pdf_renderer
        self._page_renderer = page_renderer
        self._credit_notes = credit_notes
        self._credit_note_pdf_renderer = credit_note_pdf_renderer

    def document(
        self, invoice: Invoice, organisation: Organisation, credit_notes: Sequence[CreditNote] | None = None
    ) -> InvoiceDocument:
        """The invoice as the customer is shown it today (with `overdue` as of the organisation's day),
        listing its credit notes (read when not given).
        """
        if credit_notes is None:
            credit_notes = self._credit_notes.of_invoice(organisation.id, invoice.id)
        seen = invoice.as_seen_on(today_in(invoice.timezone, self._context.clock.now()))
        return InvoiceDocument.of(seen, organisation, credit_notes)

    def logo(self, invoice: Invoice, organisation: Organisation) -> tuple[bytes, str] | None:
        """The logo the invoice's documents show (the one it was issued with), read from the store."""
        key = invoice.logo_shown(organisation.branding.logo_key)
        return self._logos.get_logo(key) if key else None

    def pdf(self, account_id: str, organisation_id: str, invoice_id: str) -> tuple[str, bytes]:
        """The finalized invoice's PDF and its file name; `Conflict` for a draft (it has none)."""
        organisation, invoice, _ = self._billing.read_for_billing(organisation_id, invoice_id=invoice_id)
        organisation, invoice = self._context.owned(
            account_id, organisation_id, organisation, invoice, invoice_id
        )
        if invoice.status == "draft":
            raise Conflict("A draft has no PDF yet: finalize the invoice first.")
        return self.pdf_of(invoice, organisation)

    def pdf_of(self, invoice: Invoice, organisation: Organisation) -> tuple[str, bytes]:
        """The PDF of the invoice as it now stands (stored, or rendered and stored) and its file name.

        Raises what `render_and_store` raises.
        """
        credit_notes = self._credit_notes.of_invoice(organisation.id, invoice.id)
        stored = self._store.get_pdf(organisation.id, invoice.id, _revision(invoice, credit_notes))
        if stored is None:
            stored = self._render_and_store(invoice, organisation, credit_notes)
        return f"{invoice.number}.pdf", stored

    def render_and_store(self, invoice: Invoice, organisation: Organisation) -> bytes:
        """Render the PDF as the invoice now stands and keep it (one per status, amount paid and
        credit notes listed).

        A render that fails is remembered (docs/documents.md, "A PDF that could not be made"): for
        an hour every request for that PDF is answered `DocumentUnavailable` at once, without
        rendering again; each failure is logged and counted (`DocumentRenderFailures`, alarmed).
        A render whose process died (out of memory or time) is known by its start, recorded first.
        Raises `UnrenderableText` when no font can draw some of its characters: nothing is stored,
        the refusal is logged and counted (`PdfRenderRefused`, alarmed: docs/documents.md).
        """
        credit_notes = self._credit_notes.of_invoice(organisation.id, invoice.id)
        return self._render_and_store(invoice, organisation, credit_notes)

    def _render_and_store(
        self, invoice: Invoice, organisation: Organisation, credit_notes: Sequence[CreditNote]
    ) -> bytes:
        revision = _revision(invoice, credit_notes)
        now = self._context.clock.now()
        attempt = self._store.get_render_attempt(organisation.id, invoice.id, revision)
        verdict = attempt.verdict(now) if attempt is not None else "render"
        if attempt is not None and verdict != "render":
            if verdict == "died":
                attempt = self._remember_failure(invoice, revision, attempt.failed(now, DIED))
            raise DocumentUnavailable(_unavailable(invoice, attempt), attempt.retry_after(now))
        if attempt is None or attempt.state != "started":
            # A render already started (by a request still running, or one that died) keeps its start.
            attempt = RenderAttempt(started_at=now)
            self._store.put_render_attempt(organisation.id, invoice.id, revision, attempt)
        # Read before the render, so that a failure to read (S3 throttled, say) is not taken for the render's.
        document = self.document(invoice, organisation, credit_notes)
        logo = self.logo(invoice, organisation)
        try:
            content = self._pdf_renderer().render(document, logo)
        except UnrenderableText as refused:
            logger.error(
                "Invoice PDF refused: no font can draw some characters",
                extra={
                    "organisation_id": organisation.id,
                    "invoice_id": invoice.id,
                    "detail": refused.detail,
                },
            )
            metrics.add_metric(name="PdfRenderRefused", unit=MetricUnit.Count, value=1)
            self._store.put_render_attempt(organisation.id, invoice.id, revision, attempt.refused(now))
            raise
        except Exception as error:
            failed = attempt.failed(now, f"{type(error).__name__}: {error}")
            failed = self._remember_failure(invoice, revision, failed, cause=error)
            raise DocumentUnavailable(_unavailable(invoice, failed), failed.retry_after(now)) from error
        self._store.put_pdf(organisation.id, invoice.id, revision, content)
        return content

    def _remember_failure(
        self, invoice: Invoice, revision: str, failed: RenderAttempt, cause: BaseException | None = None
    ) -> RenderAttempt:
        self._store.put_render_attempt(invoice.organisation_id, invoice.id, revision, failed)
        logger.error(
            "Invoice PDF could not be rendered",
            extra={
                "organisation_id": invoice.organisation_id,
                "invoice_id": invoice.id,
                "revision": revision,
                "error": failed.error,
            },
            exc_info=cause,
        )
        metrics.add_metric(name="DocumentRenderFailures", unit=MetricUnit.Count, value=1)
        return failed

    def _hosted(self, token: str) -> tuple[Invoice, Organisation]:
        found = self._billing.find_hosted(token) if 20 <= len(token) <= 100 else None
        if found is None:
            raise NotFound("invoice", "(link)")
        organisation, invoice, _ = self._billing.read_for_billing(found[0], invoice_id=found[1])
        if organisation is None or invoice is None:
            raise NotFound("invoice", "(link)")
        return invoice, organisation

    def hosted_page(self, token: str, notice: str | None = None) -> str:
        """The public page of the invoice a token opens (HTML); `NotFound` for an unknown token."""
        invoice, organisation = self._hosted(token)
        return self._page_renderer().invoice_page(self.document(invoice, organisation), notice)

    def hosted_pdf(self, token: str) -> tuple[str, bytes]:
        """The PDF of the invoice a token opens; raises what `pdf_of` raises, `NotFound` for a bad token."""
        invoice, organisation = self._hosted(token)
        return self.pdf_of(invoice, organisation)

    def hosted_logo(self, token: str) -> tuple[bytes, str]:
        """The logo of the invoice a token opens (the one it was issued with, whatever the organisation
        has since uploaded or removed). `NotFound` for a bad token or an invoice issued without a logo.
        """
        invoice, organisation = self._hosted(token)
        found = self.logo(invoice, organisation)
        if found is None:
            raise NotFound("logo", "(link)")
        return found

    def not_found_page(self) -> str:
        return self._page_renderer().not_found_page()

    # --- credit notes ---------------------------------------------------------------------------

    def credit_note_document(
        self, credit_note: CreditNote, invoice: Invoice, organisation: Organisation
    ) -> CreditNoteDocument:
        """The credit note as its customer is shown it (`ValueError` when it is not the invoice's)."""
        return CreditNoteDocument.of(credit_note, invoice, organisation)

    def credit_note_pdf(
        self, account_id: str, organisation_id: str, credit_note_id: str
    ) -> tuple[str, bytes]:
        """The credit note's PDF and its file name, for the account that owns it.

        `NotFound` for a credit note the organisation does not have, or an organisation of another
        account (nothing of either is revealed); raises what `credit_note_pdf_of` raises.
        """
        credit_note = (
            self._credit_notes.get(organisation_id, credit_note_id)
            if _CREDIT_NOTE_ID.match(credit_note_id)
            else None
        )
        invoice_id = credit_note.invoice_id if credit_note is not None else None
        organisation, invoice, _ = self._billing.read_for_billing(organisation_id, invoice_id=invoice_id)
        if organisation is None or organisation.account_id != account_id:
            raise NotFound("organisation", organisation_id)
        if credit_note is None or invoice is None:
            raise NotFound("credit note", credit_note_id)
        return self.credit_note_pdf_of(credit_note, invoice, organisation)

    def credit_note_pdf_of(
        self, credit_note: CreditNote, invoice: Invoice, organisation: Organisation
    ) -> tuple[str, bytes]:
        """The PDF of the credit note as it now stands (stored, or rendered and stored: one per status)
        and its file name. Raises `UnrenderableText` (nothing stored, logged and counted as for
        invoices) when no font can draw some of its characters, `DocumentUnavailable` when the render
        failed (logged and counted), `ValueError` when the credit note is not the invoice's.
        """
        file_name = f"{credit_note.number}.pdf"
        revision = _credit_note_revision(credit_note)
        stored = self._store.get_pdf(organisation.id, invoice.id, revision)
        if stored is not None:
            return file_name, stored
        document = self.credit_note_document(credit_note, invoice, organisation)
        logo = self.logo(invoice, organisation)
        try:
            content = self._credit_note_pdf_renderer().render(document, logo)
        except UnrenderableText as refused:
            logger.error(
                "Credit note PDF refused: no font can draw some characters",
                extra={
                    "organisation_id": organisation.id,
                    "credit_note_id": credit_note.id,
                    "detail": refused.detail,
                },
            )
            metrics.add_metric(name="PdfRenderRefused", unit=MetricUnit.Count, value=1)
            raise
        except Exception as error:
            logger.error(
                "Credit note PDF could not be rendered",
                extra={"organisation_id": organisation.id, "credit_note_id": credit_note.id},
                exc_info=error,
            )
            metrics.add_metric(name="DocumentRenderFailures", unit=MetricUnit.Count, value=1)
            detail = (
                f"The PDF of credit note {credit_note.number} could not be produced; the failure is "
                "recorded and we are alerted. Try again in a few minutes."
            )
            raise DocumentUnavailable(detail, 300) from error
        self._store.put_pdf(organisation.id, invoice.id, revision, content)
        return file_name, content

    def hosted_credit_note_pdf(self, token: str, credit_note_id: str) -> tuple[str, bytes]:
        """The PDF of a credit note of the invoice a token opens. `NotFound` for a bad token, and for a
        credit note of another invoice or organisation (the token opens its own invoice's only);
        raises what `credit_note_pdf_of` raises.
        """
        invoice, organisation = self._hosted(token)
        credit_note = (
            self._credit_notes.get(organisation.id, credit_note_id)
            if _CREDIT_NOTE_ID.match(credit_note_id)
            else None
        )
        if (
            credit_note is None
            or credit_note.invoice_id != invoice.id
            or credit_note.organisation_id != organisation.id
        ):
            raise NotFound("credit note", "(link)")
        return self.credit_note_pdf_of(credit_note, invoice, organisation)

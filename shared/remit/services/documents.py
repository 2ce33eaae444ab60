"""What customers see: the invoice PDF and the public hosted invoice page."""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.metrics import MetricUnit

from remit.domain.documents import InvoiceDocument
from remit.domain.errors import Conflict, NotFound, UnrenderableText
from remit.domain.invoice import Invoice
from remit.domain.organisation import Organisation
from remit.observability import logger, metrics
from remit.ports import DocumentStore, HostedPageRenderer, InvoicePdfRenderer, LogoStore
from remit.services.billing_context import BillingContext, today_in

LOGO_PATH = "/assets/"


def _revision(invoice: Invoice) -> str:
    """What the PDF shows that can change after finalization: the status mark and the amounts paid."""
    return f"{invoice.status}-{invoice.amount_paid}"


class DocumentService:
    def __init__(
        self,
        context: BillingContext,
        logos: LogoStore,
        store: DocumentStore,
        pdf_renderer: Callable[[], InvoicePdfRenderer],
        page_renderer: Callable[[], HostedPageRenderer],
    ) -> None:
        self._context = context
        self._billing = context.billing
        self._logos = logos
        self._store = store
        # Factories: fpdf2 and Jinja2 are imported only by requests that render.
        self._pdf_renderer = pdf_renderer
        self._page_renderer = page_renderer

    def document(self, invoice: Invoice, organisation: Organisation) -> InvoiceDocument:
        """The invoice as the customer is shown it today (with `overdue` as of the organisation's day)."""
        seen = invoice.as_seen_on(today_in(invoice.timezone, self._context.clock.now()))
        return InvoiceDocument.of(seen, organisation)

    def logo(self, organisation: Organisation) -> tuple[bytes, str] | None:
        url = organisation.branding.logo_url
        if not url or LOGO_PATH not in url:
            return None
        return self._logos.get_logo(url.split(LOGO_PATH, 1)[1])

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
        """The PDF of the invoice as it now stands (stored, or rendered and stored) and its file name."""
        stored = self._store.get_pdf(organisation.id, invoice.id, _revision(invoice))
        content = stored if stored is not None else self.render_and_store(invoice, organisation)
        return f"{invoice.number}.pdf", content

    def render_and_store(self, invoice: Invoice, organisation: Organisation) -> bytes:
        """Render the PDF as the invoice now stands and keep it (one per status and amount paid).

        Raises `UnrenderableText` when no font can draw some of its characters: nothing is stored,
        the refusal is logged and counted (`PdfRenderRefused`, alarmed: docs/documents.md).
        """
        try:
            content = self._pdf_renderer().render(
                self.document(invoice, organisation), self.logo(organisation)
            )
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
            raise
        self._store.put_pdf(organisation.id, invoice.id, _revision(invoice), content)
        return content

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
        invoice, organisation = self._hosted(token)
        return self.pdf_of(invoice, organisation)

    def not_found_page(self) -> str:
        return self._page_renderer().not_found_page()

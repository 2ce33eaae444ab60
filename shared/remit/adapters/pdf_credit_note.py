"""Credit notes as A4 PDFs, in the invoice's layout (`remit.adapters.pdf_invoice`): the same branding,
fonts, scripts and right-to-left mirroring, the same plain-text drawing of every user's text.

A credit note is titled as one in the customer's language, names the invoice it corrects and that
invoice's date, says why it was issued, lists the credited lines with their tax breakdown and totals,
and says how the credited total is settled: only the ways that carry an amount.

Control characters and bidirectional overrides in a user's text are dropped before anything is
drawn: they could only hide or reorder what the document says, never add to it.

Imported only on the paths that render a PDF; fpdf2 itself loads on the first render.
"""

from __future__ import annotations

import re
from typing import Any

from remit.adapters.document_text import long_date, plain_decimal, reason_labels, settlement_rows
from remit.adapters.pdf_invoice import CONTENT_WIDTH, INK, MARGIN, Align, BrandedPdfLayout, described
from remit.domain.documents import CreditNoteDocument

# C0 and C1 controls but line breaks and tabs, and the embeddings, overrides and isolates of the
# bidirectional algorithm (U+202A-U+202E, U+2066-U+2069).
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _inert(value: Any) -> Any:
    if isinstance(value, str):
        # A text of nothing but controls still shows that something was there.
        return _INVISIBLE.sub("", value) or ("—" if value else "")
    if isinstance(value, dict):
        return {key: _inert(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_inert(item) for item in value]
    return value


def without_invisible_controls(document: CreditNoteDocument) -> CreditNoteDocument:
    """The document with control characters and bidirectional overrides dropped from every text."""
    return CreditNoteDocument.model_validate(_inert(document.model_dump(mode="json")))


class FpdfCreditNoteRenderer:
    """`CreditNotePdfRenderer` with fpdf2: one A4 document per call, nothing shared between calls."""

    def render(self, document: CreditNoteDocument, logo: tuple[bytes, str] | None) -> bytes:
        """The credit note as PDF bytes. A logo that cannot be drawn is left out; it never fails the render.

        Raises `UnrenderableText` when no font can draw some of its characters.
        """
        layout = _CreditNoteLayout(without_invisible_controls(document))
        layout.draw(logo)
        return layout.output()


class _CreditNoteLayout(BrandedPdfLayout[CreditNoteDocument]):
    def document_name(self) -> str:
        return self._("Credit note %(number)s") % {"number": self.doc.number}

    def continued(self) -> str:
        return self._("Credit note %(number)s (continued)") % {"number": self.doc.number}

    def draw(self, logo: tuple[bytes, str] | None) -> None:
        self.pdf.add_page()
        self._header(logo, self._("CREDIT NOTE"))
        self._parties_and_details()
        self._lines()
        self._breakdown_and_totals(
            [
                (self._("Subtotal"), self.money(self.doc.subtotal), False),
                (self._("Tax"), self.money(self.doc.tax_total), False),
            ],
            (self._("Total credited"), self.doc.total),
        )
        self._tax_mentions()
        self._settlement()
        self._notes()

    def _details(self, x: float, y: float, width: float) -> float:
        doc = self.doc
        _ = self._
        rows = [
            (_("Credit note no."), doc.number),
            (_("Credit note date"), long_date(doc.issue_date, self.formats)),
            (_("Corrects invoice"), doc.invoice_number),
            (_("Invoice date"), long_date(doc.invoice_issue_date, self.formats)),
            (_("Reason"), reason_labels(_)[doc.reason]),
            (_("Currency"), doc.currency),
        ]
        return self._details_and_box(x, y, width, rows, (_("Total credited"), doc.total))

    def _lines(self) -> None:
        # A line credited by amount (or a free line) has no quantity or unit price of its own.
        rows = [
            (
                described(line.description, line.exemption_reason),
                plain_decimal(line.quantity) if line.quantity is not None else "",
                self.money(line.unit_amount) if line.unit_amount is not None else "",
                f"{plain_decimal(line.tax_rate)}%",
                self.money(line.amount),
            )
            for line in self.doc.lines
        ]
        self._line_table(rows)

    def _settlement(self) -> None:
        pdf = self.pdf
        doc = self.doc
        _ = self._
        rows = settlement_rows(doc, _)
        self._ensure_room(24 + 5 * len(rows))
        self._section_heading(_("Settlement"))
        amount_width = 40.0
        amount_align: Align = "L" if self.rtl else "R"
        for wording, amount in rows:
            self._font(8.5, colour=INK)
            if self.rtl:
                pdf.set_x(MARGIN)
                pdf.cell(amount_width, 5, self.money(amount), align=amount_align)
                pdf.cell(CONTENT_WIDTH - amount_width, 5, wording, align="R", new_x="LMARGIN", new_y="NEXT")
            else:
                pdf.cell(CONTENT_WIDTH - amount_width, 5, wording)
                pdf.cell(
                    amount_width, 5, self.money(amount), align=amount_align, new_x="LMARGIN", new_y="NEXT"
                )
        pdf.ln(2.5)
        self._online_link(_("View the invoice online:"), doc.hosted_url)

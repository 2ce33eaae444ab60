"""Invoices as A4 PDFs drawn with fpdf2 in DejaVu Sans, from the one `InvoiceDocument` view.

Scripts DejaVu Sans lacks fall back to Noto fonts, loaded only for the documents that need them, and
text no font can draw refuses the render (`remit.adapters.pdf_fonts`, docs/documents.md).

In a right-to-left language (Arabic, Hebrew) the parties, details, line table, totals and payment
rows are mirrored: labels on the right, text right-aligned. Invoice numbers, IBANs and tax ids are
still drawn exactly as stored, left to right.

Imported only on the paths that render a PDF; fpdf2 itself loads on the first render. Every text
from a user (names, descriptions, memos) is drawn as plain text: no markdown, no HTML, no
page-number aliases, and the logo may not pull in files or URLs.
"""

from __future__ import annotations

import io
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from remit.adapters.document_text import address_lines, grouped_iban, long_date, plain_decimal
from remit.adapters.localization import format_locale, text_direction, translations
from remit.adapters.money_format import format_money
from remit.adapters.pdf_fonts import PRIMARY, FontChain, cover, font_chain, register, texts_of
from remit.domain.documents import DEFAULT_BRAND_COLOUR, CreditNoteDocument, DocumentParty, InvoiceDocument

if TYPE_CHECKING:
    from fpdf import FPDF

FONT = PRIMARY
PAGE_COUNT_ALIAS = "{nb}"

Colour = tuple[int, int, int]
Align = Literal["L", "R"]
INK: Colour = (33, 37, 41)
MUTED: Colour = (108, 117, 125)
RULE: Colour = (222, 226, 230)
WHITE: Colour = (255, 255, 255)
STAMP_COLOURS: dict[str, Colour] = {"paid": (25, 135, 84), "void": (200, 35, 51)}

# A4 in millimetres; the top margin leaves room for the running head of continuation pages.
PAGE_WIDTH, PAGE_HEIGHT = 210.0, 297.0
MARGIN, TOP_MARGIN, BOTTOM_MARGIN = 16.0, 22.0, 22.0
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
LOGO_MAX_WIDTH, LOGO_MAX_HEIGHT = 60.0, 20.0


def described(description: str, exemption_reason: str | None) -> str:
    """A line's description, with the reason it carries no VAT beneath it when it has one."""
    return f"{description}\n{exemption_reason}" if exemption_reason else description


class FpdfInvoiceRenderer:
    """`InvoicePdfRenderer` with fpdf2: one A4 document per call, nothing shared between calls."""

    def render(self, document: InvoiceDocument, logo: tuple[bytes, str] | None) -> bytes:
        """The invoice as PDF bytes. A logo that cannot be drawn is left out; it never fails the render."""
        layout = _InvoiceLayout(document)
        layout.draw(logo)
        return layout.output()


class BrandedPdfLayout[DocumentT: (InvoiceDocument, CreditNoteDocument)](ABC):
    """What every document of an organisation (invoices, and the credit notes that correct them:
    `remit.adapters.pdf_credit_note`) shares: the brand band and colours, the logo or word
    mark under a title, the parties, a details column with a boxed amount, the line table, the tax
    breakdown beside the totals, the notes, and each page's running head and foot.
    """

    def __init__(self, document: DocumentT) -> None:
        self.doc: DocumentT = document
        self.brand = _hex_colour(document.brand_colour)
        light_brand = _luminance(self.brand) > 0.6
        # A pale brand colour still fills the bands, but text on it turns dark and headings stay ink.
        self.on_brand = INK if light_brand else WHITE
        self.accent = INK if light_brand else self.brand
        self.tint = _mix(self.brand, WHITE, 0.93)
        # Labels in the document's language, dates and amounts in its locale's formats.
        catalog = translations(document.locale)
        self._ = catalog.gettext
        self.formats = format_locale(document.locale)
        # Arabic and Hebrew: the layout is mirrored where reading order matters.
        self.rtl = text_direction(document.locale) == "rtl"
        self.start: Align = "R" if self.rtl else "L"
        _ = self._
        # Every character of the document is checked before anything is drawn.
        texts = dict(texts_of(document.model_dump(mode="json")))
        self.fonts: FontChain = font_chain(texts, right_to_left=self.rtl)
        self.pdf = _new_pdf(self)
        self.pdf.set_lang(document.locale)
        self.pdf.set_title(self.document_name())
        self.pdf.set_author(document.seller.name)
        self.pdf.set_subject(self.document_subject())

    @abstractmethod
    def document_name(self) -> str:
        """ "Invoice INV-7", "Credit note CN-1": the title of the file and of each page's foot."""

    def document_subject(self) -> str:
        return self.document_name()

    @abstractmethod
    def continued(self) -> str:
        """The running head of continuation pages: "Invoice INV-7 (continued)"."""

    def money(self, amount: int) -> str:
        return format_money(amount, self.doc.currency, locale=self.formats)

    # --- sections, top to bottom -----------------------------------------------------------

    def output(self) -> bytes:
        return bytes(self.pdf.output())

    def _header(self, logo: tuple[bytes, str] | None, title: str) -> None:
        pdf = self.pdf
        top = 16.0
        title_width = 72.0
        if not (logo and self._draw_logo(logo[0], MARGIN, top)):
            # Without a logo the seller's name stands in as a word mark (smaller when it is long).
            width = CONTENT_WIDTH - title_width - 10
            name = self.doc.seller.name
            self._font(16, bold=True, colour=INK)
            if pdf.get_string_width(name) > 2 * width:
                self._font(11, bold=True, colour=INK)
            pdf.set_xy(MARGIN, top + 2)
            pdf.multi_cell(width, pdf.font_size * 1.35, name, align="L")
        self._font(24, bold=True, colour=self.accent)
        pdf.set_xy(PAGE_WIDTH - MARGIN - title_width, top)
        self._fitted_font(title, title_width, 24, bold=True, colour=self.accent)
        pdf.cell(title_width, 11, title, align="R")
        self._fitted_font(self.doc.number, title_width, 11, colour=MUTED)
        pdf.set_xy(PAGE_WIDTH - MARGIN - title_width, top + 11)
        pdf.cell(title_width, 6, self.doc.number, align="R")
        self._stamp()

    def _draw_logo(self, content: bytes, x: float, y: float) -> bool:
        try:
            size = _raster_size(content)
            if size is None:
                return self._draw_vector_logo(content, x, y)
            pixel_width, pixel_height = size
            width, height = LOGO_MAX_HEIGHT * pixel_width / pixel_height, LOGO_MAX_HEIGHT
            if width > LOGO_MAX_WIDTH:
                width, height = LOGO_MAX_WIDTH, LOGO_MAX_WIDTH * pixel_height / pixel_width
            # fpdf2 reads the whole image before it draws anything: a broken one leaves nothing behind.
            self.pdf.image(io.BytesIO(content), x=x, y=y, w=width, h=height)
        except Exception:
            return False
        return True

    def _draw_vector_logo(self, content: bytes, x: float, y: float) -> bool:
        """An SVG logo (stored before uploads were drawn into PNGs), measured in a throwaway document
        first: fpdf2 draws an SVG as it reads it, and a broken one must not leave half a drawing.
        """
        from fpdf import FPDF
        from fpdf.enums import ResourceAccessPolicy

        probe = FPDF(unit="mm", format="A4")
        probe.resource_access_policy = ResourceAccessPolicy.NONE
        probe.add_page()
        info = probe.image(io.BytesIO(content), x=0, y=0, h=LOGO_MAX_HEIGHT)
        width, height = float(info["rendered_width"]), float(info["rendered_height"])  # type: ignore[arg-type]
        if width <= 0 or height <= 0:
            return False
        if width > LOGO_MAX_WIDTH:
            width, height = LOGO_MAX_WIDTH, height * LOGO_MAX_WIDTH / width
        self.pdf.image(io.BytesIO(content), x=x, y=y, w=width, h=height)
        return True

    def _parties_and_details(self) -> None:
        pdf = self.pdf
        _ = self._
        top = 44.0
        # The buyer gets the widest column: their legal name is the one that must not be cut short.
        seller_width, buyer_width, gap = 52.0, 64.0, 6.0
        details_width = CONTENT_WIDTH - seller_width - buyer_width - 2 * gap
        seller_x, buyer_x = MARGIN, MARGIN + seller_width + gap
        details_x = MARGIN + seller_width + buyer_width + 2 * gap
        if self.rtl:
            # Read from the right: seller, customer, then the details.
            seller_x, buyer_x, details_x = (
                self._mirrored(seller_x, seller_width),
                self._mirrored(buyer_x, buyer_width),
                self._mirrored(details_x, details_width),
            )
        bottoms = [
            self._party(_("From"), self.doc.seller, seller_x, top, seller_width),
            self._party(_("Bill to"), self.doc.buyer, buyer_x, top, buyer_width),
            self._details(details_x, top, details_width),
        ]
        pdf.set_xy(MARGIN, max(bottoms) + 8)

    def _party(self, heading: str, party: DocumentParty, x: float, y: float, width: float) -> float:
        pdf = self.pdf
        self._label(heading, x, y, width)
        pdf.set_xy(x, y + 6)
        self._font(10, bold=True, colour=INK)
        pdf.multi_cell(width, 5, party.name or "—", align=self.start, new_x="LEFT", new_y="NEXT")
        self._font(8.5, colour=INK)
        lines = [*address_lines(party.address, self.formats)]
        if party.email:
            lines.append(party.email)
        for line in lines:
            pdf.multi_cell(width, 4.2, line, align=self.start, new_x="LEFT", new_y="NEXT")
        if party.tax_id:
            pdf.set_y(pdf.get_y() + 1)
            pdf.set_x(x)
            self._font(8.5, colour=MUTED)
            tax_id = self._("VAT/Tax ID: %(tax_id)s") % {"tax_id": party.tax_id}
            pdf.multi_cell(width, 4.2, tax_id, align=self.start, new_x="LEFT", new_y="NEXT")
        if party.other_vat_id:
            pdf.set_x(x)
            self._font(8.5, colour=MUTED)
            vat_id = self._("VAT ID: %(vat_id)s") % {"vat_id": party.other_vat_id}
            pdf.multi_cell(width, 4.2, vat_id, align=self.start, new_x="LEFT", new_y="NEXT")
        return pdf.get_y()

    def _tax_mentions(self) -> None:
        """The statement the law requires of a reverse-charged document (Article 226(11a),
        Directive 2006/112/EC), in the document's language."""
        if not self.doc.reverse_charge:
            return
        pdf = self.pdf
        self._ensure_room(12)
        self._font(8.5, bold=True, colour=INK)
        mention = self._(
            "Reverse charge: VAT to be accounted for by the recipient "
            "(Article 196, Council Directive 2006/112/EC)"
        )
        pdf.multi_cell(CONTENT_WIDTH, 4.6, mention, align=self.start, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)

    @abstractmethod
    def _details(self, x: float, y: float, width: float) -> float:
        """The details column beside the parties; returns where it ends."""

    def _details_and_box(
        self,
        x: float,
        y: float,
        width: float,
        rows: list[tuple[str, str]],
        box: tuple[str, int],
        bold_label: str | None = None,
    ) -> float:
        """Labelled rows under "Details", then a brand-tinted box with one amount (`box`: its label
        and amount); returns where the box ends.
        """
        pdf = self.pdf
        _ = self._
        self._label(_("Details"), x, y, width)
        pdf.set_xy(x, y + 6)
        self._font(8.5, colour=MUTED)
        label_width = max(pdf.get_string_width(label) for label, _ in rows) + 2
        # Right to left, the label is on the right and its value on its left.
        label_x, value_x = (x + width - label_width, x) if self.rtl else (x, x + label_width)
        value_align: Align = "L" if self.rtl else "R"
        for label, value in rows:
            row_y = pdf.get_y()
            self._font(8.5, colour=MUTED)
            pdf.set_xy(label_x, row_y)
            pdf.cell(label_width, 5, label, align=self.start)
            self._fitted_font(value, width - label_width, 8.5, bold=label == bold_label)
            if pdf.get_string_width(value) > width - label_width:
                # Too long to share a line with its label even in small type: the next line is its own.
                pdf.set_xy(x, row_y + 4.5)
                self._fitted_font(value, width, 8.5)
                pdf.cell(width, 5, value, align=value_align, new_x="LEFT", new_y="NEXT")
            else:
                pdf.set_xy(value_x, row_y)
                pdf.cell(width - label_width, 5, value, align=value_align, new_x="LEFT", new_y="NEXT")
            pdf.set_x(x)
        box_top = pdf.get_y() + 2.5
        pdf.set_fill_color(*self.tint)
        pdf.set_draw_color(*self.brand)
        pdf.rect(x, box_top, width, 15, style="F")
        pdf.set_fill_color(*self.brand)
        # The brand bar marks the edge the box is read from.
        pdf.rect(x + width - 1.2 if self.rtl else x, box_top, 1.2, 15, style="F")
        pdf.set_xy(x + 1.5 if self.rtl else x + 3.5, box_top + 1.8)
        self._font(8, colour=MUTED)
        box_label, box_amount = box
        pdf.cell(width - 5, 4, box_label, align=self.start, new_x="LEFT", new_y="NEXT")
        amount = self.money(box_amount)
        self._fitted_font(amount, width - 5, 14, bold=True)
        pdf.cell(width - 5, 7.5, amount, align=self.start)
        return box_top + 15

    def _line_table(self, rows: Sequence[tuple[str, ...]]) -> None:
        """The lines: description, quantity, unit price, tax rate and amount, one row each."""
        from fpdf.fonts import FontFace

        pdf = self.pdf
        _ = self._
        pdf.set_draw_color(*RULE)
        # The table takes its base style from the current one: rows are white unless striped.
        pdf.set_fill_color(*WHITE)
        headings = (_("Description"), _("Qty"), _("Unit price"), _("Tax"), _("Amount"))
        # Figures never wrap: each figure column is as wide as its widest entry, the description
        # takes the rest.
        padding = 2.2
        # fpdf2 breaks a line of shaped (Arabic) text up to 2 mm sooner than its measured width.
        slack = 2.5 if self.rtl else 0.5
        figure_widths: list[float] = [
            max(minimum, self._widest([row[column] for row in rows], headings[column]) + 2 * padding + slack)
            for column, minimum in ((1, 14.0), (2, 24.0), (3, 13.0), (4, 25.0))
        ]
        col_widths: tuple[float, ...] = (CONTENT_WIDTH - sum(figure_widths), *figure_widths)
        text_align: tuple[str, ...] = ("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT")
        if self.rtl:
            # Read from the right: the description first, the amount last; every cell right-aligned.
            headings, col_widths = headings[::-1], col_widths[::-1]
            rows = [row[::-1] for row in rows]
            text_align = ("RIGHT",) * len(headings)
        self._font(8.5, colour=INK)
        with pdf.table(
            width=CONTENT_WIDTH,
            col_widths=col_widths,
            text_align=text_align,
            v_align="TOP",
            borders_layout="HORIZONTAL_LINES",
            headings_style=FontFace(emphasis="BOLD", color=self.on_brand, fill_color=self.brand, size_pt=8),
            line_height=4.3,
            padding=(1.8, padding),
            repeat_headings=1,
        ) as table:
            table.row(headings)
            zebra = FontFace(fill_color=self.tint)
            for index, row in enumerate(rows):
                table.row(row, style=zebra if index % 2 else None)
        pdf.set_y(pdf.get_y() + 6)

    def _breakdown_and_totals(self, totals: list[tuple[str, str, bool]], band: tuple[str, int]) -> None:
        """The tax breakdown (left) beside the `totals` rows (label, amount, bold), closed by a brand
        band with one amount (`band`: its label and amount).
        """
        pdf = self.pdf
        doc = self.doc
        _ = self._
        money = self.money
        band_label, band_amount = band
        row = 5.6
        needed = max(len(totals) * row + 14, (len(doc.tax_breakdown) + 2) * row + 2)
        self._ensure_room(needed)
        top = pdf.get_y()

        # Tax breakdown, left: what an accountant books per rate.
        width = 84.0
        columns: tuple[float, ...] = (22.0, 34.0, 28.0)
        tax_headings: tuple[str, ...] = (_("Tax rate"), _("Taxable amount"), _("Tax"))
        aligns: tuple[Align, ...] = ("L", "R", "R")
        if self.rtl:
            # Read from the right: the rate first; every column right-aligned.
            columns, tax_headings, aligns = columns[::-1], tax_headings[::-1], ("R", "R", "R")
        pdf.set_xy(MARGIN, top)
        self._font(7.5, bold=True, colour=MUTED)
        for heading, column_width, align in zip(tax_headings, columns, aligns, strict=True):
            pdf.cell(column_width, row, heading, align=align)
        pdf.set_draw_color(*RULE)
        pdf.line(MARGIN, top + row, MARGIN + width, top + row)
        pdf.set_xy(MARGIN, top + row)
        self._font(8.5, colour=INK)
        for group in doc.tax_breakdown:
            values: tuple[str, ...] = (
                f"{plain_decimal(group.tax_rate)}%",
                money(group.taxable_amount),
                money(group.tax_amount),
            )
            if self.rtl:
                values = values[::-1]
            for value, column_width, align in zip(values, columns, aligns, strict=True):
                pdf.cell(column_width, row, value, align=align)
            pdf.set_xy(MARGIN, pdf.get_y() + row)
        left_bottom = pdf.get_y()

        # Totals, right.
        x = PAGE_WIDTH - MARGIN - 76
        pdf.set_xy(x, top)
        for label, value, bold in totals:
            if bold:
                pdf.line(x, pdf.get_y(), PAGE_WIDTH - MARGIN, pdf.get_y())
            self._font(9, bold=bold, colour=INK if bold else MUTED)
            if self.rtl:
                # The label on the right, its amount on its left.
                pdf.set_x(x + 36)
                pdf.cell(40, row, label, align="R")
                pdf.set_x(x)
                self._font(9, bold=bold, colour=INK)
                pdf.cell(36, row, value, align="L", new_x="LEFT", new_y="NEXT")
            else:
                pdf.cell(40, row, label)
                self._font(9, bold=bold, colour=INK)
                pdf.cell(36, row, value, align="R", new_x="LEFT", new_y="NEXT")
            pdf.set_x(x)
        due_top = pdf.get_y() + 1.5
        pdf.set_fill_color(*self.brand)
        pdf.rect(x, due_top, 76, 9, style="F")
        self._font(10.5, bold=True, colour=self.on_brand)
        if self.rtl:
            pdf.set_xy(x + 36, due_top)
            pdf.cell(38, 9, band_label, align="R")
            pdf.set_xy(x + 2, due_top)
            pdf.cell(34, 9, money(band_amount), align="L")
        else:
            pdf.set_xy(x + 2, due_top)
            pdf.cell(38, 9, band_label)
            pdf.cell(34, 9, money(band_amount), align="R")
        pdf.set_xy(MARGIN, max(left_bottom, due_top + 9) + 9)

    def _notes(self) -> None:
        pdf = self.pdf
        if self.doc.memo:
            self._ensure_room(16)
            self._section_heading(self._("Notes"))
            self._font(8.5, colour=INK)
            pdf.multi_cell(CONTENT_WIDTH, 4.6, self.doc.memo, align=self.start, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
        if self.doc.footer:
            self._ensure_room(10)
            pdf.set_draw_color(*RULE)
            pdf.line(MARGIN, pdf.get_y(), PAGE_WIDTH - MARGIN, pdf.get_y())
            pdf.ln(2.5)
            self._font(7.5, colour=MUTED)
            pdf.multi_cell(CONTENT_WIDTH, 4, self.doc.footer, align="C", new_x="LMARGIN", new_y="NEXT")

    def page_header(self) -> None:
        """Every page: the brand band; continuation pages also say whose document they continue."""
        pdf = self.pdf
        # The footer set the page-count alias for its own line; content never runs with it set.
        pdf.alias_nb_pages("")
        with pdf.local_context():
            pdf.set_fill_color(*self.brand)
            if pdf.page == 1:
                pdf.rect(0, 0, PAGE_WIDTH, 6, style="F")
            else:
                pdf.rect(0, 0, PAGE_WIDTH, 3, style="F")
                pdf.set_xy(MARGIN, 10)
                self._font(8, colour=MUTED)
                continued = self.continued()
                pdf.cell(CONTENT_WIDTH, 5, f"{self.doc.seller.name} · {continued}")
        pdf.set_xy(MARGIN, TOP_MARGIN)

    def page_footer(self) -> None:
        """Every page: who issued which document, and "Page n of N"."""
        pdf = self.pdf
        with pdf.local_context():
            pdf.set_draw_color(*RULE)
            pdf.line(MARGIN, PAGE_HEIGHT - 15, PAGE_WIDTH - MARGIN, PAGE_HEIGHT - 15)
            pdf.set_xy(MARGIN, PAGE_HEIGHT - 13.5)
            self._font(7.5, colour=MUTED)
            pdf.cell(CONTENT_WIDTH - 70, 4, self.doc.seller.name)
            # fpdf2 replaces its page-count alias in any text drawn while the alias is set, so it is set
            # only from here to the next page's header (and through `output()`, which substitutes the
            # count): a "{nb}" typed by a user stays "{nb}".
            pdf.alias_nb_pages(PAGE_COUNT_ALIAS, align="L")
            name = self.document_name()
            page = self._("Page %(page)s of %(pages)s") % {"page": pdf.page_no(), "pages": PAGE_COUNT_ALIAS}
            pdf.cell(70, 4, f"{name} · {page}", align="R")

    def _stamp(self) -> None:
        """A boxed, tilted PAID or VOID, like a rubber stamp, in the free space of the first page's header.

        Open and uncollectible invoices carry no mark.
        """
        if self.doc.status not in STAMP_COLOURS:
            return
        colour = STAMP_COLOURS[self.doc.status]
        text = self._("PAID") if self.doc.status == "paid" else self._("VOID")
        pdf = self.pdf
        centre_x, centre_y = 112.0, 28.0
        self._font(38, bold=True, colour=colour)
        width, height = pdf.get_string_width(text) + 12, 19.0
        with pdf.rotation(12, centre_x, centre_y), pdf.local_context(fill_opacity=0.6, stroke_opacity=0.6):
            pdf.set_draw_color(*colour)
            pdf.set_line_width(1.4)
            pdf.rect(
                centre_x - width / 2, centre_y - height / 2, width, height, style="D", round_corners=True
            )
            pdf.set_xy(centre_x - width / 2, centre_y - height / 2)
            pdf.cell(width, height, text, align="C")
        pdf.set_line_width(0.2)

    # --- small drawing helpers -------------------------------------------------------------

    def _font(self, size: float, *, bold: bool = False, colour: Colour = INK) -> None:
        self.pdf.set_font(FONT, "B" if bold else "", size)
        self.pdf.set_text_color(*colour)

    def _fitted_font(
        self, text: str, width: float, size: float, *, bold: bool = False, colour: Colour = INK
    ) -> None:
        """The font at `size`, or smaller until `text` fits on one line of `width` (a long number)."""
        self._font(size, bold=bold, colour=colour)
        while size > 6.5 and self.pdf.get_string_width(text) > width:
            size -= 0.5
            self._font(size, bold=bold, colour=colour)

    @staticmethod
    def _mirrored(x: float, width: float) -> float:
        """Where a block drawn at `x` sits on a page read from the right."""
        return PAGE_WIDTH - x - width

    def _widest(self, entries: list[str], heading: str) -> float:
        """Width of the widest table entry (body font) or heading (bold heading font)."""
        self._font(8, bold=True)
        widest = self.pdf.get_string_width(heading)
        self._font(8.5)
        return max([widest, *(self.pdf.get_string_width(entry) for entry in entries)])

    def _label(self, text: str, x: float, y: float, width: float) -> None:
        self._font(7.5, bold=True, colour=self.accent)
        self.pdf.set_xy(x, y)
        self.pdf.cell(width, 4, text.upper(), align=self.start)
        self.pdf.set_draw_color(*self.brand)
        self.pdf.line(x, y + 4.6, x + width, y + 4.6)

    def _online_link(self, words: str, url: str) -> None:
        """`words` (muted), then `url` as a link in the accent colour: on one line, or, right to
        left, the words on their own line read from the right and the address below them."""
        pdf = self.pdf
        self._font(8.5, colour=MUTED)
        online = words + " "
        if self.rtl:
            pdf.cell(CONTENT_WIDTH, 5, online.strip(), align="R", new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.cell(pdf.get_string_width(online), 5, online)
        self._font(8.5, colour=self.accent)
        pdf.multi_cell(0, 5, url, link=url, align=self.start, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)

    def _section_heading(self, text: str) -> None:
        pdf = self.pdf
        self._label(text, MARGIN, pdf.get_y(), CONTENT_WIDTH)
        pdf.set_xy(MARGIN, pdf.get_y() + 7)

    def _ensure_room(self, height: float) -> None:
        if self.pdf.get_y() + height > self.pdf.page_break_trigger:
            self.pdf.add_page()


class _InvoiceLayout(BrandedPdfLayout[InvoiceDocument]):
    def document_name(self) -> str:
        return self._("Invoice %(number)s") % {"number": self.doc.number}

    def document_subject(self) -> str:
        names = {"number": self.doc.number, "buyer": self.doc.buyer.name}
        return self._("Invoice %(number)s to %(buyer)s") % names

    def continued(self) -> str:
        return self._("Invoice %(number)s (continued)") % {"number": self.doc.number}

    def draw(self, logo: tuple[bytes, str] | None) -> None:
        self.pdf.add_page()
        self._header(logo, self._("INVOICE"))
        self._parties_and_details()
        self._lines()
        self._tax_breakdown_and_totals()
        self._tax_mentions()
        self._payment_instructions()
        self._credit_notes()
        self._notes()

    def _details(self, x: float, y: float, width: float) -> float:
        doc = self.doc
        _ = self._
        due_date_label = _("Due date")
        rows = [
            (_("Invoice no."), doc.number),
            (_("Issue date"), long_date(doc.issue_date, self.formats)),
            (due_date_label, long_date(doc.due_date, self.formats)),
            (_("Currency"), doc.currency),
        ]
        return self._details_and_box(x, y, width, rows, (_("Amount due"), doc.amount_due), due_date_label)

    def _lines(self) -> None:
        rows = [
            (
                described(line.description, line.exemption_reason),
                plain_decimal(line.quantity),
                self.money(line.unit_amount),
                f"{plain_decimal(line.tax_rate)}%",
                self.money(line.amount),
            )
            for line in self.doc.lines
        ]
        self._line_table(rows)

    def _tax_breakdown_and_totals(self) -> None:
        doc = self.doc
        _ = self._
        money = self.money
        totals: list[tuple[str, str, bool]] = [
            (_("Subtotal"), money(doc.subtotal), False),
            (_("Tax"), money(doc.tax_total), False),
            (_("Total"), money(doc.total), True),
        ]
        if doc.credit_applied:
            totals.append((_("Credit applied"), money(-doc.credit_applied), False))
        if doc.amount_paid:
            totals.append((_("Amount paid"), money(-doc.amount_paid), False))
        self._breakdown_and_totals(totals, (_("Amount due"), doc.amount_due))

    def _payment_instructions(self) -> None:
        pdf = self.pdf
        doc = self.doc
        _ = self._
        blocks: list[tuple[str, list[tuple[str, str]]]] = []
        if doc.bank_transfer and any(doc.bank_transfer.model_dump().values()):
            bank = doc.bank_transfer
            bank_rows = _filled(
                (_("Account name"), bank.account_name),
                (_("IBAN"), grouped_iban(bank.iban) if bank.iban else None),
                (_("BIC"), bank.bic),
                (_("Reference"), doc.number),
                (_("Instructions"), bank.instructions),
            )
            blocks.append((_("Bank transfer"), bank_rows))
        if doc.cheque and (doc.cheque.payable_to or doc.cheque.mail_to):
            cheque_rows = _filled(
                (_("Payable to"), doc.cheque.payable_to), (_("Mail to"), doc.cheque.mail_to)
            )
            blocks.append((_("Cheque"), cheque_rows))
        self._ensure_room(30)
        self._section_heading(_("How to pay"))
        for title, rows in blocks:
            self._ensure_room(6 + 5 * len(rows))
            self._font(9, bold=True, colour=INK)
            pdf.cell(CONTENT_WIDTH, 5.5, title, align=self.start, new_x="LMARGIN", new_y="NEXT")
            for label, value in rows:
                self._font(8.5, colour=MUTED)
                if self.rtl:
                    # The label on the right; the value (an IBAN, a reference) just left of it.
                    pdf.set_x(MARGIN + CONTENT_WIDTH - 32)
                    pdf.cell(32, 4.6, label, align="R")
                    pdf.set_x(MARGIN)
                else:
                    pdf.cell(32, 4.6, label)
                self._font(8.5, colour=INK)
                pdf.multi_cell(
                    CONTENT_WIDTH - 32, 4.6, value, align=self.start, new_x="LMARGIN", new_y="NEXT"
                )
            pdf.ln(2.5)
        self._online_link(_("Pay or view online:"), doc.hosted_url)

    def _credit_notes(self) -> None:
        """The credit notes that correct the invoice (number, date, total, status); none: nothing."""
        if not self.doc.credit_notes:
            return
        pdf = self.pdf
        _ = self._
        statuses = {"issued": _("Issued"), "void": _("Void")}
        self._ensure_room(14 + 5 * min(len(self.doc.credit_notes), 4))
        self._section_heading(_("Credit notes"))
        columns: tuple[float, ...] = (CONTENT_WIDTH - 112, 44.0, 38.0, 30.0)
        aligns: tuple[Align, ...] = ("L", "L", "R", "R")
        if self.rtl:
            columns, aligns = columns[::-1], ("R", "R", "R", "R")
        for note in self.doc.credit_notes:
            self._ensure_room(5)
            values: tuple[str, ...] = (
                note.number,
                long_date(note.issue_date, self.formats),
                self.money(note.total),
                statuses[note.status],
            )
            if self.rtl:
                values = values[::-1]
            for value, width, align in zip(values, columns, aligns, strict=True):
                self._fitted_font(value, width - 1, 8.5, colour=MUTED if note.status == "void" else INK)
                pdf.cell(width, 5, value, align=align)
            pdf.ln(5)
        pdf.ln(4)


def _new_pdf(layout: BrandedPdfLayout[Any]) -> FPDF:
    """An A4 document in the layout's fonts whose pages get the layout's header and footer."""
    from fpdf import FPDF
    from fpdf.enums import ResourceAccessPolicy

    class InvoicePdf(FPDF):
        def header(self) -> None:
            layout.page_header()

        def footer(self) -> None:
            layout.page_footer()

        def normalize_text(self, text: str) -> str:
            # Every text fpdf2 measures or draws passes here: what the document check could not see
            # (labels, formatted figures) gets its fallback font too, or refuses the render.
            cover(self, layout.fonts, text)
            return super().normalize_text(text)

        def _render_styled_text_line(self, *args: Any, **kwargs: Any) -> Any:
            # fpdf2 2.8.9 sets the page's font inside the q/Q of a line that starts in a fallback
            # font, then forgets it was restored: the next lines would be drawn with no font
            # (py-pdf/fpdf2#1772). Setting it outside the line first avoids that.
            if self._fallback_font_ids and not self.current_font_is_set_on_page and self.current_font:
                self._out(self._set_font_for_page(self.current_font, self.font_size_pt))
            return super()._render_styled_text_line(*args, **kwargs)

    pdf = InvoicePdf(orientation="portrait", unit="mm", format="A4")
    # Nothing in a logo may make the renderer read a file or fetch a URL.
    pdf.resource_access_policy = ResourceAccessPolicy.NONE
    pdf.alias_nb_pages("")
    register(pdf, layout.fonts)
    pdf.set_margins(MARGIN, TOP_MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=BOTTOM_MARGIN)
    pdf.set_creator("Remit")
    pdf.set_lang("en")
    pdf.set_line_width(0.2)
    return pdf


# --- formatting ------------------------------------------------------------------------------


def _filled(*rows: tuple[str, str | None]) -> list[tuple[str, str]]:
    """The (label, value) rows that have a value."""
    return [(label, value) for label, value in rows if value]


def _raster_size(content: bytes) -> tuple[int, int] | None:
    """The pixel size a PNG or JPEG states in its header (nothing decoded); None for anything else."""
    from PIL import Image

    if not content.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
        return None
    with Image.open(io.BytesIO(content), formats=["PNG", "JPEG"]) as image:
        width, height = image.size
    if width <= 0 or height <= 0:
        raise ValueError("an image without pixels")
    return width, height


def _hex_colour(value: str) -> Colour:
    digits = value.lstrip("#")
    if len(digits) == 3:
        digits = "".join(digit * 2 for digit in digits)
    try:
        return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))
    except ValueError:
        return _hex_colour(DEFAULT_BRAND_COLOUR)


def _luminance(colour: Colour) -> float:
    red, green, blue = (channel / 255 for channel in colour)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def _mix(colour: Colour, other: Colour, weight_of_other: float) -> Colour:
    red, green, blue = (
        round(a * (1 - weight_of_other) + b * weight_of_other) for a, b in zip(colour, other, strict=True)
    )
    return (red, green, blue)

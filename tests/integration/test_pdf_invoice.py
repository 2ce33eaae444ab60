"""The invoice PDF as a customer and their accountant read it: text extracted with pypdf."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader

from remit.adapters.money_format import format_money
from remit.adapters.pdf_invoice import FpdfInvoiceRenderer
from remit.domain.documents import DocumentParty, InvoiceDocument
from remit.domain.invoice import InvoiceStatus, LineItem, TaxBreakdownLine, priced_line
from remit.domain.money import totals
from remit.domain.organisation import BankTransferDetails, ChequeDetails
from remit.domain.values import Address

BUYER = "Łódź Müller Ørsted Sp. z o.o."
IBAN = "DE89370400440532013000"
HOSTED_URL = "https://api.remit.test/i/hp_3f9a0c5e7b1d4a2c8e6f0b9d7a5c3e1f"
# (description, quantity, unit amount in minor units, tax rate %)
STANDARD_LINES = [
    ("Implementation workshop, two days on site in Łódź", "8", 10000, "23"),
    ("Annual support plan", "1", 23194, "8"),
]


def invoice_document(
    *,
    status: InvoiceStatus = "open",
    currency: str = "EUR",
    lines: list[tuple[str, str, int, str]] | None = None,
    amount_paid: int = 0,
    credit_applied: int = 0,
    **changes: Any,
) -> InvoiceDocument:
    """A finalized invoice from Acme Ltd to a Polish company; `changes` replace any other field."""
    items: list[LineItem] = [
        priced_line(f"li_{index}", description, Decimal(quantity), unit_amount, Decimal(rate), None)
        for index, (description, quantity, unit_amount, rate) in enumerate(lines or STANDARD_LINES)
    ]
    computed = totals((item.amount, item.tax_amount, item.tax_rate) for item in items)
    fields: dict[str, Any] = {
        "organisation_id": "org_acme",
        "invoice_id": "inv_0042",
        "seller": DocumentParty(
            name="Acme Ltd",
            email="billing@acme.test",
            address=Address(line1="1 High Street", city="London", postal_code="EC1A 1BB", country="GB"),
            tax_id="GB123456789",
        ),
        "buyer": DocumentParty(
            name=BUYER,
            email="faktury@lmo.test",
            address=Address(line1="ul. Piotrkowska 104", city="Łódź", postal_code="90-926", country="PL"),
            tax_id="PL7251234567",
        ),
        "brand_colour": "#0F766E",
        "logo_url": None,
        "number": "ACME-2026-0042",
        "status": status,
        "currency": currency,
        "issue_date": date(2026, 3, 31),
        "due_date": date(2026, 4, 30),
        "overdue": False,
        "lines": items,
        "tax_breakdown": [
            TaxBreakdownLine(
                tax_rate=group.tax_rate, taxable_amount=group.taxable_amount, tax_amount=group.tax_amount
            )
            for group in computed.tax_breakdown
        ],
        "subtotal": computed.subtotal,
        "tax_total": computed.tax_total,
        "total": computed.total,
        "credit_applied": credit_applied,
        "amount_paid": amount_paid,
        "amount_due": computed.total - credit_applied - amount_paid,
        "memo": "Thank you for your business.",
        "footer": "Acme Ltd, registered in England and Wales No. 01234567.",
        "hosted_url": HOSTED_URL,
        "pdf_url": f"{HOSTED_URL}/pdf",
        "bank_transfer": BankTransferDetails(
            account_name="Acme Ltd", iban=IBAN, bic="COBADEFFXXX", instructions="Quote the invoice number."
        ),
        "cheque": None,
        "card_payments": status == "open",
    }
    return InvoiceDocument(**(fields | changes))


def rendered(document: InvoiceDocument, logo: tuple[bytes, str] | None = None) -> PdfReader:
    content = FpdfInvoiceRenderer().render(document, logo)
    assert content.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(content))


def text_of(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def a_raster_logo(image_format: str) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (240, 80), "white")
    ImageDraw.Draw(image).rectangle((10, 10, 70, 70), fill="#0F766E")
    buffer = io.BytesIO()
    image.save(buffer, format=image_format)
    return buffer.getvalue()


SVG_LOGO = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 40" width="120" height="40">'
    b'<rect x="0" y="0" width="40" height="40" rx="6" fill="#0F766E"/>'
    b'<circle cx="80" cy="20" r="16" fill="#F59E0B"/></svg>'
)


# --- what every invoice shows ----------------------------------------------------------------


def test_an_invoice_shows_its_number_parties_dates_totals_and_how_to_pay() -> None:
    # Given a finalized invoice of €1,234.50 with bank transfer details
    document = invoice_document()
    assert document.total == 123450

    # When it is rendered
    text = text_of(rendered(document))

    # Then the accountant finds everything needed to book and pay it
    assert "INVOICE" in text
    assert "ACME-2026-0042" in text
    assert "Acme Ltd" in text
    assert "BILL TO" in text
    assert BUYER in text
    assert "VAT/Tax ID: GB123456789" in text
    assert "VAT/Tax ID: PL7251234567" in text
    assert "31 March 2026" in text
    assert "30 April 2026" in text
    assert "EUR" in text
    assert "€1,031.94" in text  # subtotal
    assert "€202.56" in text  # tax
    assert "€1,234.50" in text  # total and amount due
    assert "Amount due" in text
    assert "DE89 3704 0044 0532 0130 00" in text
    assert "COBADEFFXXX" in text
    assert f"Pay or view online: {HOSTED_URL}" in text.replace("\n", "")


def test_each_line_shows_quantity_unit_price_tax_rate_and_amount() -> None:
    text = text_of(rendered(invoice_document()))

    assert "Implementation workshop, two days on site in Łódź" in " ".join(text.split())
    assert "€100.00" in text  # unit price
    assert "€800.00" in text  # 8 x €100.00
    assert "23%" in text
    assert "8%" in text


def test_the_tax_breakdown_shows_each_rate_with_its_taxable_amount_and_tax() -> None:
    text = text_of(rendered(invoice_document()))

    assert "Taxable amount" in text
    assert "€184.00" in text  # 23% of €800.00
    assert "€18.56" in text  # 8% of €231.94


def test_names_in_polish_danish_german_and_greek_are_drawn_as_written() -> None:
    # Given names and a memo in several scripts
    document = invoice_document(memo="Ευχαριστούμε! Παράδοση: Αθήνα, Ελλάδα. Grüße aus Łódź, Ørsted.")

    text = text_of(rendered(document))

    assert BUYER in text
    assert "Ελλάδα" in text
    assert "Grüße aus Łódź, Ørsted." in text


def test_credit_applied_and_amount_paid_are_listed_only_when_there_are_some() -> None:
    with_both = text_of(rendered(invoice_document(credit_applied=10000, amount_paid=50000)))
    without = text_of(rendered(invoice_document()))

    assert "Credit applied" in with_both
    assert "Amount paid" in with_both
    assert format_money(123450 - 10000 - 50000, "EUR") in with_both  # €634.50 left to pay
    assert "Credit applied" not in without
    assert "Amount paid" not in without


def test_cheque_instructions_are_shown_when_the_organisation_accepts_cheques() -> None:
    cheque = ChequeDetails(payable_to="Acme Ltd", mail_to="Accounts, 1 High Street, London EC1A 1BB")

    text = text_of(rendered(invoice_document(cheque=cheque, bank_transfer=None)))

    assert "Payable to" in text
    assert "Accounts, 1 High Street, London EC1A 1BB" in text
    assert "IBAN" not in text


def test_memo_and_footer_are_printed() -> None:
    text = text_of(rendered(invoice_document()))

    assert "Thank you for your business." in text
    assert "registered in England and Wales No. 01234567." in text


# --- status marks ------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "mark"), [("paid", "PAID"), ("void", "VOID")])
def test_a_paid_or_void_invoice_is_marked_as_such(status: InvoiceStatus, mark: str) -> None:
    text = text_of(rendered(invoice_document(status=status)))

    assert mark in text


@pytest.mark.parametrize("status", ["open", "uncollectible"])
def test_an_open_or_uncollectible_invoice_carries_no_mark(status: InvoiceStatus) -> None:
    text = text_of(rendered(invoice_document(status=status)))

    assert "PAID" not in text
    assert "VOID" not in text
    assert "UNCOLLECTIBLE" not in text


# --- currencies --------------------------------------------------------------------------------


def test_a_yen_invoice_shows_whole_yen() -> None:
    # Given an invoice in JPY, a currency without minor units
    document = invoice_document(currency="JPY", lines=[("Consulting hour", "3", 15000, "10")])

    text = text_of(rendered(document))

    assert "¥45,000" in text  # 3 x ¥15,000
    assert "¥49,500" in text  # with 10% tax
    assert not re.search(r"¥[\d,]+\.\d", text)


def test_a_kuwaiti_dinar_invoice_shows_three_decimals() -> None:
    document = invoice_document(currency="KWD", lines=[("Licence", "1", 1234, "0")])

    text = text_of(rendered(document))

    assert format_money(1234, "KWD") in text
    assert "1.234" in text
    assert not re.search(r"1\.23\b", text)


# --- long invoices -----------------------------------------------------------------------------


def test_an_invoice_of_120_lines_continues_over_pages_with_the_table_header_repeated() -> None:
    # Given an invoice with 120 lines
    lines = [
        (f"Usage line {index:03d}: metered API calls", "1", 1000 + index, "20") for index in range(1, 121)
    ]
    document = invoice_document(lines=lines)

    # When it is rendered
    reader = rendered(document)
    pages = [page.extract_text() for page in reader.pages]

    # Then it runs over several pages, each listing its lines under the column headings
    assert len(pages) > 1
    assert "Usage line 001: metered API calls" in pages[0]
    assert "Usage line 120: metered API calls" in "".join(pages[1:])
    for page_text in pages:
        if "Usage line" in page_text:
            assert "Description" in page_text
            assert "Unit price" in page_text
    assert f"Page 1 of {len(pages)}" in pages[0]
    assert f"Page {len(pages)} of {len(pages)}" in pages[-1]
    assert format_money(document.amount_due, "EUR") in pages[-1]


def test_an_invoice_without_lines_still_shows_its_zero_totals() -> None:
    no_lines = {"lines": [], "tax_breakdown": [], "subtotal": 0, "tax_total": 0, "total": 0, "amount_due": 0}
    document = invoice_document().model_copy(update=no_lines)

    text = text_of(rendered(document))

    assert "Description" in text
    assert "€0.00" in text


def test_a_long_description_wraps_instead_of_being_cut() -> None:
    description = " ".join(["Bespoke integration work on the ledger export"] * 9) + " END-OF-LINE"
    document = invoice_document(lines=[(description[:500], "1", 100000, "20")])

    text = " ".join(text_of(rendered(document)).split())

    assert "END-OF-LINE" in text


# --- user text is text -------------------------------------------------------------------------


def test_markup_in_user_text_is_printed_literally() -> None:
    # Given HTML, markdown and a page-number alias in places a user writes
    script = "<script>alert(1)</script>"
    document = invoice_document(
        lines=[(f"{script} **not bold** {{nb}}", "1", 1000, "20")],
        memo="<b>memo</b> --strike-- {nb}",
    )

    text = text_of(rendered(document))

    assert script in text
    assert "**not bold** {nb}" in text
    assert "<b>memo</b> --strike-- {nb}" in text


# --- logos -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("image_format", "content_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg")])
def test_a_png_or_jpeg_logo_is_placed_on_the_invoice(image_format: str, content_type: str) -> None:
    reader = rendered(invoice_document(), logo=(a_raster_logo(image_format), content_type))

    assert len(reader.pages[0].images) == 1
    assert BUYER in text_of(reader)


def test_an_svg_logo_is_drawn_in_place_of_the_name() -> None:
    # Without a logo the seller's name is printed as a word mark above the "From" block
    without_logo = text_of(rendered(invoice_document())).count("Acme Ltd")

    with_logo = text_of(rendered(invoice_document(), logo=(SVG_LOGO, "image/svg+xml"))).count("Acme Ltd")

    assert with_logo == without_logo - 1


@pytest.mark.parametrize(
    "logo",
    [
        (b"this is not an image", "image/png"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image/png"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><rect", "image/svg+xml"),
        (
            b"<svg xmlns='http://www.w3.org/2000/svg' xmlns:x='http://www.w3.org/1999/xlink'>"
            b"<image x:href='file:///etc/hostname' width='10' height='10'/></svg>",
            "image/svg+xml",
        ),
        (b"", "image/jpeg"),
    ],
    ids=["garbage", "truncated-png", "broken-svg", "svg-pulling-a-local-file", "empty"],
)
def test_a_logo_that_cannot_be_drawn_is_left_out(logo: tuple[bytes, str]) -> None:
    reader = rendered(invoice_document(), logo=logo)

    text = text_of(reader)
    assert "ACME-2026-0042" in text
    assert "€1,234.50" in text
    assert not reader.pages[0].images

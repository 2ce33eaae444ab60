"""Invoice emails and the hosted invoice page, read as the customer reads them.

Pages are parsed with the standard library's `html.parser`: what a person sees is the text outside
tags, and what a browser would act on is the elements and their attributes.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape

from remit.adapters.html_rendering import (
    JinjaEmailRenderer,
    JinjaHostedPageRenderer,
    contrast_ratio,
    ink_on_white,
    relative_luminance,
    text_colour_on,
)
from remit.domain.documents import DocumentParty, EmailKind, InvoiceDocument
from remit.domain.invoice import InvoiceStatus, LineItem, TaxBreakdownLine, priced_line
from remit.domain.money import totals
from remit.domain.organisation import BankTransferDetails, ChequeDetails
from remit.domain.payment import Payment
from remit.domain.reminders import ReminderStep
from remit.domain.values import Address

HOSTED_URL = "https://pay.remit.test/i/hp_7c1e9a4b2d6f8e0a3c5b7d9f1e3a5c7b"
LOGO_URL = "https://pay.remit.test/logos/org_acme/4f2a9c.png"
BRAND = "#0F766E"
NUMBER = "ACME-00001"
SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE_BREAKOUT = '"><img src=x onerror=alert(1)>'
MINUS = "\u2212"  # a typographic minus, as the page writes deductions
EMAIL_KINDS: list[EmailKind] = ["invoice", "void_notice", "payment_receipt", "reminder"]


def an_invoice_document(
    *,
    status: InvoiceStatus = "open",
    currency: str = "EUR",
    lines: list[tuple[str, str, int, str]] | None = None,
    amount_paid: int = 0,
    credit_applied: int = 0,
    seller_name: str = "Acme Ltd",
    buyer_name: str = "Globex GmbH",
    **changes: Any,
) -> InvoiceDocument:
    """A finalized invoice from Acme Ltd to Globex; `lines` are (description, quantity, unit amount, rate)."""
    items: list[LineItem] = [
        priced_line(f"li_{index}", description, Decimal(quantity), unit_amount, Decimal(rate), None)
        for index, (description, quantity, unit_amount, rate) in enumerate(
            lines or [("Consulting, March", "10", 10000, "19"), ("Hosting", "1", 2500, "7")]
        )
    ]
    computed = totals((item.amount, item.tax_amount, item.tax_rate) for item in items)
    fields: dict[str, Any] = {
        "organisation_id": "org_acme",
        "invoice_id": "inv_0001",
        "seller": DocumentParty(
            name=seller_name,
            email="billing@acme.test",
            address=Address(line1="1 High Street", city="London", postal_code="EC1A 1BB", country="GB"),
            tax_id="GB123456789",
        ),
        "buyer": DocumentParty(
            name=buyer_name,
            email="ap@globex.test",
            address=Address(line1="Friedrichstraße 123", city="Berlin", postal_code="10117", country="DE"),
        ),
        "brand_colour": BRAND,
        "logo_url": LOGO_URL,
        "number": NUMBER,
        "status": status,
        "currency": currency,
        "issue_date": date(2026, 3, 1),
        "due_date": date(2026, 3, 31),
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
        "amount_due": 0 if status in {"paid", "void"} else computed.total - credit_applied - amount_paid,
        "memo": None,
        "footer": None,
        "hosted_url": HOSTED_URL,
        "pdf_url": f"{HOSTED_URL}/pdf",
        "bank_transfer": None,
        "cheque": None,
        "card_payments": False,
    }
    return InvoiceDocument(**{**fields, **changes})


def a_payment(amount: int = 5000, **changes: Any) -> Payment:
    fields: dict[str, Any] = {
        "id": "pay_0001",
        "invoice_id": "inv_0001",
        "customer_id": "cus_globex",
        "amount": amount,
        "currency": "EUR",
        "method": "bank_transfer",
        "reference": "SEPA-7781",
        "received_on": date(2026, 3, 20),
        "created_at": datetime(2026, 3, 20, 9, 0, tzinfo=UTC),
    }
    return Payment(**{**fields, **changes})


BANK_TRANSFER = BankTransferDetails(
    account_name="Acme Ltd",
    iban="DE89370400440532013000",
    bic="COBADEFFXXX",
    instructions="Transfers usually arrive within one business day.",
)
CHEQUE = ChequeDetails(payable_to="Acme Trading Ltd", mail_to="Acme Ltd\nPO Box 42\nLondon EC1A 1BB")


INLINE_ELEMENTS = {"a", "abbr", "b", "code", "em", "i", "small", "span", "strong"}


class ParsedPage(HTMLParser):
    """The visible text of a page and every element with its attributes."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self._chunks: list[str] = []
        self._hidden_depth = 0
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))
        self._break_unless_inline(tag)
        if tag in {"style", "script", "title"}:
            self._hidden_depth += 1

    def handle_endtag(self, tag: str) -> None:
        self._break_unless_inline(tag)
        if tag in {"style", "script", "title"}:
            self._hidden_depth -= 1

    def _break_unless_inline(self, tag: str) -> None:
        # Blocks and table cells are set apart on screen; inline elements flow with their words.
        if tag not in INLINE_ELEMENTS:
            self._chunks.append(" ")

    def handle_data(self, data: str) -> None:
        if self._hidden_depth == 0:
            self._chunks.append(data)

    @property
    def text(self) -> str:
        """The words on the page, whitespace collapsed as a browser shows them."""
        return " ".join("".join(self._chunks).split())

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attributes for name, attributes in self.elements if name == tag]


def text_of(markup: str) -> str:
    return ParsedPage(markup).text


def page_for(document: InvoiceDocument, notice: str | None = None) -> ParsedPage:
    return ParsedPage(JinjaHostedPageRenderer().invoice_page(document, notice))


def brand_colours_of(page: str) -> tuple[str, str]:
    """The brand colour of a hosted page and the colour of text drawn on it."""
    brand = re.search(r"--brand:\s*(#[0-9A-F]{6})", page)
    on_brand = re.search(r"--on-brand:\s*(#[0-9A-F]{6})", page)
    assert brand, "the page declares no brand colour"
    assert on_brand, "the page declares no colour for text on the brand colour"
    return brand.group(1), on_brand.group(1)


# ---------------------------------------------------------------------------------------------
# The invoice email


def test_the_invoice_email_subject_names_the_number_and_the_organisation() -> None:
    email = JinjaEmailRenderer().render("invoice", an_invoice_document())

    assert email.subject == "Invoice ACME-00001 from Acme Ltd"


@pytest.mark.parametrize(
    ("currency", "unit_amount", "shown"),
    [("EUR", 123450, "€1,234.50"), ("JPY", 123450, "JP¥123,450"), ("KWD", 1234500, "KWD1,234.500")],
)
def test_the_amount_due_is_written_with_the_decimals_of_the_invoice_currency(
    currency: str, unit_amount: int, shown: str
) -> None:
    document = an_invoice_document(currency=currency, lines=[("Licence", "1", unit_amount, "0")])

    email = JinjaEmailRenderer().render("invoice", document)
    page = page_for(document)

    assert f"Amount due {shown}" in text_of(email.html)
    assert f"Amount due: {shown}" in email.text
    assert f"Amount due {shown}" in page.text


def test_the_invoice_email_asks_for_payment_by_the_due_date_and_says_the_pdf_is_attached() -> None:
    email = JinjaEmailRenderer().render("invoice", an_invoice_document())
    html = ParsedPage(email.html)

    assert "Due on 31 March 2026" in html.text
    assert "Due on 31 March 2026" in email.text
    assert "attached to this email as a PDF" in html.text
    assert "attached to this email as a PDF" in email.text
    button = re.search(r'<a href="([^"]+)"[^>]*>View and pay invoice</a>', email.html)
    assert button, "no 'View and pay invoice' button"
    assert button.group(1) == HOSTED_URL


def test_the_invoice_email_sums_up_the_lines_and_totals() -> None:
    email = JinjaEmailRenderer().render("invoice", an_invoice_document(credit_applied=1000))
    html = text_of(email.html)
    text = " ".join(email.text.split())

    assert "Consulting, March 10 \u00d7 €100.00 \u00b7 tax 19% €1,000.00" in html
    assert "Consulting, March 10 x €100.00, tax 19%: €1,000.00" in text
    for label, value in [
        ("Subtotal", "€1,025.00"),
        ("Tax 19% on €1,000.00", "€190.00"),
        ("Tax 7% on €25.00", "€1.75"),
        ("Total", "€1,216.75"),
        ("Credit applied", f"{MINUS}€10.00"),
        ("Amount due", "€1,206.75"),
    ]:
        assert f"{label} {value}" in html
        assert f"{label}: {value.replace(MINUS, '-')}" in text


def test_an_overdue_invoice_email_says_it_is_overdue() -> None:
    email = JinjaEmailRenderer().render("invoice", an_invoice_document(overdue=True))

    assert "Overdue: it was due on 31 March 2026" in text_of(email.html)
    assert "Overdue: it was due on 31 March 2026" in email.text


@pytest.mark.parametrize("kind", EMAIL_KINDS)
def test_every_email_links_to_the_hosted_page_in_both_bodies(kind: EmailKind) -> None:
    email = JinjaEmailRenderer().render(kind, an_invoice_document(), a_payment(), ReminderStep("after", 15))

    assert HOSTED_URL in [link["href"] for link in ParsedPage(email.html).all("a")]
    assert HOSTED_URL in email.text.split()


@pytest.mark.parametrize("kind", EMAIL_KINDS)
def test_every_email_is_branded_with_the_organisation_logo_and_colour(kind: EmailKind) -> None:
    email = JinjaEmailRenderer().render(kind, an_invoice_document(), a_payment(), ReminderStep("after", 15))
    html = ParsedPage(email.html)

    assert {"src": LOGO_URL, "alt": "Acme Ltd logo"}.items() <= html.all("img")[0].items()
    assert BRAND in email.html
    assert "Acme Ltd" in html.text


def test_an_email_without_a_logo_names_the_organisation_in_words() -> None:
    email = JinjaEmailRenderer().render("invoice", an_invoice_document(logo_url=None))
    html = ParsedPage(email.html)

    assert html.all("img") == []
    assert re.search(r"font-weight:bold;color:#111827;\">Acme Ltd</td>", email.html)


def test_the_email_layout_is_a_table_at_most_600_pixels_wide_with_inline_styles() -> None:
    email = JinjaEmailRenderer().render("invoice", an_invoice_document())
    html = ParsedPage(email.html)

    assert any("max-width:600px" in table.get("style", "") for table in html.all("table"))
    assert html.all("link") == []
    assert html.all("style") == []


def test_the_invoice_email_shows_how_to_pay_by_bank_transfer_and_cheque_when_configured() -> None:
    document = an_invoice_document(bank_transfer=BANK_TRANSFER, cheque=CHEQUE)

    email = JinjaEmailRenderer().render("invoice", document)

    for body in (text_of(email.html), " ".join(email.text.split())):
        assert "DE89 3704 0044 0532 0130 00" in body
        assert "COBADEFFXXX" in body
        assert "Payment reference" in body
        assert "ACME-00001" in body
        assert "Make your cheque payable to Acme Trading Ltd" in body
        assert "PO Box 42" in body


def test_the_invoice_email_shows_the_memo() -> None:
    document = an_invoice_document(memo="Thanks for your business!\nPO 4711")

    email = JinjaEmailRenderer().render("invoice", document)

    assert "Note from Acme Ltd Thanks for your business! PO 4711" in text_of(email.html)
    assert "Thanks for your business!\nPO 4711" in email.text


def test_the_text_bodies_hold_no_markup() -> None:
    document = an_invoice_document(memo="See you soon", bank_transfer=BANK_TRANSFER, cheque=CHEQUE)

    for kind in EMAIL_KINDS:
        text = JinjaEmailRenderer().render(kind, document, a_payment(), ReminderStep("before", 3)).text

        assert re.search(r"</?[A-Za-z!]|&[a-z]+;|&#", text) is None, text


def test_an_organisation_name_with_a_line_break_cannot_add_a_header_to_the_subject() -> None:
    document = an_invoice_document(seller_name="Acme Ltd\r\nBcc: victim@example.test")

    email = JinjaEmailRenderer().render("invoice", document)

    assert "\n" not in email.subject
    assert "\r" not in email.subject


# ---------------------------------------------------------------------------------------------
# Void notice and payment receipt


def test_the_void_notice_tells_the_customer_the_invoice_need_not_be_paid() -> None:
    document = an_invoice_document(status="void")

    email = JinjaEmailRenderer().render("void_notice", document)

    assert email.subject == "Invoice ACME-00001 from Acme Ltd has been voided"
    for body in (text_of(email.html), " ".join(email.text.split())):
        assert "Acme Ltd has voided invoice ACME-00001" in body
        assert "no longer needs to be paid" in body
        assert "credit balance" not in body


def test_the_void_notice_says_what_was_already_paid_went_to_the_credit_balance() -> None:
    document = an_invoice_document(status="void", amount_paid=5000)

    email = JinjaEmailRenderer().render("void_notice", document)

    expected = "The €50.00 already paid on this invoice has been added to your credit balance with Acme Ltd."
    assert expected in text_of(email.html)
    assert expected in " ".join(email.text.split())


def test_a_payment_receipt_shows_the_payment_and_what_is_still_due() -> None:
    document = an_invoice_document(amount_paid=5000)  # total €1,216.75
    payment = a_payment(5000, method="bank_transfer", reference="SEPA-7781")

    email = JinjaEmailRenderer().render("payment_receipt", document, payment)
    html = text_of(email.html)

    assert email.subject == "Payment received for invoice ACME-00001"
    assert "Amount paid €50.00" in html
    assert "Payment method Bank transfer" in html
    assert "Date received 20 March 2026" in html
    assert "Reference SEPA-7781" in html
    assert "€1,166.75 is still due on this invoice, by 31 March 2026." in html
    assert "Amount paid: €50.00" in email.text
    assert "Payment method: Bank transfer" in email.text
    assert "Date received: 20 March 2026" in email.text
    assert "Reference: SEPA-7781" in email.text
    assert "€1,166.75 is still due on this invoice, by 31 March 2026." in email.text


def test_the_receipt_of_the_last_payment_says_the_invoice_is_paid_in_full() -> None:
    document = an_invoice_document(status="paid", amount_paid=121675)
    payment = a_payment(121675, method="card", reference=None)

    email = JinjaEmailRenderer().render("payment_receipt", document, payment)

    assert "Invoice ACME-00001 is now paid in full." in text_of(email.html)
    assert "Invoice ACME-00001 is now paid in full." in email.text
    assert "Payment method: Card" in email.text
    assert "Reference" not in email.text
    assert "still due" not in email.text


def test_a_receipt_without_its_payment_is_refused() -> None:
    with pytest.raises(ValueError, match="payment"):
        JinjaEmailRenderer().render("payment_receipt", an_invoice_document())


# ---------------------------------------------------------------------------------------------
# Injected markup is shown as text, never run

INJECTION_PLACES = ["buyer_name", "seller_name", "line_description", "memo"]


def a_document_with(place: str, payload: str) -> InvoiceDocument:
    if place == "buyer_name":
        return an_invoice_document(buyer_name=payload)
    if place == "seller_name":
        return an_invoice_document(seller_name=payload)
    if place == "line_description":
        return an_invoice_document(lines=[(payload, "1", 1000, "0")])
    return an_invoice_document(memo=payload)


def assert_shown_as_text(markup: str, payload: str) -> None:
    page = ParsedPage(markup)
    assert payload not in markup
    assert str(escape(payload)) in markup
    assert payload in page.text
    assert page.all("script") == []
    assert not [attributes for _, attributes in page.elements if "onerror" in attributes]


@pytest.mark.parametrize("payload", [SCRIPT, ATTRIBUTE_BREAKOUT])
@pytest.mark.parametrize("place", INJECTION_PLACES)
def test_markup_in_customer_data_is_escaped_in_the_invoice_email(place: str, payload: str) -> None:
    email = JinjaEmailRenderer().render("invoice", a_document_with(place, payload))

    assert_shown_as_text(email.html, payload)


@pytest.mark.parametrize("kind", ["void_notice", "payment_receipt"])
@pytest.mark.parametrize("payload", [SCRIPT, ATTRIBUTE_BREAKOUT])
def test_markup_in_names_is_escaped_in_the_other_emails(kind: EmailKind, payload: str) -> None:
    document = an_invoice_document(seller_name=payload, buyer_name=payload, memo=payload)

    email = JinjaEmailRenderer().render(kind, document, a_payment(reference=payload))

    assert_shown_as_text(email.html, payload)


@pytest.mark.parametrize("payload", [SCRIPT, ATTRIBUTE_BREAKOUT])
@pytest.mark.parametrize("place", INJECTION_PLACES)
def test_markup_in_customer_data_is_escaped_on_the_hosted_page(place: str, payload: str) -> None:
    page = JinjaHostedPageRenderer().invoice_page(a_document_with(place, payload))

    assert_shown_as_text(page, payload)


def test_markup_in_a_notice_is_escaped_on_the_hosted_page() -> None:
    page = JinjaHostedPageRenderer().invoice_page(an_invoice_document(), notice=SCRIPT)

    assert_shown_as_text(page, SCRIPT)


# ---------------------------------------------------------------------------------------------
# The hosted invoice page


def test_the_hosted_page_is_a_complete_page_that_needs_no_network_or_script() -> None:
    markup = JinjaHostedPageRenderer().invoice_page(an_invoice_document())
    page = ParsedPage(markup)

    assert markup.startswith("<!DOCTYPE html>")
    assert page.all("html") == [{"lang": "en"}]
    assert {"name": "viewport", "content": "width=device-width, initial-scale=1"} in page.all("meta")
    assert re.search(r"<title>Invoice ACME-00001 from Acme Ltd</title>", markup)
    assert page.all("script") == []
    assert page.all("link") == []
    assert [tag for tag in ("header", "main", "section", "table") if not page.all(tag)] == []


def test_the_hosted_page_shows_the_invoice_as_billed() -> None:
    document = an_invoice_document(bank_transfer=BANK_TRANSFER)
    page = page_for(document)

    assert "Invoice ACME-00001" in page.text
    assert "Open" in page.text
    assert "Amount due €1,216.75" in page.text
    assert "Issue date 1 March 2026" in page.text
    assert "Due date 31 March 2026" in page.text
    assert "From Acme Ltd 1 High Street London EC1A 1BB United Kingdom" in page.text
    assert "Bill to Globex GmbH Friedrichstraße 123 10117 Berlin Germany" in page.text
    assert "Consulting, March 10 €100.00 19% €1,000.00" in page.text
    assert "Hosting 1 €25.00 7% €25.00" in page.text
    assert "Subtotal €1,025.00" in page.text
    assert "Tax 19% on €1,000.00 €190.00" in page.text
    assert "Tax 7% on €25.00 €1.75" in page.text
    assert "Total €1,216.75" in page.text
    assert "Credit applied" not in page.text
    assert "Amount paid" not in page.text
    download = {"class": "button button-secondary", "href": f"{HOSTED_URL}/pdf", "download": "ACME-00001.pdf"}
    assert download in page.all("a")
    assert "Download PDF" in page.text


def test_the_hosted_page_shows_credit_applied_and_amounts_paid() -> None:
    page = page_for(an_invoice_document(credit_applied=1000, amount_paid=5000))

    assert f"Credit applied {MINUS}€10.00" in page.text
    assert f"Amount paid {MINUS}€50.00" in page.text
    assert "Amount due €1,156.75" in page.text


def test_the_lines_table_is_described_for_screen_readers() -> None:
    markup = JinjaHostedPageRenderer().invoice_page(an_invoice_document())
    page = ParsedPage(markup)

    assert page.all("caption")
    assert {"scope": "col"} in page.all("th")
    assert {"scope": "row"} in page.all("th")


def test_the_hosted_page_shows_the_logo_with_alt_text() -> None:
    page = page_for(an_invoice_document())

    assert {"class": "logo", "src": LOGO_URL, "alt": "Acme Ltd logo"} in page.all("img")


@pytest.mark.parametrize(
    ("status", "overdue", "badges"),
    [
        ("open", False, ["Open"]),
        ("open", True, ["Open", "Overdue"]),
        ("paid", False, ["Paid"]),
        ("void", False, ["Void"]),
        ("uncollectible", False, ["Uncollectible"]),
    ],
)
def test_the_status_badge_says_where_the_invoice_stands(
    status: InvoiceStatus, overdue: bool, badges: list[str]
) -> None:
    markup = JinjaHostedPageRenderer().invoice_page(an_invoice_document(status=status, overdue=overdue))

    shown = re.findall(r'<span class="badge badge-\w+">(?:<span[^>]*>Status: </span>)?(\w+)</span>', markup)
    assert shown == badges


def test_a_paid_invoice_thanks_the_customer_and_a_void_one_asks_for_nothing() -> None:
    paid = page_for(an_invoice_document(status="paid", amount_paid=121675))
    void = page_for(an_invoice_document(status="void"))

    assert "Paid in full. Thank you!" in paid.text
    assert "This invoice has been voided and no longer needs to be paid." in void.text
    assert "Amount due" not in void.text


@pytest.mark.parametrize("card_payments", [True, False])
def test_the_page_offers_pay_by_card_only_when_a_card_provider_is_connected(card_payments: bool) -> None:
    markup = JinjaHostedPageRenderer().invoice_page(an_invoice_document(card_payments=card_payments))
    page = ParsedPage(markup)

    forms = page.all("form")
    if card_payments:
        assert forms == [{"method": "post", "action": f"{HOSTED_URL}/checkout"}]
        assert re.search(r'<button type="submit"[^>]*>Pay by card</button>', markup)
    else:
        assert forms == []
        assert "Pay by card" not in page.text


def test_the_page_shows_bank_transfer_and_cheque_instructions_when_configured() -> None:
    page = page_for(an_invoice_document(bank_transfer=BANK_TRANSFER, cheque=CHEQUE))

    assert "Bank transfer" in page.text
    assert "Account name Acme Ltd" in page.text
    assert "IBAN DE89 3704 0044 0532 0130 00" in page.text
    assert "BIC COBADEFFXXX" in page.text
    assert "Payment reference ACME-00001" in page.text
    assert "Transfers usually arrive within one business day." in page.text
    assert (
        "Cheque Make your cheque payable to Acme Trading Ltd and write ACME-00001 on the back." in page.text
    )
    assert "Acme Ltd PO Box 42 London EC1A 1BB" in page.text


def test_the_page_shows_no_payment_instructions_when_none_are_configured() -> None:
    page = page_for(an_invoice_document())

    assert "Bank transfer" not in page.text
    assert "IBAN" not in page.text
    assert "Cheque" not in page.text


def test_a_paid_invoice_no_longer_shows_how_to_pay() -> None:
    page = page_for(an_invoice_document(status="paid", bank_transfer=BANK_TRANSFER, cheque=CHEQUE))

    assert "IBAN" not in page.text
    assert "Cheque" not in page.text


def test_a_notice_is_shown_in_an_alert() -> None:
    markup = JinjaHostedPageRenderer().invoice_page(an_invoice_document(), notice="Your card was declined.")

    alert = re.search(r'<div class="alert" role="alert">(.*?)</div>', markup, re.DOTALL)
    assert alert
    assert alert.group(1).strip() == "Your card was declined."


def test_without_a_notice_there_is_no_alert() -> None:
    markup = JinjaHostedPageRenderer().invoice_page(an_invoice_document())

    assert 'role="alert"' not in markup


@pytest.mark.parametrize(("brand", "dark_text"), [("#FFEB3B", True), ("#1A237E", False)])
def test_text_on_the_brand_colour_is_readable(brand: str, dark_text: bool) -> None:
    markup = JinjaHostedPageRenderer().invoice_page(an_invoice_document(brand_colour=brand))

    shown_brand, text = brand_colours_of(markup)
    assert shown_brand == brand
    assert contrast_ratio(text, brand) >= 4.5
    if dark_text:
        assert relative_luminance(text) < 0.05
    else:
        assert text == "#FFFFFF"
    email = JinjaEmailRenderer().render("invoice", an_invoice_document(brand_colour=brand)).html
    button = re.search(r'background-color:(#[0-9A-F]{6});">\s*<a [^>]*color:(#[0-9A-F]{6})', email)
    assert button
    assert button.groups() == (brand, text)


@settings(database=None, deadline=None)
@given(st.integers(min_value=0, max_value=0xFFFFFF))
def test_any_brand_colour_gets_text_and_links_of_at_least_4_5_to_1(value: int) -> None:
    colour = f"#{value:06X}"

    assert contrast_ratio(text_colour_on(colour), colour) >= 4.5
    assert contrast_ratio(ink_on_white(colour), "#FFFFFF") >= 4.5


def test_an_invalid_brand_colour_never_reaches_the_stylesheet() -> None:
    markup = JinjaHostedPageRenderer().invoice_page(
        an_invoice_document(brand_colour="red;}body{display:none")
    )

    assert "display:none" not in markup
    assert brand_colours_of(markup)[0] == "#1A73E8"


def test_the_not_found_page_is_friendly_and_reveals_no_organisation() -> None:
    renderer = JinjaHostedPageRenderer()
    document = an_invoice_document(brand_colour="#AB47BC", memo="Project Falcon")
    renderer.invoice_page(document)

    markup = renderer.not_found_page()
    page = ParsedPage(markup)

    assert "This invoice link is not valid" in page.text
    assert page.all("html") == [{"lang": "en"}]
    assert page.all("img") == []
    for secret in ("Acme", "Globex", NUMBER, "#AB47BC", "Falcon", "billing@acme.test", HOSTED_URL):
        assert secret not in markup

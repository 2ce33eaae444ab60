# ruff: noqa: RUF001 - Arabic labels, written with their own letters on purpose
"""Every shipped language, as a customer reads it: the invoice email, the hosted page and the PDF
show the catalog's words and the locale's dates and amounts; invoice numbers, IBANs and tax ids stay
exactly as stored. Then the fields that choose the locale, through the API.
"""

from __future__ import annotations

import html
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from remit.adapters.html_rendering import JinjaEmailRenderer, JinjaHostedPageRenderer
from remit.adapters.localization import SHIPPED_LANGUAGES, text_direction
from remit.adapters.pdf_invoice import FpdfInvoiceRenderer
from remit.domain.documents import DocumentParty, InvoiceDocument
from remit.domain.invoice import TaxBreakdownLine, priced_line
from remit.domain.organisation import BankTransferDetails
from remit.domain.values import Address
from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.test_pdf_scripts import text_of

NUMBER = "ACME/2026-0042"
IBAN = "DE89370400440532013000"
TAX_ID = "DE136695976"


def a_document(locale: str, currency: str = "EUR", unit_amount: int = 123456) -> InvoiceDocument:
    line = priced_line("li_1", "Consulting", Decimal("1"), unit_amount, Decimal("0"), None)
    return InvoiceDocument(
        organisation_id="org_acme",
        invoice_id="inv_1",
        seller=DocumentParty(name="Acme GmbH", email="billing@acme.test", tax_id=TAX_ID),
        buyer=DocumentParty(
            name="Globex",
            email="ap@globex.test",
            address=Address(line1="Friedrichstraße 123", city="Berlin", postal_code="10117", country="DE"),
        ),
        brand_colour="#1A73E8",
        logo_url=None,
        locale=locale,
        number=NUMBER,
        status="open",
        currency=currency,
        issue_date=date(2026, 3, 1),
        due_date=date(2026, 3, 31),
        overdue=False,
        lines=[line],
        tax_breakdown=[TaxBreakdownLine(tax_rate=Decimal("0"), taxable_amount=unit_amount, tax_amount=0)],
        subtotal=unit_amount,
        tax_total=0,
        total=unit_amount,
        credit_applied=0,
        amount_paid=0,
        amount_due=unit_amount,
        memo=None,
        footer=None,
        hosted_url="https://pay.remit.test/i/hp_0123456789abcdef01234567",
        pdf_url="https://pay.remit.test/i/hp_0123456789abcdef01234567/pdf",
        bank_transfer=BankTransferDetails(account_name="Acme GmbH", iban=IBAN, bic="COBADEFFXXX"),
        cheque=None,
        card_payments=False,
    )


# What an accountant of each language expects to read, and how its locale writes 1,234.56 EUR and
# 31 March 2026 (CLDR, through Babel). "pdf_money" and "pdf_date": how pdftotext reads them back where
# that differs (right to left, see below).
EXPECTED: dict[str, dict[str, Any]] = {
    "en": {
        "labels": ["Invoice number", "Issue date", "Due date", "Subtotal", "Total", "Amount due"],
        "pdf": ["INVOICE", "Due date"],
        "money": "€1,234.56",
        "date": "31 March 2026",
    },
    "de-DE": {
        "labels": ["Rechnungsnummer", "Rechnungsdatum", "Fälligkeitsdatum", "Zwischensumme", "Gesamtbetrag"],
        "pdf": ["RECHNUNG", "Fälligkeitsdatum", "USt."],
        "money": "1.234,56 €",
        "date": "31. März 2026",
    },
    "fr-FR": {
        "labels": ["Numéro de facture", "Date d'échéance", "Total HT", "Total TTC", "Montant dû"],
        "pdf": ["FACTURE", "Date d'échéance", "TVA"],
        "money": "1 234,56 €",
        "date": "31 mars 2026",
    },
    "es-ES": {
        "labels": ["Número de factura", "Fecha de emisión", "Fecha de vencimiento", "Base imponible"],
        "pdf": ["FACTURA", "IVA"],
        "money": "1.234,56 €",
        "date": "31 de marzo de 2026",
    },
    "it-IT": {
        "labels": ["Numero fattura", "Data fattura", "Data di scadenza", "Imponibile", "Importo dovuto"],
        "pdf": ["FATTURA", "IVA"],
        "money": "1.234,56 €",
        "date": "31 marzo 2026",
    },
    "nl-NL": {
        "labels": ["Factuurnummer", "Factuurdatum", "Vervaldatum", "Subtotaal", "Te betalen"],
        "pdf": ["FACTUUR", "Btw"],
        "money": "€ 1.234,56",
        "date": "31 maart 2026",
    },
    "pt-PT": {
        "labels": ["Número da fatura", "Data de emissão", "Data de vencimento", "Valor em dívida"],
        "pdf": ["FATURA", "IVA"],
        "money": "1 234,56 €",
        "date": "31 de março de 2026",
    },
    "ja-JP": {
        "labels": ["請求書番号", "請求日", "支払期限", "小計", "合計", "ご請求金額"],
        "pdf": ["請求書", "支払期限", "消費税"],
        "money": "€1,234.56",
        "date": "2026年3月31日",
    },
    # A bare "ar", as most Arabic-speaking customers are stored: Babel writes its amounts and dates
    # with Latin digits (as it does for ar-EG and ar-SA, see below), an amount opened by a
    # right-to-left mark. The PDF's labels are the ones without a lam-alef or lam-yeh ligature, whose
    # letters pdftotext reads in drawing order (test_pdf_scripts); the amount it reads in drawing
    # order too ("€ 1,234.56", which reads 1,234.56 € from the right), and the day of a date, which
    # starts the right-to-left run, before it with no space.
    "ar": {
        "labels": ["رقم الفاتورة", "تاريخ الإصدار", "تاريخ الاستحقاق", "المجموع الفرعي", "الإجمالي"],
        "pdf": ["فاتورة", "رقم الفاتورة", "المجموع الفرعي", "الضريبة", "المبلغ المستحق"],
        "money": "\u200f1,234.56 €",
        "date": "31 مارس 2026",
        "pdf_money": "\u200f€ 1,234.56",
        "pdf_date": "31مارس 2026",
    },
}


def plain(text: str) -> str:
    """Text with CLDR's no-break and narrow no-break spaces read as spaces, and runs of space as one."""
    return re.sub(r"[ \u00a0\u202f]+", " ", text)


def opening_tag(locale: str) -> str:
    """The page's language, and its direction where it is written right to left."""
    direction = ' dir="rtl"' if text_direction(locale) == "rtl" else ""
    return f'<html lang="{locale}"{direction}'


def test_every_shipped_language_is_checked_here() -> None:
    assert {tag.split("-")[0] for tag in EXPECTED} == set(SHIPPED_LANGUAGES)


@pytest.mark.parametrize("locale", sorted(EXPECTED))
def test_the_invoice_email_is_in_the_customers_language_and_formats(locale: str) -> None:
    expected = EXPECTED[locale]
    email = JinjaEmailRenderer().render("invoice", a_document(locale))

    for label in expected["labels"]:
        assert label in plain(html.unescape(email.html)), (locale, label)
    for body in (plain(html.unescape(email.html)), plain(email.text)):
        assert expected["money"] in body
        assert expected["date"] in body
        assert NUMBER in body
        assert IBAN[:4] + " " + IBAN[4:8] in body
    assert NUMBER in email.subject
    assert opening_tag(locale) in email.html


@pytest.mark.parametrize("locale", sorted(EXPECTED))
def test_the_hosted_page_is_in_the_customers_language_and_formats(locale: str) -> None:
    expected = EXPECTED[locale]
    page = plain(html.unescape(JinjaHostedPageRenderer().invoice_page(a_document(locale))))

    for label in expected["labels"]:
        assert label in page, (locale, label)
    assert expected["money"] in page
    assert expected["date"] in page
    assert NUMBER in page
    assert "DE89 3704 0044 0532 0130 00" in page
    assert TAX_ID in page
    assert opening_tag(locale) in page


@pytest.mark.parametrize("locale", sorted(EXPECTED))
def test_the_pdf_is_in_the_customers_language_and_formats(locale: str, tmp_path: Path) -> None:
    expected = EXPECTED[locale]
    content = FpdfInvoiceRenderer().render(a_document(locale), None)
    # poppler's pdftotext, as the script tests read PDFs (pypdf reads CJK labels with NULs between)
    text = plain(text_of(content, tmp_path))

    for label in expected["pdf"]:
        assert label in text, (locale, label)
    assert expected.get("pdf_money", expected["money"]) in text
    assert expected.get("pdf_date", expected["date"]) in text
    assert NUMBER in text
    assert "DE89 3704 0044 0532 0130 00" in text
    assert TAX_ID in text


def test_yen_are_written_as_japan_writes_them() -> None:
    page = plain(
        JinjaHostedPageRenderer().invoice_page(a_document("ja-JP", currency="JPY", unit_amount=150000))
    )

    assert "￥150,000" in page


def test_a_locale_without_a_catalog_has_english_words_and_its_own_formats() -> None:
    # Hebrew: no catalog is shipped, so the labels are English; dates, amounts and the page's
    # direction follow the Hebrew locale.
    page = JinjaHostedPageRenderer().invoice_page(a_document("he"))
    email = JinjaEmailRenderer().render("invoice", a_document("he"))

    assert "Invoice number" in page
    assert "Invoice number" in email.text
    assert "31 במרץ 2026" in page
    assert '<html lang="he" dir="rtl">' in page
    assert '<html lang="he" dir="rtl">' in email.html
    assert NUMBER in page
    assert "DE89 3704 0044 0532 0130 00" in page


@pytest.mark.parametrize("locale", ["ar-EG", "ar-SA"])
def test_every_arabic_locale_reads_the_arabic_catalog_with_latin_digits(locale: str) -> None:
    # CLDR's own numbering for Egypt and Saudi Arabia is Arabic-Indic digits; Babel, and so
    # Remit, writes amounts and dates in Latin digits for every Arabic locale, like the invoice
    # number, the IBAN and the day counts of reminders around them.
    page = plain(html.unescape(JinjaHostedPageRenderer().invoice_page(a_document(locale))))

    assert "رقم الفاتورة" in page
    assert "\u200f1,234.56 €" in page
    assert "31 مارس 2026" in page
    assert f'<html lang="{locale}" dir="rtl">' in page


def test_reminders_count_days_in_the_customers_language() -> None:
    from remit.domain.reminders import ReminderStep

    one = JinjaEmailRenderer().render("reminder", a_document("de-DE"), reminder=ReminderStep("after", 1))
    many = JinjaEmailRenderer().render("reminder", a_document("de-DE"), reminder=ReminderStep("after", 15))

    assert "1 Tag überfällig" in one.subject
    assert "15 Tage überfällig" in many.subject


@pytest.mark.parametrize(
    ("days", "phrase"),
    [
        (1, "متأخرة يومًا واحدًا"),
        (2, "متأخرة يومين"),
        (3, "متأخرة 3 أيام"),
        (15, "متأخرة 15 يومًا"),
        (100, "متأخرة 100 يوم"),
    ],
)
def test_reminders_count_days_in_the_six_arabic_plural_forms(days: int, phrase: str) -> None:
    from remit.domain.reminders import ReminderStep

    email = JinjaEmailRenderer().render("reminder", a_document("ar"), reminder=ReminderStep("after", days))

    assert phrase in email.subject


# ---------------------------------------------------------------------------------------------
# Choosing the locale through the API


def test_an_organisation_writes_in_english_unless_told_otherwise(api: ApiClient) -> None:
    created = api.post("/v1/organisations", {"name": "Acme", "default_currency": "EUR"}).json()

    assert created["locale"] == "en"


def test_locales_are_stored_in_their_canonical_bcp_47_form(api: ApiClient) -> None:
    billing = Billing(api, locale="de-de")
    organisation = api.get(f"/v1/organisations/{billing.org}").json()
    customer = api.patch(f"{billing.base}/customers/{billing.customer}", {"preferred_locale": "ja-jp"}).json()

    assert organisation["locale"] == "de-DE"
    assert customer["preferred_locale"] == "ja-JP"


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        ("organisation", "locale", "xx-YY"),
        ("organisation", "locale", None),
        ("customer", "preferred_locale", "klingon"),
        ("customer", "preferred_locale", 7),
    ],
)
def test_an_unknown_locale_is_a_422_naming_the_field(
    api: ApiClient, path: str, field: str, value: Any
) -> None:
    billing = Billing(api)
    url = (
        f"/v1/organisations/{billing.org}"
        if path == "organisation"
        else f"{billing.base}/customers/{billing.customer}"
    )

    response = api.patch(url, {field: value})

    assert response.status == 422, response.body
    assert field in response.body.decode()


def test_a_customer_without_a_preference_reads_the_organisations_locale_and_can_clear_it(
    api: ApiClient,
) -> None:
    billing = Billing(api, locale="fr-FR")
    url = f"{billing.base}/customers/{billing.customer}"
    api.patch(url, {"preferred_locale": "it-IT"})

    cleared = api.patch(url, {"preferred_locale": None}).json()

    assert cleared["preferred_locale"] is None


@pytest.mark.parametrize(
    ("organisation_locale", "customer_locale", "expected_word"),
    [
        ("fr-FR", "de-DE", "Rechnungsnummer"),
        ("fr-FR", None, "Numéro de facture"),
        ("en", None, "Invoice number"),
    ],
)
def test_documents_use_the_customers_locale_else_the_organisations_else_english(
    api: ApiClient, organisation_locale: str, customer_locale: str | None, expected_word: str
) -> None:
    billing = Billing(api, locale=organisation_locale)
    api.patch(f"{billing.base}/customers/{billing.customer}", {"preferred_locale": customer_locale})
    invoice = billing.finalized()

    page = api.get(invoice["hosted_url"].split(".test", 1)[1])

    assert page.status == 200
    assert expected_word in page.body.decode()

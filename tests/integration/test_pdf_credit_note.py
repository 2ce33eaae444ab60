# ruff: noqa: RUF001 - Japanese and Arabic words, written with their own letters on purpose
"""The credit note PDF as its customer reads it: text extracted with poppler's pdftotext (as the
invoice's scripts and languages are checked), in every shipped language.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from remit.adapters.localization import SHIPPED_LANGUAGES
from remit.adapters.pdf_credit_note import FpdfCreditNoteRenderer
from remit.domain.credit_notes import CreditNote
from remit.domain.documents import CreditNoteDocument, DocumentParty
from remit.domain.values import Address
from tests.integration.credit_notes import a_credit_note
from tests.integration.test_pdf_invoice import HOSTED_URL
from tests.integration.test_pdf_invoice import text_of as pypdf_text
from tests.integration.test_pdf_scripts import letters, text_of, unspaced

SCRIPT = "<script>alert(1)</script>"


def credit_note_document(credit_note: CreditNote | None = None, **changes: Any) -> CreditNoteDocument:
    """The document of `credit_note` (by default €1,230 off invoice ACME-2026-0042), from Acme Ltd."""
    note = credit_note or a_credit_note()
    fields: dict[str, Any] = {
        "organisation_id": note.organisation_id,
        "invoice_id": note.invoice_id,
        "credit_note_id": note.id,
        "seller": DocumentParty(
            name="Acme Ltd",
            email="billing@acme.test",
            address=Address(line1="1 High Street", city="London", postal_code="EC1A 1BB", country="GB"),
            tax_id="GB123456789",
        ),
        "buyer": DocumentParty(
            name=note.customer_name or "",
            address=Address(line1="ul. Piotrkowska 104", city="Łódź", postal_code="90-926", country="PL"),
            tax_id="PL7251234567",
        ),
        "brand_colour": "#0F766E",
        "logo_url": None,
        "number": note.number,
        "status": note.status,
        "currency": note.currency,
        "issue_date": note.issue_date,
        "invoice_number": note.invoice_number,
        "invoice_issue_date": note.invoice_issue_date,
        "reason": note.reason,
        "memo": note.memo,
        "lines": note.lines,
        "tax_breakdown": note.tax_breakdown,
        "subtotal": note.subtotal,
        "tax_total": note.tax_total,
        "total": note.total,
        "pre_payment_amount": note.pre_payment_amount,
        "refund_amount": note.refund_amount,
        "credit_amount": note.credit_amount,
        "out_of_band_amount": note.out_of_band_amount,
        "footer": "Acme Ltd, registered in England and Wales No. 01234567.",
        "hosted_url": HOSTED_URL,
        "pdf_url": f"{HOSTED_URL}/credit_notes/{note.id}.pdf",
    }
    return CreditNoteDocument(**(fields | changes))


def drawn(document: CreditNoteDocument, tmp_path: Path, logo: tuple[bytes, str] | None = None) -> str:
    content = FpdfCreditNoteRenderer().render(document, logo)
    assert content.startswith(b"%PDF-")
    return text_of(content, tmp_path)


def test_a_credit_note_is_titled_as_one_and_names_the_invoice_it_corrects_with_its_date(
    tmp_path: Path,
) -> None:
    # Given a credit note of €1,000 + 23% VAT against invoice ACME-2026-0042 of 31 March 2026
    document = credit_note_document()

    # When it is drawn
    text = drawn(document, tmp_path)

    # Then it says what it is, which invoice it corrects and when that was issued, and why
    assert "CREDIT NOTE" in text
    assert "ACME-CN-00001" in text
    assert "Corrects invoice" in text
    assert "ACME-2026-0042" in text
    assert "31 March 2026" in text
    assert "14 April 2026" in text
    assert "Change to the order" in text
    assert "Two of the ten workshop days were cancelled." in text
    # ...with its lines, its tax breakdown and its totals
    assert "Implementation workshop" in text
    assert "€100.00" in text  # the unit price
    assert "23%" in text
    assert "€1,000.00" in text  # subtotal and taxable amount
    assert "€230.00" in text
    assert "Total credited" in text
    assert "€1,230.00" in text
    # ...and how it is settled, with the invoice's page
    assert "Taken off the amount due on invoice ACME-2026-0042" in text
    assert HOSTED_URL in unspaced(text)
    # ...and nothing that asks for payment
    assert "Amount due" not in text
    assert "How to pay" not in text


def test_only_the_ways_of_settling_that_carry_an_amount_are_listed(tmp_path: Path) -> None:
    # Given a credit note on a paid invoice: €500 refunded, €730 to the credit balance
    note = a_credit_note(pre_payment_amount=0, refund_amount=50000, credit_amount=73000)

    text = drawn(credit_note_document(note), tmp_path)

    assert "Refunded" in text
    assert "€500.00" in text
    assert "Added to your credit balance" in text
    assert "€730.00" in text
    assert "Taken off the amount due" not in text
    assert "Settled separately" not in text


def test_a_credit_note_settled_out_of_band_says_so(tmp_path: Path) -> None:
    note = a_credit_note(pre_payment_amount=23000, out_of_band_amount=100000)

    text = drawn(credit_note_document(note), tmp_path)

    assert "Taken off the amount due on invoice ACME-2026-0042" in text
    assert "Settled separately" in text
    assert "Refunded" not in text


def test_a_line_credited_by_amount_or_a_free_line_shows_no_quantity_or_unit_price(tmp_path: Path) -> None:
    note = a_credit_note(
        lines=[
            ("Goodwill discount", None, None, 5000, "23"),
            ("Annual support plan", None, None, 23194, "8"),
        ]
    )

    text = drawn(credit_note_document(note), tmp_path)

    assert "Goodwill discount" in text
    assert "€50.00" in text
    assert "€231.94" in text
    assert "8%" in text
    assert "23%" in text


def test_a_void_credit_note_is_marked_void_and_an_issued_one_carries_no_mark() -> None:
    # The tilted stamp is read with pypdf, as the invoice's is (pdftotext spells it out letter by letter).
    def read(document: CreditNoteDocument) -> str:
        return pypdf_text(PdfReader(io.BytesIO(FpdfCreditNoteRenderer().render(document, None))))

    assert "VOID" in read(credit_note_document(a_credit_note(status="void")))
    assert "VOID" not in read(credit_note_document())


def test_a_credit_note_of_120_lines_continues_over_pages_naming_itself(tmp_path: Path) -> None:
    note = a_credit_note(lines=[(f"Licence seat {index}", "1", 1000, 1000, "20") for index in range(120)])

    text = drawn(credit_note_document(note), tmp_path)

    assert "Credit note ACME-CN-00001 (continued)" in text
    assert "Licence seat 119" in text
    assert "Page 1 of " in text


def test_hostile_text_is_drawn_as_plain_text_without_controls_or_overrides(tmp_path: Path) -> None:
    # Given markup, a right-to-left override, control characters and a very long word where users write
    override = "\u202eEUR 1000\u202c"
    long_word = "A" * 480
    note = a_credit_note(
        lines=[(f"{SCRIPT} **bold** {{nb}} {override} bell\x07 nul\x00", None, None, 1000, "20")],
        memo=f"<b>memo</b>\x1b[31m {long_word}",
        customer_name="<img src=x onerror=alert(1)>\u2066Globex\u2069\x08",
    )

    # When it is drawn, it is drawn (no refusal, no crash)
    text = drawn(credit_note_document(note), tmp_path)

    # Then the markup is printed as written, and the controls and overrides are gone
    assert SCRIPT in text
    assert "**bold** {nb}" in text
    assert "EUR 1000" in text
    assert "<b>memo</b>[31m" in text
    assert unspaced("<img src=x onerror=alert(1)>Globex") in unspaced(text)
    assert long_word in unspaced(text)
    for invisible in ("\u202e", "\u202c", "\u2066", "\u2069", "\x07", "\x00", "\x1b", "\x08"):
        assert invisible not in text


# --- every shipped language -------------------------------------------------------------------

# The title and words each language's accountant expects on a credit note, and how its locale writes
# the invoice's date (31 March 2026). Arabic is compared on letters: see test_pdf_scripts.
LANGUAGES: dict[str, dict[str, Any]] = {
    "en": {"words": ["CREDIT NOTE", "Corrects invoice", "Change to the order", "Total credited"]},
    "de-DE": {"words": ["GUTSCHRIFT", "Bezug auf Rechnung", "Änderung der Bestellung", "31. März 2026"]},
    "fr-FR": {"words": ["AVOIR", "Facture d'origine", "Modification de la commande", "31 mars 2026"]},
    "es-ES": {"words": ["FACTURA RECTIFICATIVA", "Factura rectificada", "Modificación del pedido"]},
    "it-IT": {"words": ["NOTA DI CREDITO", "Fattura di riferimento", "Modifica dell'ordine", "31 marzo"]},
    "nl-NL": {"words": ["CREDITNOTA", "Betreft factuur", "Wijziging van de bestelling", "31 maart 2026"]},
    "pt-PT": {"words": ["NOTA DE CRÉDITO", "Fatura de origem", "Alteração da encomenda"]},
    "ja-JP": {"words": ["クレジットノート", "対象の請求書", "注文内容の変更", "2026年3月31日"]},
    "ar": {"letters": ["إشعاردائن", "تعديلالطلب", "الفاتورةالمصححة"]},
}


def test_every_shipped_language_has_its_credit_note_words_checked() -> None:
    assert {tag.split("-")[0] for tag in LANGUAGES} == set(SHIPPED_LANGUAGES)


@pytest.mark.parametrize("locale", LANGUAGES)
def test_the_credit_note_is_in_the_customers_language(locale: str, tmp_path: Path) -> None:
    # Given a credit note whose customer reads `locale`
    document = credit_note_document(locale=locale)

    # When it is drawn
    text = drawn(document, tmp_path)

    # Then its title, labels and reason are the language's own words, and the numbers are as stored
    expected = LANGUAGES[locale]
    for word in expected.get("words", []):
        assert word in text, (locale, word)
    for word in expected.get("letters", []):
        assert word in letters(text), (locale, word)
    assert "ACME-CN-00001" in text
    assert "ACME-2026-0042" in text


@pytest.mark.parametrize(
    ("locale", "buyer", "description"),
    [
        ("ja-JP", "山田商事 株式会社", "コンサルティング業務"),
        ("ar", "شركة النور للتجارة", "خدمات استشارية"),
        ("en", "Παπαδόπουλος ΟΕ", "Консультационные услуги"),
    ],
)
def test_names_and_lines_in_other_scripts_are_extractable(
    locale: str, buyer: str, description: str, tmp_path: Path
) -> None:
    note = a_credit_note(customer_name=buyer, lines=[(description, "1", 5000, 5000, "10")])
    document = credit_note_document(note, locale=locale)

    text = drawn(document, tmp_path)

    assert letters(buyer) in letters(text)
    assert letters(description) in letters(text)


def test_the_issue_dates_follow_the_locale(tmp_path: Path) -> None:
    note = a_credit_note(issue_date=date(2026, 5, 2), invoice_issue_date=date(2026, 4, 1))

    text = drawn(credit_note_document(note, locale="de-DE"), tmp_path)

    assert "2. Mai 2026" in text
    assert "1. April 2026" in text

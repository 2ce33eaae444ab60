# ruff: noqa: RUF001 - Greek and Cyrillic names, written with their own capitals on purpose
"""The invoice PDF in every script a customer may write: text extracted with poppler's pdftotext.

pdftotext puts right-to-left runs back in logical (reading) order and marks them with embedding
controls, which are dropped before comparing. Two of its habits the Arabic and Hebrew texts steer
clear of (a reader sees neither): it writes the two letters of a ligature glyph (lam-alef, lam-yeh)
in drawing order, and, not knowing a line's direction, a number that ends a right-to-left line before
it; so reading order is compared on letters, and every digit is checked on its own.

The first pages of a Japanese and an Arabic invoice are kept as pictures in docs/ (docs/documents.md).
"""

from __future__ import annotations

import subprocess  # nosec B404 - poppler's tools, with fixed arguments
from dataclasses import dataclass
from pathlib import Path

import pytest

from remit.adapters.pdf_invoice import FpdfInvoiceRenderer
from remit.domain.documents import DocumentParty, InvoiceDocument
from remit.domain.errors import UnrenderableText
from remit.domain.values import Address
from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.test_pdf_invoice import IBAN, invoice_document

DOCS = Path(__file__).resolve().parents[2] / "docs"
# Poppler's tools, installed by `make system-tools`.
PDFTOTEXT, PDFTOPPM = "/usr/bin/pdftotext", "/usr/bin/pdftoppm"
BIDI_CONTROLS = dict.fromkeys(range(0x202A, 0x202F))


@dataclass(frozen=True)
class Script:
    """Names, an address, a line and a memo written in one script."""

    seller: str
    buyer: str
    street: str
    city: str
    description: str
    memo: str
    country: str
    currency: str = "EUR"
    screenshot: str | None = None
    # The customer's locale: the Japanese and Arabic invoices are in their language throughout.
    locale: str = "en"

    def texts(self) -> list[str]:
        return [self.seller, self.buyer, self.street, self.city, self.description, self.memo]


SCRIPTS = {
    "latin": Script(
        "Société Générale Ølstrøm",
        "Łódź Müller Sp. z o.o.",
        "Straße 7, Ærø",
        "Kraków",
        "Façade rénovée, çà et là",
        "Dziękujemy, ñandú, ŭ, ő!",
        "PL",
    ),
    "greek": Script(
        "Εταιρεία Δοκιμή ΑΕ",
        "Παπαδόπουλος ΟΕ",
        "Οδός Ερμού 12",
        "Αθήνα",
        "Συμβουλευτικές υπηρεσίες",
        "Ευχαριστούμε πολύ",
        "GR",
    ),
    "cyrillic": Script(
        "ООО Тест",
        "Иванов и партнёры",
        "ул. Ленина 5",
        "Москва",
        "Консультационные услуги",
        "Спасибо за сотрудничество",
        "BG",
    ),
    "japanese": Script(
        "株式会社テスト",
        "山田商事 株式会社",
        "東京都千代田区1-1",
        "東京",
        "コンサルティング業務",
        "お支払いをお願いいたします",
        "JP",
        currency="JPY",
        screenshot="invoice-pdf-ja.png",
        locale="ja-JP",
    ),
    "chinese": Script(
        "测试有限公司",
        "北京贸易公司",
        "朝阳区建国路88号",
        "北京",
        "技术咨询服务",
        "感谢您的合作",
        "CN",
    ),
    "korean": Script(
        "테스트 주식회사",
        "한국상사",
        "서울특별시 중구 세종대로 110",
        "서울",
        "컨설팅 서비스",
        "감사합니다",
        "KR",
    ),
    "arabic": Script(
        "شركة النور",
        "مؤسسة الرياض",
        "شارع الملك فهد",
        "الرياض",
        "مرحبا خدمات استشارية",
        "مع خالص الشكر",
        "SA",
        currency="SAR",
        screenshot="invoice-pdf-ar.png",
        locale="ar",
    ),
    "hebrew": Script(
        "חברת בדיקה",
        "כהן ושות",
        "רחוב הרצל 5",
        "תל אביב",
        "שירותי ייעוץ",
        "תודה רבה",
        "IL",
    ),
    "thai": Script(
        "บริษัท ทดสอบ จำกัด",
        "ร้านค้าสยาม",
        "ถนนสุขุมวิท",
        "กรุงเทพมหานคร",
        "บริการให้คำปรึกษา",
        "ขอบคุณครับ",
        "TH",
    ),
    "devanagari": Script(
        "परीक्षण प्राइवेट लिमिटेड",
        "शर्मा एंड संस",
        "महात्मा गांधी मार्ग",
        "नई दिल्ली",
        "परामर्श सेवाएँ",
        "धन्यवाद",
        "IN",
    ),
}


def document_in(script: Script, **changes: object) -> InvoiceDocument:
    def party(name: str, tax_id: str) -> DocumentParty:
        address = Address(
            line1=script.street, city=script.city, postal_code="100-0001", country=script.country
        )
        return DocumentParty(name=name, email="billing@example.test", address=address, tax_id=tax_id)

    return invoice_document(
        seller=party(script.seller, "SA300123456700003"),
        buyer=party(script.buyer, "JP1234567890123"),
        lines=[(script.description, "2", 15000, "10")],
        memo=script.memo,
        currency=script.currency,
        locale=script.locale,
        **changes,
    )


def rendered(document: InvoiceDocument) -> bytes:
    return FpdfInvoiceRenderer().render(document, None)


def text_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "invoice.pdf"
    path.write_bytes(pdf)
    extracted = subprocess.run(  # nosec B603 - fixed arguments
        [PDFTOTEXT, "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return extracted.translate(BIDI_CONTROLS)


def unspaced(text: str) -> str:
    """Text without white space: extraction may break a line or put a space between clusters."""
    return "".join(text.split())


def letters(text: str) -> str:
    return "".join(char for char in unspaced(text) if not char.isdigit())


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_character_of_an_invoice_in_any_script_is_in_its_pdf_in_reading_order(
    name: str, tmp_path: Path
) -> None:
    # Given an invoice whose organisation, customer, address, line and memo are written in one script
    script = SCRIPTS[name]

    # When it is rendered and its text extracted
    pdf = rendered(document_in(script))
    text = text_of(pdf, tmp_path)

    # Then every character is there, each text whole and in reading order (right-to-left included)
    for written in script.texts():
        missing = {char for char in written if not char.isspace() and char not in text}
        assert not missing, f"{written!r}: {sorted(missing)} missing from the PDF"
        assert letters(written) in letters(text)
    if script.screenshot:
        first_page_picture(pdf, tmp_path, DOCS / script.screenshot)


def first_page_picture(pdf: bytes, tmp_path: Path, target: Path) -> None:
    """The first page as a PNG at about 70 dpi, like docs/invoice-pdf.png."""
    path = tmp_path / "screenshot.pdf"
    path.write_bytes(pdf)
    prefix = tmp_path / "screenshot"
    subprocess.run(  # nosec B603 - fixed arguments
        [PDFTOPPM, "-png", "-r", "70", "-f", "1", "-singlefile", str(path), str(prefix)], check=True
    )
    picture = prefix.with_suffix(".png").read_bytes()
    if not target.exists() or target.read_bytes() != picture:
        target.write_bytes(picture)


def test_an_arabic_invoice_keeps_its_number_iban_and_tax_ids_exactly_as_stored(tmp_path: Path) -> None:
    # Given an Arabic invoice, whose text is shaped and ordered right to left
    document = document_in(SCRIPTS["arabic"], number="INV/2026-0042")

    text = text_of(rendered(document), tmp_path)

    # Then the identifiers read character for character as stored, left to right
    assert "INV/2026-0042" in text
    assert "SA300123456700003" in text
    assert "JP1234567890123" in text
    assert "DE89 3704 0044 0532 0130 00" in text  # the IBAN, in groups of four as on every invoice
    assert unspaced("DE89 3704 0044 0532 0130 00") == IBAN


def test_a_latin_invoice_loads_no_fallback_font() -> None:
    from remit.adapters.pdf_fonts import font_chain, texts_of

    chain = font_chain(dict(texts_of(document_in(SCRIPTS["latin"]).model_dump(mode="json"))))

    assert chain.fallbacks == []
    assert not chain.shaped


@pytest.mark.parametrize(
    ("character", "named"),
    [("\ue000", "U+E000"), ("\U0001fae0", "U+1FAE0")],
    ids=["private-use", "recent-emoji"],
)
def test_a_character_no_font_has_refuses_the_pdf_naming_it(character: str, named: str) -> None:
    # Given a memo with a character that no font of the chain has
    document = invoice_document(memo=f"Thanks {character}")

    # When it is rendered, Then the render is refused, naming the character and where it is
    with pytest.raises(UnrenderableText) as refused:
        rendered(document)

    [problem] = refused.value.problems
    assert problem.field == "memo"
    assert named in problem.message


def test_the_api_answers_a_problem_for_a_pdf_no_font_can_draw(api: ApiClient) -> None:
    # Given a finalized invoice whose memo holds a private-use character
    acme = Billing(api, email="billing@acme.test")
    invoice = acme.finalized(memo="Thanks \ue000")

    # When its PDF is asked for, by the API and by the hosted page's link
    by_api = api.get(f"{acme.invoice(invoice['id'])}/pdf")
    token = invoice["hosted_url"].rsplit("/", 1)[1]
    by_link = api.get(f"/i/{token}/pdf")

    # Then both answer 422, naming the character; nothing half-drawn is served
    for response in (by_api, by_link):
        assert response.status == 422
        problem = response.json()
        assert problem["type"].endswith("/unrenderable-text")
        assert problem["errors"] == [{"field": "memo", "message": "no font can draw U+E000 (unnamed)"}]

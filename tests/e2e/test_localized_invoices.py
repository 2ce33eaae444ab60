"""Issue's end state, over HTTP against the local stack: a Japanese, a German and an Arabic-speaking
customer of one organisation each receive the invoice email, hosted page and PDF in their own
language and script, with nothing missing (PDF text read with poppler's pdftotext).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import requests

from tests.e2e.local_stack import RunningLocalStack
from tests.e2e.test_local_outbox import Client, wait_for_emails
from tests.integration.test_pdf_scripts import text_of

pytestmark = pytest.mark.e2e

SELLER, STREET = "株式会社テスト", "東京都千代田区1-1"
CUSTOMERS = {
    # locale: the customer's name, a line in their language, and the words each document must show
    "ja-JP": ("山田商事 株式会社", "コンサルティング業務", ["請求書", "支払期限", "小計"]),
    "de-DE": (
        "Müller & Söhne GmbH",
        "Beratungsleistungen",
        ["Rechnung", "Fälligkeitsdatum", "Zwischensumme"],
    ),
    "ar": ("مؤسسة الرياض", "خدمات استشارية", ["فاتورة", "المجموع الفرعي"]),
}


@pytest.mark.parametrize("locale", sorted(CUSTOMERS))
def test_each_customer_gets_email_page_and_pdf_in_their_language(
    stack: RunningLocalStack, locale: str, tmp_path: Path
) -> None:
    client = Client(stack)
    name, line, words = CUSTOMERS[locale]
    organisation = client.call(
        "POST",
        "/v1/organisations",
        {
            "name": "株式会社テスト",
            "default_currency": "EUR",
            "locale": "en",
            "email": "billing@test.example",
        },
        expect=201,
    )
    base = f"/v1/organisations/{organisation['id']}"
    address = f"ap-{uuid.uuid4().hex[:8]}@customer.test"
    customer = client.call(
        "POST",
        f"{base}/customers",
        {
            "name": name,
            "email": address,
            "preferred_locale": locale,
            "address": {"line1": "東京都千代田区1-1"},
        },
        expect=201,
    )
    invoice = client.call(
        "POST",
        f"{base}/invoices",
        {"customer_id": customer["id"], "line_items": [{"description": line, "unit_amount": 150000}]},
        expect=201,
    )
    sent = client.call("POST", f"{base}/invoices/{invoice['id']}/send")

    [email] = wait_for_emails(stack, address, 1)
    page = requests.get(sent["hosted_url"], timeout=30)
    pdf = requests.get(stack.url(f"{base}/invoices/{invoice['id']}/pdf"), headers=stack.auth(), timeout=60)

    assert page.status_code == 200
    assert pdf.status_code == 200
    pdf_text = "".join(text_of(pdf.content, tmp_path).split())
    for word in words:
        assert word in email["html"], (locale, word)
        assert word in page.text, (locale, word)
    assert words[0] in pdf_text, (locale, pdf_text)
    # Every character of the customer, the seller and the line is in the PDF: none was dropped.
    for text in (name, line, "株式会社テスト"):
        assert "".join(text.split()) in pdf_text or set(text.replace(" ", "")) <= set(pdf_text), (
            locale,
            text,
        )
    assert sent["number"] in pdf_text

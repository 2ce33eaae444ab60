# ruff: noqa: RUF001 - Japanese and Arabic subjects, written with their own letters on purpose
"""The credit note email as its customer reads it: the subject and both bodies in the customer's
language, branded as the invoice email, naming the invoice it corrects and linking to its page.
"""

from __future__ import annotations

from typing import Any

import pytest

from remit.adapters.html_rendering import JinjaEmailRenderer
from remit.adapters.localization import SHIPPED_LANGUAGES
from remit.domain.documents import RenderedEmail
from tests.integration.credit_notes import a_credit_note
from tests.integration.test_html_rendering import BRAND, HOSTED_URL, LOGO_URL, an_invoice_document, text_of
from tests.integration.test_pdf_credit_note import credit_note_document

SCRIPT = "<script>alert(1)</script>"


def credit_note_email(locale: str = "en", **changes: Any) -> RenderedEmail:
    """The email of a €1,230 credit note against invoice ACME-2026-0042 (its document's hosted page)."""
    note = a_credit_note(**changes)
    document = credit_note_document(note, locale=locale, hosted_url=HOSTED_URL)
    invoice = an_invoice_document(number=note.invoice_number, locale=locale)
    return JinjaEmailRenderer().render("credit_note", invoice, credit_note=document)


def test_the_credit_note_email_names_the_credit_note_the_invoice_it_corrects_and_the_seller() -> None:
    email = credit_note_email()

    assert email.subject == "Credit note ACME-CN-00001 from Acme Ltd"
    for body in (text_of(email.html), email.text):
        assert "Acme Ltd has issued credit note ACME-CN-00001 for invoice ACME-2026-0042." in body
        assert "Corrects invoice" in body
        assert "31 March 2026" in body  # the invoice's date
        assert "14 April 2026" in body  # the credit note's
        assert "Change to the order" in body
        assert "€1,230.00" in body
        assert "Taken off the amount due on invoice ACME-2026-0042" in body
        assert "Two of the ten workshop days were cancelled." in body
        assert "The credit note is attached to this email as a PDF." in body
        assert "Amount due" not in body


def test_the_credit_note_email_links_to_the_invoices_page_and_is_branded_as_the_invoice_email() -> None:
    email = credit_note_email()

    assert f'href="{HOSTED_URL}"' in email.html
    assert HOSTED_URL in email.text
    assert BRAND in email.html
    assert f'src="{LOGO_URL}"' in email.html


def test_only_the_ways_of_settling_that_carry_an_amount_are_in_the_email() -> None:
    email = credit_note_email(pre_payment_amount=0, refund_amount=100000, out_of_band_amount=23000)

    for body in (text_of(email.html), email.text):
        assert "Refunded" in body
        assert "€1,000.00" in body
        assert "Settled separately" in body
        assert "€230.00" in body
        assert "Taken off the amount due" not in body
        assert "Added to your credit balance" not in body


def test_markup_in_the_memo_and_names_is_escaped_in_html_and_kept_as_written_in_text() -> None:
    email = credit_note_email(memo=f"{SCRIPT} & <b>bold</b>")

    assert SCRIPT not in email.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in email.html
    assert f"{SCRIPT} & <b>bold</b>" in email.text


def test_a_seller_name_with_line_breaks_makes_a_one_line_subject() -> None:
    note = a_credit_note()
    document = credit_note_document(note)
    invoice = an_invoice_document(seller_name="Acme\r\nBcc: victim@example.test")

    email = JinjaEmailRenderer().render("credit_note", invoice, credit_note=document)

    assert "\n" not in email.subject
    assert "\r" not in email.subject


def test_a_credit_note_email_needs_the_credit_note() -> None:
    with pytest.raises(ValueError, match="credit note"):
        JinjaEmailRenderer().render("credit_note", an_invoice_document())


SUBJECTS = {
    "en": "Credit note ACME-CN-00001 from Acme Ltd",
    "de-DE": "Gutschrift ACME-CN-00001 von Acme Ltd",
    "fr-FR": "Avoir ACME-CN-00001 de Acme Ltd",
    "es-ES": "Factura rectificativa ACME-CN-00001 de Acme Ltd",
    "it-IT": "Nota di credito ACME-CN-00001 di Acme Ltd",
    "nl-NL": "Creditnota ACME-CN-00001 van Acme Ltd",
    "pt-PT": "Nota de crédito ACME-CN-00001 de Acme Ltd",
    "ja-JP": "Acme Ltdからのクレジットノート ACME-CN-00001",
    "ar": "إشعار دائن ACME-CN-00001 من Acme Ltd",
}


def test_every_shipped_language_has_its_subject_checked() -> None:
    assert {tag.split("-")[0] for tag in SUBJECTS} == set(SHIPPED_LANGUAGES)


@pytest.mark.parametrize("locale", SUBJECTS)
def test_the_credit_note_email_is_in_the_customers_language(locale: str) -> None:
    email = credit_note_email(locale)

    assert email.subject == SUBJECTS[locale]
    assert f'lang="{locale}"' in email.html
    assert ('dir="rtl"' in email.html) == (locale == "ar")
    if locale != "en":
        assert "Credit note" not in email.text
        assert "Corrects invoice" not in email.text

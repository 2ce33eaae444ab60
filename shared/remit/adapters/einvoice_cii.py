"""An EN 16931 document as a UN/CEFACT Cross Industry Invoice (D16B): Factur-X and XRechnung CII.

The two formats write the same tree; only the guideline (BT-24) differs. Elements follow the order
of the D16B schema's sequences, which the Factur-X EN 16931 schema restricts; lxml escapes every
text, so a name or a description can never change the document's structure.
"""

from __future__ import annotations

from typing import Literal

from lxml import etree

from remit.adapters.einvoice_xml import (
    amount_text,
    date_text,
    number_text,
    serialize,
    text_element,
    unique_notes,
)
from remit.domain.einvoice_documents import (
    Contact,
    DocumentLine,
    EinvoiceDocument,
    Party,
    PaymentMeans,
    PostalAddress,
    VatBreakdown,
)
from remit.domain.einvoices import ElectronicAddress

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NAMESPACES = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}

CiiGuideline = Literal["facturx", "xrechnung_cii"]
GUIDELINES: dict[CiiGuideline, str] = {
    # The Factur-X EN 16931 profile is the standard's own guideline identifier.
    "facturx": "urn:cen.eu:en16931:2017",
    "xrechnung_cii": "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0",
}
BUSINESS_PROCESS = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"


def _rsm(name: str) -> str:
    return f"{{{RSM}}}{name}"


def _ram(name: str) -> str:
    return f"{{{RAM}}}{name}"


def _sub(parent: etree._Element, name: str) -> etree._Element:
    return etree.SubElement(parent, _ram(name))


def _text(parent: etree._Element, name: str, value: str | None, **attributes: str) -> None:
    text_element(parent, _ram(name), value, **attributes)


def _date_time(parent: etree._Element, name: str, value_text: str, *, qualified: bool = False) -> None:
    holder = _sub(parent, name)
    namespace = QDT if qualified else UDT
    element = etree.SubElement(holder, f"{{{namespace}}}DateTimeString", {"format": "102"})
    element.text = value_text


def _yyyymmdd(value_text: str) -> str:
    return value_text.replace("-", "")


def cii_xml(document: EinvoiceDocument, guideline: CiiGuideline) -> bytes:
    """The document as CII XML (UTF-8), for the Factur-X EN 16931 profile or XRechnung."""
    root = etree.Element(_rsm("CrossIndustryInvoice"), nsmap=NAMESPACES)
    context = etree.SubElement(root, _rsm("ExchangedDocumentContext"))
    _text(_sub(context, "BusinessProcessSpecifiedDocumentContextParameter"), "ID", BUSINESS_PROCESS)
    _text(_sub(context, "GuidelineSpecifiedDocumentContextParameter"), "ID", GUIDELINES[guideline])

    header = etree.SubElement(root, _rsm("ExchangedDocument"))
    _text(header, "ID", document.number)
    _text(header, "TypeCode", document.type_code)
    _date_time(header, "IssueDateTime", _yyyymmdd(date_text(document.issue_date)))
    for note in unique_notes(document):
        _text(_sub(header, "IncludedNote"), "Content", note)

    transaction = etree.SubElement(root, _rsm("SupplyChainTradeTransaction"))
    for line in document.lines:
        _line(transaction, line, document)
    _agreement(transaction, document)
    _delivery(transaction, document)
    _settlement(transaction, document)
    return serialize(root)


def _line(transaction: etree._Element, line: DocumentLine, document: EinvoiceDocument) -> None:
    item = _sub(transaction, "IncludedSupplyChainTradeLineItem")
    _text(_sub(item, "AssociatedDocumentLineDocument"), "LineID", line.id)
    _text(_sub(item, "SpecifiedTradeProduct"), "Name", line.name)
    agreement = _sub(item, "SpecifiedLineTradeAgreement")
    _text(_sub(agreement, "NetPriceProductTradePrice"), "ChargeAmount", number_text(line.net_price))
    delivery = _sub(item, "SpecifiedLineTradeDelivery")
    _text(delivery, "BilledQuantity", number_text(line.quantity), unitCode=line.unit_code)
    settlement = _sub(item, "SpecifiedLineTradeSettlement")
    tax = _sub(settlement, "ApplicableTradeTax")
    _text(tax, "TypeCode", "VAT")
    _text(tax, "CategoryCode", line.vat_category)
    if line.vat_rate is not None:
        _text(tax, "RateApplicablePercent", number_text(line.vat_rate))
    if line.period_start or line.period_end:
        period = _sub(settlement, "BillingSpecifiedPeriod")
        if line.period_start:
            _date_time(period, "StartDateTime", _yyyymmdd(date_text(line.period_start)))
        if line.period_end:
            _date_time(period, "EndDateTime", _yyyymmdd(date_text(line.period_end)))
    summation = _sub(settlement, "SpecifiedTradeSettlementLineMonetarySummation")
    _text(summation, "LineTotalAmount", amount_text(line.net_amount))


def _agreement(transaction: etree._Element, document: EinvoiceDocument) -> None:
    agreement = _sub(transaction, "ApplicableHeaderTradeAgreement")
    _text(agreement, "BuyerReference", document.buyer_reference)
    _party(agreement, "SellerTradeParty", document.seller, seller=True)
    _party(agreement, "BuyerTradeParty", document.buyer, seller=False)
    if document.order_reference:
        _text(_sub(agreement, "BuyerOrderReferencedDocument"), "IssuerAssignedID", document.order_reference)


def _party(parent: etree._Element, name: str, party: Party, *, seller: bool) -> None:
    element = _sub(parent, name)
    _text(element, "Name", party.name)
    if party.legal_id or party.trading_name:
        legal = _sub(element, "SpecifiedLegalOrganization")
        _text(legal, "ID", party.legal_id)
        _text(legal, "TradingBusinessName", party.trading_name)
    if party.contact is not None and _has_contact(party.contact):
        _contact(element, party.contact)
    _postal_address(_sub(element, "PostalTradeAddress"), party.address)
    if party.electronic_address is not None:
        _electronic_address(element, party.electronic_address)
    if party.vat_id:
        _text(_sub(element, "SpecifiedTaxRegistration"), "ID", party.vat_id, schemeID="VA")
    if seller and party.tax_registration_id:
        _text(_sub(element, "SpecifiedTaxRegistration"), "ID", party.tax_registration_id, schemeID="FC")


def _postal_address(element: etree._Element, address: PostalAddress) -> None:
    _text(element, "PostcodeCode", address.postal_code)
    _text(element, "LineOne", address.line1)
    _text(element, "LineTwo", address.line2)
    _text(element, "CityName", address.city)
    _text(element, "CountryID", address.country)
    _text(element, "CountrySubDivisionName", address.region)


def _has_contact(contact: Contact) -> bool:
    return bool(contact.name or contact.phone or contact.email)


def _contact(parent: etree._Element, contact: Contact) -> None:
    element = _sub(parent, "DefinedTradeContact")
    _text(element, "PersonName", contact.name)
    if contact.phone:
        _text(_sub(element, "TelephoneUniversalCommunication"), "CompleteNumber", contact.phone)
    if contact.email:
        _text(_sub(element, "EmailURIUniversalCommunication"), "URIID", contact.email)


def _electronic_address(parent: etree._Element, address: ElectronicAddress) -> None:
    _text(_sub(parent, "URIUniversalCommunication"), "URIID", address.id, schemeID=address.scheme)


def _delivery(transaction: etree._Element, document: EinvoiceDocument) -> None:
    delivery = _sub(transaction, "ApplicableHeaderTradeDelivery")
    if document.deliver_to is not None:
        _postal_address(_sub(_sub(delivery, "ShipToTradeParty"), "PostalTradeAddress"), document.deliver_to)
    if document.delivery_date is not None:
        event = _sub(delivery, "ActualDeliverySupplyChainEvent")
        _date_time(event, "OccurrenceDateTime", _yyyymmdd(date_text(document.delivery_date)))


def _settlement(transaction: etree._Element, document: EinvoiceDocument) -> None:
    settlement = _sub(transaction, "ApplicableHeaderTradeSettlement")
    means = document.payment_means
    if means is not None:
        _text(settlement, "PaymentReference", means.remittance_information)
    _text(settlement, "InvoiceCurrencyCode", document.currency)
    if means is not None:
        _payment_means(settlement, means)
    for breakdown in document.vat_breakdown:
        _breakdown(settlement, breakdown)
    if document.period_start or document.period_end:
        period = _sub(settlement, "BillingSpecifiedPeriod")
        if document.period_start:
            _date_time(period, "StartDateTime", _yyyymmdd(date_text(document.period_start)))
        if document.period_end:
            _date_time(period, "EndDateTime", _yyyymmdd(date_text(document.period_end)))
    if document.payment_terms or document.due_date:
        terms = _sub(settlement, "SpecifiedTradePaymentTerms")
        _text(terms, "Description", document.payment_terms)
        if document.due_date:
            _date_time(terms, "DueDateDateTime", _yyyymmdd(date_text(document.due_date)))
    summation = _sub(settlement, "SpecifiedTradeSettlementHeaderMonetarySummation")
    _text(summation, "LineTotalAmount", amount_text(document.line_total))
    _text(summation, "TaxBasisTotalAmount", amount_text(document.tax_exclusive_total))
    _text(summation, "TaxTotalAmount", amount_text(document.tax_total), currencyID=document.currency)
    _text(summation, "GrandTotalAmount", amount_text(document.tax_inclusive_total))
    if document.prepaid_amount:
        _text(summation, "TotalPrepaidAmount", amount_text(document.prepaid_amount))
    _text(summation, "DuePayableAmount", amount_text(document.payable_amount))
    if document.preceding_invoice is not None:
        referenced = _sub(settlement, "InvoiceReferencedDocument")
        _text(referenced, "IssuerAssignedID", document.preceding_invoice.number)
        if document.preceding_invoice.issue_date is not None:
            _date_time(
                referenced,
                "FormattedIssueDateTime",
                _yyyymmdd(date_text(document.preceding_invoice.issue_date)),
                qualified=True,
            )


def _payment_means(settlement: etree._Element, means: PaymentMeans) -> None:
    element = _sub(settlement, "SpecifiedTradeSettlementPaymentMeans")
    _text(element, "TypeCode", means.code)
    if means.iban:
        account = _sub(element, "PayeePartyCreditorFinancialAccount")
        _text(account, "IBANID", means.iban)
        _text(account, "AccountName", means.account_name)
    if means.bic:
        _text(_sub(element, "PayeeSpecifiedCreditorFinancialInstitution"), "BICID", means.bic)


def _breakdown(settlement: etree._Element, breakdown: VatBreakdown) -> None:
    tax = _sub(settlement, "ApplicableTradeTax")
    _text(tax, "CalculatedAmount", amount_text(breakdown.tax_amount))
    _text(tax, "TypeCode", "VAT")
    _text(tax, "ExemptionReason", breakdown.exemption_reason)
    _text(tax, "BasisAmount", amount_text(breakdown.taxable_amount))
    _text(tax, "CategoryCode", breakdown.category)
    _text(tax, "ExemptionReasonCode", breakdown.exemption_reason_code)
    if breakdown.rate is not None:
        _text(tax, "RateApplicablePercent", number_text(breakdown.rate))

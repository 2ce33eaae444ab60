"""An EN 16931 document as an OASIS UBL 2.1 Invoice (380) or CreditNote (381): XRechnung UBL and
Peppol BIS Billing 3.0.

Both formats write the same tree; the specification identifier (BT-24) differs. Elements follow the
UBL 2.1 schema's sequences; lxml escapes every text. A credit note has no `DueDate` of its own in
UBL 2.1: its due date (BT-9) goes to the payment means' `PaymentDueDate`, as EN 16931's UBL binding says.
"""

from __future__ import annotations

from decimal import Decimal
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
from remit.domain.einvoice_documents import DocumentLine, EinvoiceDocument, Party, PostalAddress, VatBreakdown

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"

UblSpecification = Literal["xrechnung_ubl", "peppol_ubl"]
CUSTOMIZATIONS: dict[UblSpecification, str] = {
    "xrechnung_ubl": "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0",
    "peppol_ubl": "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0",
}
PROFILE = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"


def _cac(name: str) -> str:
    return f"{{{CAC}}}{name}"


def _sub(parent: etree._Element, name: str) -> etree._Element:
    return etree.SubElement(parent, _cac(name))


def _text(parent: etree._Element, name: str, value: str | None, **attributes: str) -> None:
    text_element(parent, f"{{{CBC}}}{name}", value, **attributes)


def ubl_xml(document: EinvoiceDocument, specification: UblSpecification) -> bytes:
    """The document as a UBL 2.1 Invoice or CreditNote (UTF-8)."""
    credit_note = document.type_code == "381"
    namespace = CREDIT_NOTE_NS if credit_note else INVOICE_NS
    root = etree.Element(
        f"{{{namespace}}}{'CreditNote' if credit_note else 'Invoice'}",
        nsmap={None: namespace, "cac": CAC, "cbc": CBC},
    )
    currency = document.currency
    _text(root, "CustomizationID", CUSTOMIZATIONS[specification])
    _text(root, "ProfileID", PROFILE)
    _text(root, "ID", document.number)
    _text(root, "IssueDate", date_text(document.issue_date))
    if not credit_note and document.due_date is not None:
        _text(root, "DueDate", date_text(document.due_date))
    _text(root, "CreditNoteTypeCode" if credit_note else "InvoiceTypeCode", document.type_code)
    for note in unique_notes(document):
        _text(root, "Note", note)
    _text(root, "DocumentCurrencyCode", currency)
    _text(root, "BuyerReference", document.buyer_reference)
    if document.period_start or document.period_end:
        period = _sub(root, "InvoicePeriod")
        _text(period, "StartDate", date_text(document.period_start) if document.period_start else None)
        _text(period, "EndDate", date_text(document.period_end) if document.period_end else None)
    if document.order_reference:
        _text(_sub(root, "OrderReference"), "ID", document.order_reference)
    if document.preceding_invoice is not None:
        reference = _sub(_sub(root, "BillingReference"), "InvoiceDocumentReference")
        _text(reference, "ID", document.preceding_invoice.number)
        if document.preceding_invoice.issue_date is not None:
            _text(reference, "IssueDate", date_text(document.preceding_invoice.issue_date))
    _party(_sub(root, "AccountingSupplierParty"), document.seller, seller=True)
    _party(_sub(root, "AccountingCustomerParty"), document.buyer, seller=False)
    if document.delivery_date is not None or document.deliver_to is not None:
        delivery = _sub(root, "Delivery")
        if document.delivery_date is not None:
            _text(delivery, "ActualDeliveryDate", date_text(document.delivery_date))
        if document.deliver_to is not None:
            _address(_sub(delivery, "DeliveryLocation"), document.deliver_to, name="Address")
    _payment_means(root, document, credit_note=credit_note)
    if document.payment_terms:
        _text(_sub(root, "PaymentTerms"), "Note", document.payment_terms)
    tax_total = _sub(root, "TaxTotal")
    _text(tax_total, "TaxAmount", amount_text(document.tax_total), currencyID=currency)
    for breakdown in document.vat_breakdown:
        _breakdown(tax_total, breakdown, currency)
    totals = _sub(root, "LegalMonetaryTotal")
    _text(totals, "LineExtensionAmount", amount_text(document.line_total), currencyID=currency)
    _text(totals, "TaxExclusiveAmount", amount_text(document.tax_exclusive_total), currencyID=currency)
    _text(totals, "TaxInclusiveAmount", amount_text(document.tax_inclusive_total), currencyID=currency)
    if document.prepaid_amount:
        _text(totals, "PrepaidAmount", amount_text(document.prepaid_amount), currencyID=currency)
    _text(totals, "PayableAmount", amount_text(document.payable_amount), currencyID=currency)
    for line in document.lines:
        _line(root, line, currency, credit_note=credit_note)
    return serialize(root)


def _party(holder: etree._Element, party: Party, *, seller: bool) -> None:
    element = _sub(holder, "Party")
    if party.electronic_address is not None:
        _text(element, "EndpointID", party.electronic_address.id, schemeID=party.electronic_address.scheme)
    if party.trading_name:
        _text(_sub(element, "PartyName"), "Name", party.trading_name)
    _address(element, party.address)
    if party.vat_id:
        scheme = _sub(element, "PartyTaxScheme")
        _text(scheme, "CompanyID", party.vat_id)
        _text(_sub(scheme, "TaxScheme"), "ID", "VAT")
    if seller and party.tax_registration_id:
        scheme = _sub(element, "PartyTaxScheme")
        _text(scheme, "CompanyID", party.tax_registration_id)
        # Any scheme but VAT marks the seller's local tax registration (BT-32).
        _text(_sub(scheme, "TaxScheme"), "ID", "FC")
    legal = _sub(element, "PartyLegalEntity")
    _text(legal, "RegistrationName", party.name)
    _text(legal, "CompanyID", party.legal_id)
    contact = party.contact
    if contact is not None and (contact.name or contact.phone or contact.email):
        element_contact = _sub(element, "Contact")
        _text(element_contact, "Name", contact.name)
        _text(element_contact, "Telephone", contact.phone)
        _text(element_contact, "ElectronicMail", contact.email)


def _address(parent: etree._Element, address: PostalAddress, *, name: str = "PostalAddress") -> None:
    element = _sub(parent, name)
    _text(element, "StreetName", address.line1)
    _text(element, "AdditionalStreetName", address.line2)
    _text(element, "CityName", address.city)
    _text(element, "PostalZone", address.postal_code)
    _text(element, "CountrySubentity", address.region)
    _text(_sub(element, "Country"), "IdentificationCode", address.country)


def _payment_means(root: etree._Element, document: EinvoiceDocument, *, credit_note: bool) -> None:
    means = document.payment_means
    if means is None:
        return
    element = _sub(root, "PaymentMeans")
    _text(element, "PaymentMeansCode", means.code)
    if credit_note and document.due_date is not None:
        _text(element, "PaymentDueDate", date_text(document.due_date))
    _text(element, "PaymentID", means.remittance_information)
    if means.iban:
        account = _sub(element, "PayeeFinancialAccount")
        _text(account, "ID", means.iban)
        _text(account, "Name", means.account_name)
        if means.bic:
            _text(_sub(account, "FinancialInstitutionBranch"), "ID", means.bic)


def _tax_category(
    parent: etree._Element,
    name: str,
    category: str,
    rate: Decimal | None,
    breakdown: VatBreakdown | None = None,
) -> None:
    element = _sub(parent, name)
    _text(element, "ID", category)
    if rate is not None:
        _text(element, "Percent", number_text(rate))
    if breakdown is not None:
        _text(element, "TaxExemptionReasonCode", breakdown.exemption_reason_code)
        _text(element, "TaxExemptionReason", breakdown.exemption_reason)
    _text(_sub(element, "TaxScheme"), "ID", "VAT")


def _breakdown(tax_total: etree._Element, breakdown: VatBreakdown, currency: str) -> None:
    subtotal = _sub(tax_total, "TaxSubtotal")
    _text(subtotal, "TaxableAmount", amount_text(breakdown.taxable_amount), currencyID=currency)
    _text(subtotal, "TaxAmount", amount_text(breakdown.tax_amount), currencyID=currency)
    _tax_category(subtotal, "TaxCategory", breakdown.category, breakdown.rate, breakdown)


def _line(root: etree._Element, line: DocumentLine, currency: str, *, credit_note: bool) -> None:
    element = _sub(root, "CreditNoteLine" if credit_note else "InvoiceLine")
    _text(element, "ID", line.id)
    quantity_name = "CreditedQuantity" if credit_note else "InvoicedQuantity"
    _text(element, quantity_name, number_text(line.quantity), unitCode=line.unit_code)
    _text(element, "LineExtensionAmount", amount_text(line.net_amount), currencyID=currency)
    if line.period_start or line.period_end:
        period = _sub(element, "InvoicePeriod")
        _text(period, "StartDate", date_text(line.period_start) if line.period_start else None)
        _text(period, "EndDate", date_text(line.period_end) if line.period_end else None)
    item = _sub(element, "Item")
    _text(item, "Name", line.name)
    _tax_category(item, "ClassifiedTaxCategory", line.vat_category, line.vat_rate)
    price = _sub(element, "Price")
    _text(price, "PriceAmount", number_text(line.net_price), currencyID=currency)

"""Which Remit field a failed e-invoice rule points to, so that a refusal names what the user can change.

Only the rules a Remit user can cause are mapped: the others (structure, sums, code lists Remit fills
itself) are Remit's to keep, and answer None. Some rules are about either party (a VAT identifier's
country prefix, an electronic address scheme): the rule's location (the XPath the validator reports)
says which; without one, the seller's field is named.
"""

from __future__ import annotations

from typing import Literal

Side = Literal["seller", "buyer"]

# Rules about one field whatever the party.
_FIELDS: dict[str, str] = {
    # The buyer's reference: the Leitweg-ID in Germany; Peppol wants it or an order reference.
    "BR-DE-15": "customer.buyer_reference",
    "PEPPOL-EN16931-R003": "customer.buyer_reference",
    # The seller's contact (BG-6): XRechnung requires its name, phone and email.
    "BR-DE-2": "organisation.legal.contact_name",
    "BR-DE-5": "organisation.legal.contact_name",
    "BR-DE-6": "organisation.legal.contact_phone",
    "BR-DE-7": "organisation.legal.contact_email",
    "BR-DE-27": "organisation.legal.contact_phone",
    "BR-DE-28": "organisation.legal.contact_email",
    # Addresses XRechnung wants complete.
    "BR-DE-3": "organisation.address.city",
    "BR-DE-4": "organisation.address.postal_code",
    "BR-DE-8": "customer.address.city",
    "BR-DE-9": "customer.address.postal_code",
    "BR-08": "organisation.address",
    "BR-09": "organisation.address.country",
    "BR-10": "customer.address",
    "BR-11": "customer.address.country",
    "BR-06": "organisation.legal.registration_name",
    "BR-07": "customer.name",
    # How to pay: XRechnung requires payment instructions, a credit transfer needs an account.
    "BR-DE-1": "organisation.payment_methods.bank_transfer",
    "BR-DE-19": "organisation.payment_methods.bank_transfer.iban",
    "BR-DE-23-a": "organisation.payment_methods.bank_transfer",
    "BR-DE-23-b": "organisation.payment_methods.bank_transfer",
    "BR-50": "organisation.payment_methods.bank_transfer.iban",
    "BR-61": "organisation.payment_methods.bank_transfer.iban",
    "BR-CL-16": "organisation.payment_methods.bank_transfer",
    # The seller's identifiers.
    "BR-DE-16": "organisation.legal.vat_id",
    "BR-CO-26": "organisation.legal.vat_id",
    "BR-S-02": "organisation.legal.vat_id",
    "BR-Z-02": "organisation.legal.vat_id",
    "BR-E-02": "organisation.legal.vat_id",
    "BR-G-02": "organisation.legal.vat_id",
    # The electronic addresses Peppol routes by.
    "PEPPOL-EN16931-R010": "customer.electronic_address",
    "PEPPOL-EN16931-R020": "organisation.legal.electronic_address",
    # Lines.
    "BR-S-05": "line_items.tax_rate",
    "BR-Z-05": "line_items.tax_rate",
    "BR-E-05": "line_items.tax_rate",
    "BR-AE-05": "line_items.tax_rate",
    "BR-IC-05": "line_items.tax_rate",
    "BR-G-05": "line_items.tax_rate",
    "BR-E-10": "line_items.exemption_reason",
    "BR-AE-10": "line_items.exemption_reason",
    "BR-IC-10": "line_items.exemption_reason",
    "BR-G-10": "line_items.exemption_reason",
    "BR-O-10": "line_items.exemption_reason",
    "BR-CL-22": "line_items.exemption_reason",
    "BR-CL-23": "line_items.unit_code",
    # Lines not subject to VAT (O) cannot share an invoice with any other category.
    "BR-O-11": "line_items.vat_category",
    "BR-O-12": "line_items.vat_category",
    "BR-O-13": "line_items.vat_category",
    "BR-O-14": "line_items.vat_category",
    "BR-IC-11": "delivery_date",
    "BR-DE-TMP-32": "delivery_date",
    "BR-CL-04": "currency",
    # Peppol allows one note: the memo and the footer share it.
    "PEPPOL-EN16931-R002": "memo",
}

# Rules about a field either party has: (the seller's, the buyer's).
_EITHER_PARTY: dict[str, tuple[str, str]] = {
    "BR-CO-09": ("organisation.legal.vat_id", "customer.vat_id"),
    "BR-AE-02": ("organisation.legal.vat_id", "customer.vat_id"),
    "BR-AE-03": ("organisation.legal.vat_id", "customer.vat_id"),
    "BR-AE-04": ("organisation.legal.vat_id", "customer.vat_id"),
    "BR-IC-02": ("organisation.legal.vat_id", "customer.vat_id"),
    "BR-IC-03": ("organisation.legal.vat_id", "customer.vat_id"),
    "BR-IC-04": ("organisation.legal.vat_id", "customer.vat_id"),
    "BR-62": ("organisation.legal.electronic_address", "customer.electronic_address"),
    "BR-63": ("organisation.legal.electronic_address", "customer.electronic_address"),
    "BR-CL-25": ("organisation.legal.electronic_address", "customer.electronic_address"),
    "PEPPOL-EN16931-CL008": ("organisation.legal.electronic_address", "customer.electronic_address"),
    "BR-CL-14": ("organisation.address.country", "customer.address.country"),
}
# Peppol's checks of national identifiers in an electronic address (GLN, Norwegian, Danish,
# Belgian, Italian, Swedish, … numbers): PEPPOL-COMMON-R040 to R049.
_PEPPOL_IDENTIFIER_RULES = frozenset(f"PEPPOL-COMMON-R{number:03d}" for number in range(40, 50))

# The XPath steps that place a rule on the buyer's side (UBL, CII).
_BUYER_STEPS = ("AccountingCustomerParty", "BuyerTradeParty")


def field_for_rule(rule_id: str, location: str | None = None) -> str | None:
    """The Remit field (dotted, as the API names it) that makes `rule_id` fail, or None when no field
    of the user's causes it. `location` is the XPath of the element the rule reports, when known."""
    if rule_id in _FIELDS:
        return _FIELDS[rule_id]
    seller_field, buyer_field = _EITHER_PARTY.get(rule_id, (None, None))
    if rule_id in _PEPPOL_IDENTIFIER_RULES:
        seller_field, buyer_field = _EITHER_PARTY["BR-62"]
    if seller_field is None or buyer_field is None:
        return None
    return buyer_field if _side(location) == "buyer" else seller_field


def _side(location: str | None) -> Side:
    if location and any(step in location for step in _BUYER_STEPS):
        return "buyer"
    return "seller"

"""E-invoices under EN 16931: the formats, the tax vocabulary, and what validating one reports.

The standard's semantic model (the business terms `BT-…` that every format carries) is
`EinvoiceDocument` in `domain/einvoice_documents.py`; this module holds the small values the
organisation, the customer, the lines and the validation report share.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal, Protocol

from pydantic import Field, field_validator

from remit.domain.errors import InvalidInput
from remit.domain.tax_ids import normalise_vat_id
from remit.domain.values import Model, Strict, text

EinvoiceFormat = Literal["facturx", "xrechnung_cii", "xrechnung_ubl", "peppol_ubl"]
EINVOICE_FORMATS: tuple[EinvoiceFormat, ...] = ("facturx", "xrechnung_cii", "xrechnung_ubl", "peppol_ubl")

# The syntax each format is written in: UN/CEFACT Cross Industry Invoice or OASIS UBL 2.1.
SYNTAX: dict[EinvoiceFormat, Literal["cii", "ubl"]] = {
    "facturx": "cii",
    "xrechnung_cii": "cii",
    "xrechnung_ubl": "ubl",
    "peppol_ubl": "ubl",
}

TaxTreatment = Literal["standard", "reverse_charge", "exempt", "export"]

# UNTDID 5305 as EN 16931 restricts it: standard, zero rated, exempt, reverse charge, intra-community
# supply, export outside the EU, not subject to VAT.
VatCategory = Literal["S", "Z", "E", "AE", "K", "G", "O"]

# The categories whose VAT breakdown must give an exemption reason (text or VATEX code): BR-E-10,
# BR-AE-10, BR-IC-10, BR-G-10, BR-O-10.
CATEGORIES_WITH_EXEMPTION_REASON: frozenset[str] = frozenset({"E", "AE", "K", "G", "O"})

# The categories that carry no tax at all (their rate is 0; `O` has no rate).
UNTAXED_CATEGORIES: frozenset[str] = frozenset({"Z", "E", "AE", "K", "G", "O"})

# UN/ECE Recommendation 20 unit code (`C62` "one", `HUR` hour, `DAY`, `MON` month, `KGM` …).
UnitCode = Annotated[str, Field(pattern=r"^[A-Z0-9]{2,3}$", description="UN/ECE Rec. 20 unit code.")]
DEFAULT_UNIT_CODE = "C62"

ExemptionReason = Annotated[str, text(300)]

# The VATEX code and the words the breakdown gives when a line of the category names no reason.
DEFAULT_EXEMPTION: dict[str, tuple[str, str]] = {
    "AE": ("VATEX-EU-AE", "Reverse charge"),
    "K": ("VATEX-EU-IC", "Intra-Community supply"),
    "G": ("VATEX-EU-G", "Export outside the EU"),
    "O": ("VATEX-EU-O", "Not subject to VAT"),
}


class ElectronicAddress(Strict):
    """Where a party receives e-invoices (BT-34, BT-49): an EAS scheme and an identifier in it."""

    scheme: Annotated[
        str,
        Field(
            pattern=r"^([0-9]{4}|EM)$",
            description='Electronic Address Scheme code: "0088" GLN, "0204" Leitweg-ID, "9930" German VAT, '
            '"0009" SIRET, "0208" Belgian enterprise number, "EM" email, …',
        ),
    ]
    id: Annotated[str, text(100)]


class LegalIdentity(Strict):
    """The organisation as the tax authorities and the e-invoice networks know it."""

    registration_name: Annotated[str, text(200)] | None = Field(
        default=None, description="Registered legal name (BT-27); the organisation's name when absent."
    )
    company_id: Annotated[str, text(100)] | None = Field(
        default=None, description="Legal registration identifier, e.g. SIREN, HRB number (BT-30)."
    )
    vat_id: Annotated[str, text(40)] | None = Field(default=None, description="VAT identifier (BT-31).")
    tax_registration_id: Annotated[str, text(100)] | None = Field(
        default=None, description="Local tax registration, e.g. the German Steuernummer (BT-32)."
    )
    electronic_address: ElectronicAddress | None = None
    contact_name: Annotated[str, text(100)] | None = Field(
        default=None, description="Seller contact (BT-41)."
    )
    contact_phone: Annotated[str, text(50)] | None = Field(
        default=None, description="Seller contact phone (BT-42)."
    )
    contact_email: Annotated[str, text(254)] | None = Field(
        default=None, description="Seller contact email (BT-43); the organisation's email when absent."
    )

    @field_validator("vat_id")
    @classmethod
    def _valid_vat_id(cls, value: str | None) -> str | None:
        return None if value is None else normalise_vat_id(value)


def vat_category_for(tax_rate: Decimal, treatment: TaxTreatment) -> VatCategory:
    """The category a line gets when none is set: from the customer's treatment, then the rate."""
    if treatment == "reverse_charge":
        return "AE"
    if treatment == "exempt":
        return "E"
    if treatment == "export":
        return "G"
    return "S" if tax_rate > 0 else "Z"


class TaxedParty(Protocol):
    """What the tax rules read of a customer: its treatment and its default rate."""

    @property
    def tax_treatment(self) -> TaxTreatment: ...

    @property
    def tax_rate(self) -> Decimal: ...


# The treatments whose lines carry no VAT: the buyer accounts for it, or there is none.
UNTAXED_TREATMENTS: frozenset[str] = frozenset({"reverse_charge", "exempt", "export"})


def default_tax_rate(customer: TaxedParty) -> Decimal:
    """The rate a line of the customer gets when none is given: 0 when its treatment carries no VAT
    (reverse charge, exempt, export), else the customer's `tax_rate`."""
    if customer.tax_treatment in UNTAXED_TREATMENTS:
        return Decimal("0.00")
    return customer.tax_rate


def line_tax_problem(tax_rate: Decimal, category: VatCategory) -> str | None:
    """What is wrong with a line taxed at `tax_rate` in `category` (EN 16931 BR-S-5, BR-Z-5, BR-E-5,
    BR-AE-5, BR-IC-5, BR-G-5, BR-O-5), or None when they agree."""
    if category in UNTAXED_CATEGORIES and tax_rate != 0:
        return f"a line in VAT category {category} must have a tax_rate of 0, not {tax_rate}"
    if category == "S" and tax_rate <= 0:
        return "a line in VAT category S (standard rate) must have a tax_rate above 0"
    return None


def exemption_reason_problem(category: VatCategory, exemption_reason: str | None) -> str | None:
    """What is wrong with giving `exemption_reason` to a line of `category`, or None."""
    if exemption_reason is not None and category not in CATEGORIES_WITH_EXEMPTION_REASON:
        allowed = ", ".join(sorted(CATEGORIES_WITH_EXEMPTION_REASON))
        return f"only a line in VAT category {allowed} has an exemption reason, not one in {category}"
    return None


class FailedRule(Model):
    """One rule a document broke: its id as the rule set names it, the message, and where."""

    rule: str = Field(description='Rule id, e.g. "BR-CO-16", "BR-DE-15", "PEPPOL-EN16931-R010", "XSD".')
    message: str
    location: str | None = Field(default=None, description="XPath of the element the rule is about.")
    field: str | None = Field(
        default=None,
        description="The Remit field that causes it, when known (e.g. `customer.buyer_reference`).",
    )
    severity: Literal["fatal", "warning"] = "fatal"


class ValidationReport(Model):
    """What validating one document found: `valid` when no fatal rule failed."""

    format: EinvoiceFormat
    valid: bool
    failed_rules: list[FailedRule] = Field(default_factory=list)
    warnings: list[FailedRule] = Field(default_factory=list)
    rule_sets: list[str] = Field(
        default_factory=list, description='What was checked, in order, e.g. ["XSD", "EN16931-CII 1.3.16", …].'
    )


class EinvoiceStatus(Model):
    """The e-invoice state an invoice or credit note shows (`einvoice` in the API)."""

    format: EinvoiceFormat
    valid: bool
    validated_at: datetime
    failed_rules: list[FailedRule] = Field(default_factory=list)


class CustomerEinvoiceDetails(Model):
    """What an e-invoice needs of the buyer beyond name and address; snapshotted at finalization."""

    einvoice_format: EinvoiceFormat | None = None
    tax_treatment: TaxTreatment = "standard"
    vat_id: str | None = Field(
        default=None, description="The customer's VAT id, else its tax id when that is one."
    )
    electronic_address: ElectronicAddress | None = None
    buyer_reference: str | None = None


@dataclass(frozen=True)
class Einvoice:
    """An e-invoice as downloaded: its bytes, media type, file name and validation report."""

    content: bytes
    media_type: str
    file_name: str
    report: ValidationReport


def einvoice_format_named(value: str | None) -> EinvoiceFormat | None:
    """The format a download asks for by name (None: none asked); `InvalidInput` naming `format`."""
    if value is None or value == "":
        return None
    for einvoice_format in EINVOICE_FORMATS:
        if value == einvoice_format:
            return einvoice_format
    raise InvalidInput.single("format", f"must be one of {', '.join(EINVOICE_FORMATS)}")

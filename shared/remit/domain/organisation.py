"""Organisations: the companies or brands of an account, each with its own numbering and settings."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from remit.domain.changes import nullable_as_in
from remit.domain.einvoices import LegalIdentity
from remit.domain.logos import logo_key_of
from remit.domain.numbering import (
    NumberPadding,
    NumberPrefix,
    NumberSeries,
    SequenceNumber,
    TakenNumber,
    format_number,
)
from remit.domain.tax_ids import TaxId, normalise_tax_id
from remit.domain.values import (
    Address,
    CurrencyCode,
    EmailAddress,
    HexColour,
    LocaleTag,
    Model,
    OptionalText,
    ShortText,
    Strict,
    TimezoneName,
)

PaymentTermsDays = Annotated[int, Field(ge=0, le=365)]


# python-stdnum loads on the first bank-transfer details to check, not with the model.
def _iban(value: str) -> str:
    from stdnum import iban as stdnum_iban
    from stdnum.exceptions import ValidationError as StdnumValidationError

    try:
        return str(stdnum_iban.validate(value))
    except StdnumValidationError as error:
        raise ValueError(f"'{value}' is not a valid IBAN ({error})") from None


def _bic(value: str) -> str:
    from stdnum import bic as stdnum_bic
    from stdnum.exceptions import ValidationError as StdnumValidationError

    try:
        return str(stdnum_bic.validate(value))
    except StdnumValidationError as error:
        raise ValueError(f"'{value}' is not a valid BIC ({error})") from None


class BankTransferDetails(Strict):
    account_name: OptionalText | None = None
    iban: Annotated[str, Field(max_length=42)] | None = None
    bic: Annotated[str, Field(max_length=11)] | None = None
    instructions: Annotated[str, Field(max_length=1000)] | None = None

    @field_validator("iban")
    @classmethod
    def _valid_iban(cls, value: str | None) -> str | None:
        return None if value is None else _iban(value)

    @field_validator("bic")
    @classmethod
    def _valid_bic(cls, value: str | None) -> str | None:
        return None if value is None else _bic(value)


class ChequeDetails(Strict):
    payable_to: OptionalText | None = None
    mail_to: Annotated[str, Field(max_length=1000)] | None = None


class PaymentMethods(Strict):
    card: bool = Field(default=False, description="True once a card provider is connected (read-only).")
    bank_transfer: BankTransferDetails | None = None
    cheque: ChequeDetails | None = None


class PortalSettings(Strict):
    """The customer portal (`/p/{organisation id}`): on unless turned off."""

    enabled: bool = Field(default=True, description="Whether customers can sign in to the portal.")


class Branding(Strict):
    logo_url: str | None = Field(default=None, description="Set by uploading a logo (read-only).")
    brand_colour: HexColour | None = None

    @property
    def logo_key(self) -> str | None:
        """The stored key of the current logo (the only one served at its public URL), or None."""
        return logo_key_of(self.logo_url)


class InvoiceNumbering(Strict):
    """How invoice numbers look, and the number the next finalized invoice gets."""

    prefix: NumberPrefix = ""
    padding: NumberPadding = 5
    next_number: SequenceNumber = 1

    def format(self, sequence: int) -> str:
        """The legal invoice number for `sequence`: prefix + zero-padded sequence (`ACME-00042`)."""
        return format_number(self.prefix, self.padding, sequence)


class CreditNoteNumbering(Strict):
    """How credit note numbers look (their own gapless series), and the number the next one gets."""

    prefix: NumberPrefix = "CN-"
    padding: NumberPadding = 5
    next_number: SequenceNumber = 1


def default_credit_note_prefix(invoice_prefix: str) -> str:
    """The credit note prefix an organisation starts with, made from its invoice prefix: `ACME-`
    numbers its credit notes `ACME-CN-00001` (`ACME/` gives `ACME/CN/`, an empty prefix `CN-`)."""
    separator = invoice_prefix[-1] if invoice_prefix and invoice_prefix[-1] in "-_/.#" else "-"
    stem = invoice_prefix.rstrip("-_/.#")
    if not stem:
        return "CN-"
    return f"{stem[: 20 - 4]}{separator}CN{separator}"


DaysAfterDue = Annotated[int, Field(ge=1, le=365)]
DaysBeforeDue = Annotated[int, Field(ge=1, le=30)]


class Reminders(Strict):
    """When open invoices are chased: `d` days after the due date for each `d` of `days_after_due`
    (up to 5 steps of 1 to 365), and `d` days before it for each of `days_before_due` (up to 3, 1 to 30).
    """

    enabled: bool = True
    days_after_due: Annotated[list[DaysAfterDue], Field(max_length=5)] = Field(default_factory=lambda: [15])
    days_before_due: Annotated[list[DaysBeforeDue], Field(max_length=3)] = Field(default_factory=list)

    @field_validator("days_after_due", "days_before_due")
    @classmethod
    def _distinct_and_sorted(cls, days: list[int]) -> list[int]:
        return sorted(set(days))


class Notifications(Strict):
    """Emails Remit sends the organisation's customers by itself."""

    invoice_finalized: bool = Field(
        default=False,
        description=(
            "Email each invoice to the customer when it is finalized (“ready for payment”: the "
            "invoice email, marking it sent), however it is finalized. Off: finalized invoices are "
            "emailed only when sent."
        ),
    )


def default_number_prefix(name: str) -> str:
    """A prefix made from the organisation's name: "Acme Ltd" numbers its invoices ACME-00001."""
    letters = re.sub(r"[^A-Za-z0-9]", "", name).upper()[:4]
    return f"{letters}-" if letters else "INV-"


class Organisation(Model):
    """An organisation: what the API shows of it, plus the owning account and its numbering state."""

    id: str
    account_id: str
    name: ShortText
    email: EmailAddress | None = None
    default_currency: CurrencyCode
    timezone: TimezoneName = "UTC"
    locale: LocaleTag = Field(
        default="en",
        description="Language and formats of its documents, unless a customer prefers another.",
    )
    address: Address | None = None
    tax_id: str | None = None
    legal: LegalIdentity | None = Field(
        default=None, description="The organisation as tax authorities and e-invoice networks know it."
    )
    branding: Branding = Field(default_factory=Branding)
    invoice_numbering: InvoiceNumbering
    # None for an organisation made before credit notes and never renumbered since: its numbering is
    # then `credit_notes`, made from its invoice prefix.
    credit_note_numbering: CreditNoteNumbering | None = None
    payment_terms_days: PaymentTermsDays = 30
    payment_methods: PaymentMethods = Field(default_factory=PaymentMethods)
    reminders: Reminders = Field(default_factory=Reminders)
    notifications: Notifications = Field(default_factory=Notifications)
    portal: PortalSettings = Field(default_factory=PortalSettings)
    created_at: datetime
    updated_at: datetime
    version: int = 0

    @field_validator("tax_id")
    @classmethod
    def _valid_tax_id(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        address = info.data.get("address")
        return normalise_tax_id(value, address.country if address else None)

    def numbered_by(self, series: NumberSeries) -> Organisation:
        """The organisation showing `series`'s next number as its `invoice_numbering.next_number`
        (or `credit_note_numbering.next_number`, for the credit note series)."""
        if series.name == "credit_note":
            notes = self.credit_notes.model_copy(update={"next_number": series.next_number})
            return self.model_copy(update={"credit_note_numbering": notes})
        numbering = self.invoice_numbering.model_copy(update={"next_number": series.next_number})
        return self.model_copy(update={"invoice_numbering": numbering})

    @property
    def credit_notes(self) -> CreditNoteNumbering:
        """How its credit notes are numbered: as set, else with a prefix made from the invoice prefix."""
        return self.credit_note_numbering or CreditNoteNumbering(
            prefix=default_credit_note_prefix(self.invoice_numbering.prefix)
        )

    def take_credit_note_number(self, series: NumberSeries) -> TakenNumber:
        """The next number of its credit note `series`, in the organisation's credit note format."""
        return series.take(self.credit_notes.prefix, self.credit_notes.padding)

    def take_invoice_number(self, series: NumberSeries) -> TakenNumber:
        """The next number of its invoice `series`, in the organisation's invoice number format."""
        return series.take(self.invoice_numbering.prefix, self.invoice_numbering.padding)

    def take_invoice_numbers(self, series: NumberSeries, count: int) -> list[TakenNumber]:
        """The next `count` numbers of its invoice `series`, consecutive, in its invoice number format."""
        return series.take_consecutive(count, self.invoice_numbering.prefix, self.invoice_numbering.padding)


class NewBranding(Strict):
    brand_colour: HexColour | None = None


class NewPaymentMethods(Strict):
    bank_transfer: BankTransferDetails | None = None
    cheque: ChequeDetails | None = None


class NewOrganisation(Strict):
    """What a user gives to create an organisation."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Acme Ltd",
                    "default_currency": "EUR",
                    "email": "billing@acme.test",
                    "timezone": "Europe/Paris",
                    "locale": "fr-FR",
                    "address": {
                        "line1": "1 Rue de la Paix",
                        "city": "Paris",
                        "postal_code": "75002",
                        "country": "FR",
                    },
                    "invoice_numbering": {"prefix": "ACME-", "padding": 5},
                }
            ]
        }
    )

    name: ShortText
    default_currency: CurrencyCode
    email: EmailAddress | None = None
    timezone: TimezoneName = "UTC"
    locale: LocaleTag = "en"
    address: Address | None = None
    tax_id: TaxId | None = None
    legal: LegalIdentity | None = None
    branding: NewBranding | None = None
    invoice_numbering: InvoiceNumberingChanges | None = None
    credit_note_numbering: CreditNoteNumberingChanges | None = None
    payment_terms_days: PaymentTermsDays = 30
    payment_methods: NewPaymentMethods | None = None
    reminders: Reminders | None = None
    notifications: Notifications | None = None
    portal: PortalSettings | None = None


class BrandingChanges(Strict):
    model_config = ConfigDict(json_schema_extra=nullable_as_in(Branding))

    brand_colour: HexColour | None = None
    logo_url: None = Field(default=None, description="Only `null`, to remove the logo.")


class InvoiceNumberingChanges(Strict):
    model_config = ConfigDict(json_schema_extra=nullable_as_in(InvoiceNumbering))

    prefix: NumberPrefix | None = None
    padding: NumberPadding | None = None
    next_number: SequenceNumber | None = None

    @field_validator("prefix", "padding", "next_number", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Validators run on given values only: an explicit null, never an absent field.
        if value is None:
            raise ValueError("cannot be null: leave it out to keep the current value")
        return value


class CreditNoteNumberingChanges(InvoiceNumberingChanges):
    model_config = ConfigDict(json_schema_extra=nullable_as_in(CreditNoteNumbering))


class OrganisationChanges(Strict):
    """A PATCH: only the fields given change; nested objects are merged field by field."""

    model_config = ConfigDict(json_schema_extra=nullable_as_in(Organisation))

    name: ShortText | None = None
    default_currency: CurrencyCode | None = None
    email: EmailAddress | None = None
    timezone: TimezoneName | None = None
    locale: LocaleTag | None = None
    address: Address | None = None
    tax_id: TaxId | None = None
    legal: LegalIdentity | None = Field(
        default=None, description="Merged field by field; `null` removes the legal identity."
    )
    branding: BrandingChanges | None = None
    invoice_numbering: InvoiceNumberingChanges | None = None
    credit_note_numbering: CreditNoteNumberingChanges | None = None
    payment_terms_days: PaymentTermsDays | None = None
    payment_methods: NewPaymentMethods | None = None
    reminders: Reminders | None = None
    notifications: Notifications | None = None
    portal: PortalSettings | None = None

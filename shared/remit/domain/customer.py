"""Customers: the people and businesses an organisation invoices."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, ValidationInfo, computed_field, field_validator, model_validator

from remit.domain.changes import nullable_as_in
from remit.domain.credit import CreditBalances, balance_in
from remit.domain.einvoices import (
    CustomerEinvoiceDetails,
    EinvoiceFormat,
    ElectronicAddress,
    TaxTreatment,
)
from remit.domain.saved_cards import SavedCard, default_card, legacy_card_id
from remit.domain.tax_ids import TaxId, normalise_tax_id, normalise_vat_id, vat_number_or_none
from remit.domain.values import (
    NOT_BLANK,
    Address,
    CountryCode,
    CurrencyCode,
    EmailAddress,
    LocaleTag,
    Model,
    Percentage,
    ShortText,
    Strict,
    text,
)

EmailPreference = Literal["billing", "updates", "legal"]
InvoicingFlow = Literal["automatic", "manual"]
BillingCycle = Literal["monthly"]
ExternalId = Annotated[str, text(100)]
PersonName = Annotated[str, Field(max_length=100)]
VatId = Annotated[str, Field(max_length=40, json_schema_extra={"pattern": NOT_BLANK})]
BuyerReference = Annotated[str, text(200)]

_VAT_ID = "The customer's VAT identifier (BT-48), with its country prefix; else `tax_id` when it is one."
_BUYER_REFERENCE = "The buyer's reference for its invoices (BT-10), e.g. the German Leitweg-ID."
_EINVOICE_FORMAT = "The e-invoice its invoices and credit notes are issued in; null: none."
_TAX_TREATMENT = (
    "`reverse_charge` (the buyer accounts for VAT; needs a VAT id), `exempt`, `export` "
    "(lines default to a 0 rate) or `standard`."
)


def _vat_id_checked(value: str | None) -> str | None:
    return None if value is None else normalise_vat_id(value)


def _treatment_checked(treatment: str | None, info: ValidationInfo) -> str | None:
    # A reverse-charged invoice must name the buyer's VAT id (EN 16931 BR-AE-2).
    if treatment == "reverse_charge":
        vat_id = info.data.get("vat_id") or vat_number_or_none(info.data.get("tax_id"))
        if vat_id is None:
            raise ValueError(
                "reverse_charge needs the customer's VAT id: give vat_id (or a VAT number as tax_id)"
            )
    return treatment


def _metadata_schema(schema: dict[str, Any]) -> None:
    # pydantic writes a key's pattern as `patternProperties`, which leaves other keys unconstrained;
    # the key's rule belongs in `propertyNames`, every value's in `additionalProperties`.
    for values in schema.pop("patternProperties", {}).values():
        schema["additionalProperties"] = values
    schema["propertyNames"] = {**schema.get("propertyNames", {}), "pattern": NOT_BLANK}


Metadata = Annotated[
    # Keys are trimmed like every input string, so a key must hold more than white space.
    dict[
        Annotated[str, text(40)],
        Annotated[str, Field(max_length=500)],
    ],
    Field(max_length=50, json_schema_extra=_metadata_schema),
]


class Contact(Model):
    id: str
    name: Annotated[str, Field(max_length=200)] | None = None
    email: EmailAddress
    preferences: list[EmailPreference] = Field(default_factory=list)


class ContactInput(Strict):
    """A contact as given: with the `id` of an existing contact to keep it, without one to add it."""

    id: str | None = None
    name: Annotated[str, Field(max_length=200)] | None = None
    email: EmailAddress
    preferences: list[EmailPreference] = Field(default_factory=list)

    @field_validator("preferences")
    @classmethod
    def _distinct(cls, preferences: list[str]) -> list[str]:
        return list(dict.fromkeys(preferences))


# Distinct ids (`_distinct_external_ids`), which the document says as `uniqueItems`.
ExternalIds = Annotated[list[ExternalId], Field(max_length=20, json_schema_extra={"uniqueItems": True})]


def _distinct_external_ids(external_ids: list[str] | None) -> list[str] | None:
    if external_ids is not None and len(set(external_ids)) != len(external_ids):
        raise ValueError("must not repeat an external id")
    return external_ids


def first_of_next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


class CardOnFile(Model):
    """A card the customer saved with the provider for off-session charges (auto-pay)."""

    provider_customer_id: str
    payment_method_id: str


def saved_cards_of_legacy(data: Any) -> Any:
    """A customer stored before saved cards has one `card_on_file`: it reads as one default card
    (without brand or digits, which Remit did not keep). Its next card change stores `saved_cards`."""
    if not isinstance(data, dict) or "card_on_file" not in data:
        return data
    data = dict(data)
    legacy = data.pop("card_on_file")
    if legacy and not data.get("saved_cards"):
        fields = legacy if isinstance(legacy, dict) else legacy.model_dump()
        data["saved_cards"] = [
            {**fields, "id": legacy_card_id(str(fields["payment_method_id"])), "default": True}
        ]
    return data


class Customer(Model):
    """A customer: what the API shows of it, and what the domain keeps beside (saved card, counters)."""

    id: str
    organisation_id: str
    name: ShortText
    email: EmailAddress
    first_name: PersonName | None = None
    last_name: PersonName | None = None
    country: CountryCode | None = None
    currency: CurrencyCode
    preferred_locale: LocaleTag | None = Field(
        default=None,
        description="Language and formats of this customer's documents (else the organisation's).",
    )
    address: Address | None = None
    tax_rate: Percentage = Decimal("0.00")
    tax_id: str | None = None
    vat_id: str | None = Field(default=None, description=_VAT_ID)
    tax_treatment: TaxTreatment = Field(default="standard", description=_TAX_TREATMENT)
    electronic_address: ElectronicAddress | None = None
    buyer_reference: BuyerReference | None = Field(default=None, description=_BUYER_REFERENCE)
    einvoice_format: EinvoiceFormat | None = Field(default=None, description=_EINVOICE_FORMAT)
    external_ids: ExternalIds = Field(default_factory=list)
    invoicing_flow: InvoicingFlow = "automatic"
    payment_terms_days: Annotated[int, Field(ge=0, le=365)]
    auto_pay: bool = False
    send_reminders: bool = True
    billing_cycle: BillingCycle | None = None
    contacts: Annotated[list[Contact], Field(max_length=50)] = Field(default_factory=list)
    balances: CreditBalances = Field(default_factory=dict)
    metadata: Metadata = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime
    # Invoices of this customer that were ever finalized; a customer with any cannot be deleted.
    issued_invoices: int = 0
    version: int = 0
    # Saved by the card-payment webhooks (a checkout that keeps the card, a card setup); auto-pay and
    # "Attempt card" charge the default one.
    saved_cards: list[SavedCard] = Field(default_factory=list)
    # With `billing_cycle: "monthly"`: the day (a 1st, in the organisation's calendar) the daily
    # cycle next invoices the open charges.
    next_charges_billing: date | None = None

    _check_external_ids = field_validator("external_ids")(_distinct_external_ids)

    @computed_field(  # type: ignore[prop-decorator]
        description=(
            "Credit balance in the customer's `currency`, in minor units (read-only): "
            "`balances[currency]`, or 0."
        )
    )
    @property
    def balance(self) -> int:
        return balance_in(self.balances, self.currency)

    @property
    def card_on_file(self) -> CardOnFile | None:
        """The default saved card, the one auto-pay charges; None without one."""
        card = default_card(self.saved_cards)
        if card is None:
            return None
        return CardOnFile(
            provider_customer_id=card.provider_customer_id, payment_method_id=card.payment_method_id
        )

    @model_validator(mode="before")
    @classmethod
    def _card_on_file_as_saved_card(cls, data: Any) -> Any:
        return saved_cards_of_legacy(data)

    @field_validator("balances")
    @classmethod
    def _currencies_with_credit(cls, balances: dict[str, int]) -> dict[str, int]:
        # In code order, whatever order the table kept them in; a currency at 0 is not shown.
        return {currency: amount for currency, amount in sorted(balances.items()) if amount}

    @model_validator(mode="before")
    @classmethod
    def _balance_before_currencies(cls, data: Any) -> Any:
        # A customer stored before balances per currency has `balance` alone: it is taken to be in the
        # customer's currency, as it was applied until then. The first write of the customer stores
        # `balances` (a change of currency included), so the currency never changes under it again.
        if isinstance(data, dict) and "balances" not in data and data.get("balance"):
            return {**data, "balances": {str(data.get("currency", "")).upper(): data["balance"]}}
        return data

    @field_validator("tax_id")
    @classmethod
    def _valid_tax_id(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        address = info.data.get("address")
        country = info.data.get("country") or (address.country if address else None)
        return normalise_tax_id(value, country)

    _check_vat_id = field_validator("vat_id")(_vat_id_checked)
    _check_treatment = field_validator("tax_treatment")(_treatment_checked)

    def einvoice_details(self) -> CustomerEinvoiceDetails:
        """What its e-invoices say of it as buyer: its VAT id (else its tax id when that is a VAT
        number), treatment, electronic address, reference and format."""
        return CustomerEinvoiceDetails(
            einvoice_format=self.einvoice_format,
            tax_treatment=self.tax_treatment,
            vat_id=self.vat_id or vat_number_or_none(self.tax_id),
            electronic_address=self.electronic_address,
            buyer_reference=self.buyer_reference,
        )

    def with_charges_billing_from(self, today: date) -> Customer:
        """Monthly billing of open charges scheduled for the 1st after `today`, or none without a cycle."""
        if self.billing_cycle != "monthly":
            return self.model_copy(update={"next_charges_billing": None})
        if self.next_charges_billing is not None:
            return self
        return self.model_copy(update={"next_charges_billing": first_of_next_month(today)})

    def billing_recipients(self) -> list[str]:
        """The primary email, then every contact who asked for billing emails, without repeats."""
        emails = [self.email] + [c.email for c in self.contacts if "billing" in c.preferences]
        return list(dict.fromkeys(emails))


class NewCustomer(Strict):
    """What a user gives to create a customer; omitted defaults come from the organisation."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Globex GmbH",
                    "email": "ap@globex.test",
                    "country": "DE",
                    "currency": "EUR",
                    "preferred_locale": "de-DE",
                    "tax_rate": "19",
                    "payment_terms_days": 14,
                }
            ]
        }
    )

    name: ShortText
    email: EmailAddress
    first_name: PersonName | None = None
    last_name: PersonName | None = None
    country: CountryCode | None = None
    currency: CurrencyCode | None = None
    preferred_locale: LocaleTag | None = None
    address: Address | None = None
    tax_rate: Percentage = Decimal("0.00")
    tax_id: TaxId | None = None
    vat_id: VatId | None = Field(default=None, description=_VAT_ID)
    tax_treatment: TaxTreatment = Field(default="standard", description=_TAX_TREATMENT)
    electronic_address: ElectronicAddress | None = None
    buyer_reference: BuyerReference | None = Field(default=None, description=_BUYER_REFERENCE)
    einvoice_format: EinvoiceFormat | None = Field(default=None, description=_EINVOICE_FORMAT)
    external_ids: ExternalIds = Field(default_factory=list)
    invoicing_flow: InvoicingFlow = "automatic"
    payment_terms_days: Annotated[int, Field(ge=0, le=365)] | None = None
    auto_pay: bool = False
    send_reminders: bool = True
    billing_cycle: BillingCycle | None = None
    contacts: Annotated[list[ContactInput], Field(max_length=50)] = Field(default_factory=list)
    metadata: Metadata = Field(default_factory=dict)

    _check_external_ids = field_validator("external_ids")(_distinct_external_ids)


class CustomerChanges(Strict):
    """A PATCH: only the fields given change. `contacts` and `external_ids` replace the whole list."""

    model_config = ConfigDict(json_schema_extra=nullable_as_in(Customer))

    name: ShortText | None = None
    email: EmailAddress | None = None
    first_name: PersonName | None = None
    last_name: PersonName | None = None
    country: CountryCode | None = None
    currency: CurrencyCode | None = None
    preferred_locale: LocaleTag | None = None
    address: Address | None = None
    tax_rate: Percentage | None = None
    tax_id: TaxId | None = None
    vat_id: VatId | None = None
    tax_treatment: TaxTreatment | None = None
    electronic_address: ElectronicAddress | None = None
    buyer_reference: BuyerReference | None = None
    einvoice_format: EinvoiceFormat | None = None
    external_ids: ExternalIds | None = None
    invoicing_flow: InvoicingFlow | None = None
    payment_terms_days: Annotated[int, Field(ge=0, le=365)] | None = None
    auto_pay: bool | None = None
    send_reminders: bool | None = None
    billing_cycle: BillingCycle | None = None
    contacts: Annotated[list[ContactInput], Field(max_length=50)] | None = None
    metadata: Metadata | None = None

    _check_external_ids = field_validator("external_ids")(_distinct_external_ids)

"""A customer's stored item (`CUSTOMER#…`), and the customer as an invoice's draft keeps it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import Field, model_validator

from remit.adapters.dynamodb import Item
from remit.adapters.items import StoredItem
from remit.domain.customer import Contact, Customer, saved_cards_of_legacy
from remit.domain.einvoices import ElectronicAddress
from remit.domain.saved_cards import SavedCard
from remit.domain.values import Address, Percentage

_EINVOICE_DEFAULTS = (
    ("vat_id", None),
    ("tax_treatment", "standard"),
    ("electronic_address", None),
    ("buyer_reference", None),
    ("einvoice_format", None),
)


def without_einvoice_defaults(attributes: Item) -> Item:
    """A customer's attributes without the e-invoice details it does not have: a customer with none
    keeps its item (and a draft its copy) as it was before them."""
    for name, nothing in _EINVOICE_DEFAULTS:
        if attributes.get(name, nothing) == nothing:
            attributes.pop(name, None)
    return attributes


class CustomerItem(StoredItem):
    id: str
    organisation_id: str
    name: str
    email: str
    first_name: str | None = None
    last_name: str | None = None
    country: str | None = None
    currency: str
    preferred_locale: str | None = None
    address: Address | None = None
    tax_rate: Percentage = Decimal("0.00")
    tax_id: str | None = None
    # E-invoice details: absent on a customer stored before them (the defaults hold).
    vat_id: str | None = None
    tax_treatment: str = "standard"
    electronic_address: ElectronicAddress | None = None
    buyer_reference: str | None = None
    einvoice_format: str | None = None
    external_ids: list[str] = Field(default_factory=list)
    invoicing_flow: str = "automatic"
    payment_terms_days: int
    auto_pay: bool = False
    send_reminders: bool = True
    billing_cycle: str | None = None
    contacts: list[Contact] = Field(default_factory=list)
    # Every currency's credit balance (the API's `balance` is derived from it).
    balances: dict[str, int] = Field(default_factory=dict)
    metadata: dict[str, str] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime
    # Storage and the domain only: never part of the API's customer.
    issued_invoices: int = 0
    version: int = 0
    saved_cards: list[SavedCard] = Field(default_factory=list)
    next_charges_billing: date | None = None

    @model_validator(mode="before")
    @classmethod
    def _balance_before_currencies(cls, data: Any) -> Any:
        # An item stored before balances per currency has `balance` alone: it is in the customer's
        # currency, as it was applied until then. The customer's next write stores `balances`.
        if isinstance(data, dict) and "balances" not in data and data.get("balance"):
            data = {**data, "balances": {str(data.get("currency", "")).upper(): data["balance"]}}
        return saved_cards_of_legacy(data)

    @classmethod
    def of(cls, customer: Customer) -> CustomerItem:
        return cls.copied_from(customer)

    def attributes(self) -> Item:
        return without_einvoice_defaults(super().attributes())

    def customer(self) -> Customer:
        # In code order, whatever order the table kept them in; a currency at 0 holds no credit.
        balances = {currency: amount for currency, amount in sorted(self.balances.items()) if amount}
        return Customer.model_construct(**self.values("balances", "balance"), balances=balances)


class DraftCustomerItem(CustomerItem):
    """The customer as a draft invoice read it, kept on the invoice's item with its `balance` then."""

    balance: int = 0

    @classmethod
    def of(cls, customer: Customer) -> DraftCustomerItem:
        return cls.copied_from(customer, balance=customer.balance)


def customer_attributes(customer: Customer) -> Item:
    """The attributes of the customer's item (its keys aside)."""
    return CustomerItem.of(customer).attributes()


def customer_of(item: Item) -> Customer:
    """The customer a stored item holds."""
    return CustomerItem.model_validate(item).customer()

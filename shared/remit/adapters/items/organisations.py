"""An organisation's stored item (`ORG#<org>` / `ORG`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from remit.adapters.dynamodb import Item
from remit.adapters.items import StoredItem
from remit.domain.einvoices import ElectronicAddress, LegalIdentity
from remit.domain.organisation import (
    Branding,
    CreditNoteNumbering,
    InvoiceNumbering,
    Notifications,
    Organisation,
    PaymentMethods,
    PortalSettings,
    Reminders,
)
from remit.domain.values import Address


class LegalIdentityItem(StoredItem):
    """The legal identity as stored: read back without checking its VAT id again."""

    registration_name: str | None = None
    company_id: str | None = None
    vat_id: str | None = None
    tax_registration_id: str | None = None
    electronic_address: ElectronicAddress | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None

    def legal_identity(self) -> LegalIdentity:
        return LegalIdentity.model_construct(**self.values())


class OrganisationItem(StoredItem):
    id: str
    # The owning account: storage and access checks only, never part of the API's organisation.
    account_id: str
    name: str
    email: str | None = None
    default_currency: str
    timezone: str = "UTC"
    locale: str = "en"
    address: Address | None = None
    tax_id: str | None = None
    # None on an organisation that never gave one (its item is then as before e-invoices).
    legal: LegalIdentityItem | None = None
    branding: Branding = Field(default_factory=Branding)
    invoice_numbering: InvoiceNumbering
    # None on an organisation stored before credit notes (`Organisation.credit_notes` then derives it).
    credit_note_numbering: CreditNoteNumbering | None = None
    payment_terms_days: int = 30
    payment_methods: PaymentMethods = Field(default_factory=PaymentMethods)
    reminders: Reminders = Field(default_factory=Reminders)
    # Absent on an organisation that never changed them (the defaults hold).
    notifications: Notifications = Field(default_factory=Notifications)
    # Absent on an organisation stored before the portal: on.
    portal: PortalSettings = Field(default_factory=PortalSettings)
    created_at: datetime
    updated_at: datetime
    # Storage and the domain only.
    version: int = 0

    @classmethod
    def of(cls, organisation: Organisation) -> OrganisationItem:
        legal = organisation.legal
        return cls.copied_from(organisation, legal=LegalIdentityItem.copied_from(legal) if legal else None)

    def organisation(self) -> Organisation:
        legal = self.legal.legal_identity() if self.legal else None
        return Organisation.model_construct(**self.values("legal"), legal=legal)

    def attributes(self) -> Item:
        # An organisation that never had credit note numbering set keeps its item as it was.
        attributes = super().attributes()
        for name in ("credit_note_numbering", "legal"):
            if attributes.get(name) is None:
                attributes.pop(name, None)
        if attributes.get("notifications") == Notifications().model_dump(mode="json"):
            attributes.pop("notifications")
        return attributes


def organisation_attributes(organisation: Organisation) -> Item:
    """The attributes of the organisation's item (its keys aside)."""
    return OrganisationItem.of(organisation).attributes()


def organisation_of(item: Item) -> Organisation:
    """The organisation a stored item holds."""
    return OrganisationItem.model_validate(item).organisation()

"""What a signed-in customer sees and does in the portal: its invoices and credit notes, what it
owes, its payments and refunds, its documents, paying an invoice by card, its billing details.

Every method takes the organisation and the customer of the session (`PortalSignInService.current`) and
reaches only that customer's records: an id of anything else (another customer's, another
organisation's, a draft) is `NotFound`, exactly as an id that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from remit.domain.credit_notes import CreditNote
from remit.domain.customer import ContactInput, Customer, CustomerChanges
from remit.domain.einvoices import Einvoice
from remit.domain.errors import NotFound
from remit.domain.invoice import Invoice
from remit.domain.organisation import Organisation
from remit.domain.pagination import Page
from remit.domain.payment import Payment
from remit.domain.portal import PortalDetailsChanges
from remit.domain.refunds import Refund
from remit.ports.billing import BillingStore
from remit.ports.clock import Clock
from remit.ports.credit_notes import CreditNoteStore
from remit.services.billing_context import today_in
from remit.services.card_payments import CardPaymentService, HostedCheckout
from remit.services.customers import CustomerService
from remit.services.documents import DocumentService
from remit.services.einvoices import EinvoiceService

_PAGE = 100


@dataclass(frozen=True)
class CustomerStatement:
    """Everything of one customer the portal lists, as of now."""

    organisation: Organisation
    customer: Customer
    # Newest first, drafts left out; `overdue` as of today in the organisation's time zone.
    invoices: list[Invoice]
    credit_notes: list[CreditNote]
    payments: list[Payment]
    refunds: list[Refund]

    @property
    def owed(self) -> dict[str, int]:
        """What the customer owes, per currency: the amounts due of its open invoices."""
        totals: dict[str, int] = {}
        for invoice in self.invoices:
            if invoice.status == "open" and invoice.amount_due > 0:
                totals[invoice.currency] = totals.get(invoice.currency, 0) + invoice.amount_due
        return totals

    @property
    def payable(self) -> list[Invoice]:
        return [i for i in self.invoices if i.status == "open" and i.amount_due > 0]


def _every[T](read: Callable[[str | None], Page[T]]) -> Iterator[T]:
    cursor: str | None = None
    while True:
        page = read(cursor)
        yield from page.items
        cursor = page.next_cursor
        if cursor is None:
            return


class PortalAccountService:
    def __init__(
        self,
        billing: BillingStore,
        credit_notes: CreditNoteStore,
        documents: DocumentService,
        einvoices: EinvoiceService,
        card_payments: CardPaymentService,
        customers: CustomerService,
        clock: Clock,
    ) -> None:
        self._billing = billing
        self._credit_notes = credit_notes
        self._documents = documents
        self._einvoices = einvoices
        self._card_payments = card_payments
        self._customers = customers
        self._clock = clock

    def statement(self, organisation: Organisation, customer: Customer) -> CustomerStatement:
        """The customer's issued invoices (newest first), credit notes, payments and refunds."""
        org_id, customer_id = organisation.id, customer.id
        today = today_in(organisation.timezone, self._clock.now())
        invoices = [
            invoice.as_seen_on(today)
            for invoice in _every(
                lambda c: self._billing.list_invoices(org_id, _PAGE, c, None, customer_id, newest_first=True)
            )
            if invoice.status != "draft"
        ]
        credit_notes = list(
            _every(lambda c: self._credit_notes.list_credit_notes(org_id, _PAGE, c, customer_id=customer_id))
        )
        payments = list(_every(lambda c: self._billing.list_payments(org_id, _PAGE, c, None, customer_id)))
        refunds = [
            refund
            for payment in payments
            if payment.amount_refunded > 0
            for refund in self._refunds_of(org_id, payment.id)
        ]
        return CustomerStatement(organisation, customer, invoices, credit_notes, payments, refunds)

    def _refunds_of(self, organisation_id: str, payment_id: str) -> Iterator[Refund]:
        def read(cursor: str | None) -> Page[Refund]:
            return self._credit_notes.list_refunds(organisation_id, _PAGE, cursor, payment_id=payment_id)

        return _every(read)

    def invoice(self, organisation: Organisation, customer: Customer, invoice_id: str) -> Invoice:
        """One of the customer's issued invoices; `NotFound` for any other id."""
        invoice = (
            self._billing.get_invoice(organisation.id, invoice_id) if invoice_id.startswith("inv_") else None
        )
        if invoice is None or invoice.customer_id != customer.id or invoice.status == "draft":
            raise NotFound("invoice", invoice_id)
        return invoice

    def invoice_pdf(
        self, organisation: Organisation, customer: Customer, invoice_id: str
    ) -> tuple[str, bytes]:
        """The PDF of one of the customer's invoices and its file name; `NotFound` for any other id;
        raises what `DocumentService.pdf_of` raises.
        """
        return self._documents.pdf_of(self.invoice(organisation, customer, invoice_id), organisation)

    def invoice_einvoice(self, organisation: Organisation, customer: Customer, invoice_id: str) -> Einvoice:
        """The e-invoice of one of the customer's invoices, in the format the customer takes.

        `NotFound` for any other id or when the customer takes no e-invoice; raises what
        `EinvoiceService.invoice_einvoice` raises.
        """
        invoice = self.invoice(organisation, customer, invoice_id)
        if not (invoice.customer_einvoice or customer.einvoice_format):
            raise NotFound("e-invoice", invoice_id)
        return self._einvoices.invoice_einvoice(organisation.account_id, organisation.id, invoice.id, None)

    def credit_note_pdf(
        self, organisation: Organisation, customer: Customer, credit_note_id: str
    ) -> tuple[str, bytes]:
        """The PDF of one of the customer's credit notes; `NotFound` for any other id."""
        note = (
            self._credit_notes.get(organisation.id, credit_note_id)
            if credit_note_id.startswith("cn_")
            else None
        )
        if note is None or note.customer_id != customer.id:
            raise NotFound("credit note", credit_note_id)
        invoice = self.invoice(organisation, customer, note.invoice_id)
        return self._documents.credit_note_pdf_of(note, invoice, organisation)

    def pay_invoice(self, organisation: Organisation, customer: Customer, invoice_id: str) -> HostedCheckout:
        """The provider's checkout for one of the customer's invoices (the hosted page's, which it
        returns to). `NotFound` for any other id; `Conflict` when it is not open, nothing is due or
        no card provider is connected.
        """
        invoice = self.invoice(organisation, customer, invoice_id)
        if not invoice.hosted_token:
            raise NotFound("invoice", invoice_id)
        return self._card_payments.start_checkout(invoice.hosted_token)

    def change_details(
        self, organisation: Organisation, customer: Customer, changes: PortalDetailsChanges
    ) -> Customer:
        """Apply what the customer changed (billing address, tax id, its contacts' email
        preferences, reminders) through `CustomerService.update`: the same validation, events and
        timeline as the API's, the change recorded as made by the customer in the portal.

        Raises `InvalidInput` naming the field (nothing changes), `NotFound` for a contact id that
        is not the customer's.
        """
        given = changes.model_fields_set
        patch: dict[str, object] = {}
        if "address" in given:
            patch["address"] = changes.address
        if "tax_id" in given:
            patch["tax_id"] = changes.tax_id
        if "send_reminders" in given and changes.send_reminders is not None:
            patch["send_reminders"] = changes.send_reminders
        if changes.contact_preferences is not None:
            wanted = changes.contact_preferences
            known = {contact.id for contact in customer.contacts}
            unknown = sorted(set(wanted) - known)
            if unknown:
                raise NotFound("contact", unknown[0])
            patch["contacts"] = [
                ContactInput(
                    id=contact.id,
                    name=contact.name,
                    email=contact.email,
                    preferences=wanted.get(contact.id, contact.preferences),
                )
                for contact in customer.contacts
            ]
        update = CustomerChanges.model_validate(patch)
        return self._customers.update_by_customer(organisation.id, customer.id, update)

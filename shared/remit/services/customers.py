"""Customers of an organisation: create, read, find by external id, list, change, delete."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from remit.domain.changes import apply_changes, build
from remit.domain.customer import Contact, ContactInput, Customer, CustomerChanges, NewCustomer
from remit.domain.errors import Conflict, FieldProblem, InvalidInput, NotFound
from remit.domain.events import EventSource
from remit.domain.ids import new_id
from remit.domain.pagination import Page
from remit.ports.clock import Clock
from remit.ports.customers import CustomerRepository
from remit.ports.organisations import OrganisationRepository
from remit.services.billing_context import today_in
from remit.services.organisations import OrganisationService
from remit.services.retry import retry_on_conflict


def _contacts(inputs: list[ContactInput], existing: list[Contact], now: datetime) -> list[Contact]:
    """Contacts from what the user sent: a given `id` must name an existing contact, which it keeps."""
    known = {contact.id for contact in existing}
    problems = [
        FieldProblem(f"contacts.{index}.id", f"no contact with id '{given.id}' on this customer")
        for index, given in enumerate(inputs)
        if given.id is not None and given.id not in known
    ]
    if problems:
        raise InvalidInput(problems)
    return [
        Contact(
            id=given.id or new_id("ctc", now),
            name=given.name,
            email=given.email,
            preferences=given.preferences,
        )
        for given in inputs
    ]


class CustomerService:
    def __init__(
        self,
        customers: CustomerRepository,
        organisations: OrganisationRepository,
        access: OrganisationService,
        clock: Clock,
        reminders_resumed: Callable[[str, str], None] = lambda organisation_id, customer_id: None,
    ) -> None:
        # Called once a customer who had opted out of reminders opts in again (its open invoices are
        # rescheduled).
        self._reminders_resumed = reminders_resumed
        self._customers = customers
        self._organisations = organisations
        self._access = access
        self._clock = clock

    def create(
        self, account_id: str, organisation_id: str, new: NewCustomer, *, customer_id: str | None = None
    ) -> Customer:
        """Create a customer; currency and payment terms default to the organisation's. An import
        gives the `customer_id` (derived from its row, so a second delivery cannot create it twice).

        Atomic with the claim of its external ids: `Conflict` (naming `external_ids`) if one is taken,
        or if a customer with `customer_id` exists.
        """
        organisation = self._organisations.get(organisation_id)
        if organisation is None or organisation.account_id != account_id:
            raise NotFound("organisation", organisation_id)
        now = self._clock.now()
        fields = new.model_dump(exclude_unset=True, exclude_none=True)
        customer = build(
            Customer,
            {
                "currency": organisation.default_currency,
                "payment_terms_days": organisation.payment_terms_days,
                **fields,
                "contacts": _contacts(new.contacts, [], now),
                "id": customer_id or new_id("cus", now),
                "organisation_id": organisation_id,
                "created_at": now,
                "updated_at": now,
            },
        )
        customer = customer.with_charges_billing_from(today_in(organisation.timezone, now))
        self._customers.add(customer)
        return customer

    def get(self, account_id: str, organisation_id: str, customer_id: str) -> Customer:
        """The customer; `NotFound` if it or its organisation is not the account's."""
        self._access.require_access(account_id, organisation_id)
        customer = self._customers.get(organisation_id, customer_id)
        if customer is None:
            raise NotFound("customer", customer_id)
        return customer

    def list(
        self,
        account_id: str,
        organisation_id: str,
        limit: int,
        cursor: str | None,
        external_id: str | None,
        name_prefix: str | None = None,
    ) -> Page[Customer]:
        """The organisation's customers, oldest first; with `external_id`, the one it names (or none);
        with `name_prefix`, those whose name starts with it (case and accents aside), by name.
        """
        self._access.require_access(account_id, organisation_id)
        if external_id is not None:
            found = self._customers.find_by_external_id(organisation_id, external_id)
            return Page([found] if found else [], None)
        if name_prefix is not None and name_prefix.strip():
            return self._customers.search_by_name(organisation_id, name_prefix, limit, cursor)
        return self._customers.list(organisation_id, limit, cursor)

    def search(
        self, account_id: str, organisation_id: str, name_prefix: str, limit: int, cursor: str | None
    ) -> Page[Customer]:
        """Customers whose name starts with `name_prefix` (case and accents aside), in name order."""
        return self.list(account_id, organisation_id, limit, cursor, None, name_prefix)

    def update(
        self, account_id: str, organisation_id: str, customer_id: str, changes: CustomerChanges
    ) -> Customer:
        """Apply a PATCH; `external_ids`, `contacts` and `metadata` replace the whole value.

        External ids are claimed and released in the same transaction as the change. Retries on
        concurrent changes. Raises `NotFound`, `InvalidInput`, or `Conflict` for a taken external id.
        """
        return self._update(lambda: self.get(account_id, organisation_id, customer_id), changes)

    def update_by_customer(
        self, organisation_id: str, customer_id: str, changes: CustomerChanges
    ) -> Customer:
        """Apply a change the customer made itself, signed in to the organisation's portal: as
        `update` does (same validation, events and reminder rescheduling), without an account; its
        `customer.updated` event has the source `portal`.
        Raises `NotFound` when the customer no longer exists, `InvalidInput` naming the field.
        """

        def current() -> Customer:
            customer = self._customers.get(organisation_id, customer_id)
            if customer is None:
                raise NotFound("customer", customer_id)
            return customer

        return self._update(current, changes, source="portal")

    def _update(
        self, read: Callable[[], Customer], changes: CustomerChanges, source: EventSource | None = None
    ) -> Customer:
        def attempt() -> tuple[Customer, bool]:
            current = read()
            organisation_id = current.organisation_id
            now = self._clock.now()
            replaced: dict[str, object] = {"updated_at": now}
            if "contacts" in changes.model_fields_set:
                replaced["contacts"] = _contacts(changes.contacts or [], current.contacts, now)
            if "metadata" in changes.model_fields_set:
                replaced["metadata"] = changes.metadata or {}
            if "external_ids" in changes.model_fields_set:
                replaced["external_ids"] = changes.external_ids or []
            updated = apply_changes(current, changes, **replaced)
            if updated.billing_cycle != current.billing_cycle:
                organisation = self._organisations.get(organisation_id)
                timezone = organisation.timezone if organisation else "UTC"
                updated = updated.with_charges_billing_from(today_in(timezone, now))
            before, after = set(current.external_ids), set(updated.external_ids)
            opted_in = updated.send_reminders and not current.send_reminders
            saved = self._customers.save(updated, after - before, before - after, source, previous=current)
            return saved, opted_in

        saved, opted_in = retry_on_conflict(attempt)
        if opted_in:
            self._reminders_resumed(saved.organisation_id, saved.id)
        return saved

    def delete(self, account_id: str, organisation_id: str, customer_id: str) -> None:
        """Delete a customer and free its external ids; `Conflict` if any invoice of it was issued."""

        def attempt() -> None:
            current = self.get(account_id, organisation_id, customer_id)
            if current.issued_invoices:
                raise Conflict(
                    "This customer has finalized invoices and cannot be deleted; "
                    "its invoices must stay on record."
                )
            self._customers.delete(current, now=self._clock.now())

        retry_on_conflict(attempt)

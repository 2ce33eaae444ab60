"""Customers and their external ids."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from remit.domain.customer import Customer
from remit.domain.events import EventSource
from remit.domain.pagination import Page


class CustomerRepository(Protocol):
    def add(self, customer: Customer) -> None:
        """Store a new customer and claim its external ids (`Conflict` if one is taken)."""
        ...

    def get(self, organisation_id: str, customer_id: str) -> Customer | None: ...

    def find_by_external_id(self, organisation_id: str, external_id: str) -> Customer | None: ...

    def find_by_email(self, organisation_id: str, email: str) -> list[Customer]:
        """The customers whose primary email is `email` (case aside), oldest first, at most a few."""
        ...

    def find_by_recipient(self, organisation_id: str, email: str, limit: int) -> list[Customer]:
        """The customers that bill `email` (case aside: their own email or a billing contact's), in
        id order (oldest first), at most `limit`; reads only those."""
        ...

    def list(self, organisation_id: str, limit: int, cursor: str | None) -> Page[Customer]: ...

    def search_by_name(
        self, organisation_id: str, prefix: str, limit: int, cursor: str | None
    ) -> Page[Customer]:
        """Customers whose name starts with `prefix`, case and accents aside, in name order."""
        ...

    def save(
        self,
        customer: Customer,
        claimed_external_ids: set[str],
        released_external_ids: set[str],
        source: EventSource | None = None,
        *,
        previous: Customer,
    ) -> Customer:
        """Write the customer if unchanged since read (`previous`, as read), claiming new external ids
        and releasing old ones, with its `customer.updated` event (`source`: who made the change,
        None for the organisation) and the lookups of the emails it bills now instead of `previous`'s.

        Raises `ConcurrentUpdate` if the customer changed, `Conflict` if an external id is taken.
        """
        ...

    def delete(self, customer: Customer, *, now: datetime) -> None:
        """Remove the customer and its external ids if unchanged since read and never invoiced (its
        `customer.deleted` event written with it, at `now`).

        Raises `ConcurrentUpdate` otherwise (the service checks for issued invoices before).
        """
        ...

"""The interfaces the services need. Adapters implement them; tests may substitute fakes.

Each repository write is atomic: it commits every item it touches (the entity, its uniqueness
markers, its membership records) in one transaction, or nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from remit.domain.account import Account
from remit.domain.customer import Customer
from remit.domain.organisation import Organisation
from remit.domain.pagination import Page


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class AccountRepository(Protocol):
    def add(self, account: Account, key_digest: str) -> None:
        """Store a new account with the digest of its first API key."""
        ...

    def account_id_for_key(self, key_digest: str) -> str | None: ...


class OrganisationRepository(Protocol):
    def add(self, organisation: Organisation) -> None:
        """Store a new organisation and its membership in the account."""
        ...

    def get(self, organisation_id: str) -> Organisation | None: ...

    def owner_of(self, organisation_id: str) -> str | None:
        """The account id that owns the organisation, or None when there is no such organisation."""
        ...

    def list_for_account(self, account_id: str, limit: int, cursor: str | None) -> Page[Organisation]: ...

    def save(self, organisation: Organisation) -> Organisation:
        """Write the organisation if nobody changed it since it was read (its `version`).

        Returns it with the new version; raises `ConcurrentUpdate` otherwise.
        """
        ...


class CustomerRepository(Protocol):
    def add(self, customer: Customer) -> None:
        """Store a new customer and claim its external ids (`Conflict` if one is taken)."""
        ...

    def get(self, organisation_id: str, customer_id: str) -> Customer | None: ...

    def find_by_external_id(self, organisation_id: str, external_id: str) -> Customer | None: ...

    def list(self, organisation_id: str, limit: int, cursor: str | None) -> Page[Customer]: ...

    def save(
        self, customer: Customer, claimed_external_ids: set[str], released_external_ids: set[str]
    ) -> Customer:
        """Write the customer if unchanged since read, claiming new external ids and releasing old ones.

        Raises `ConcurrentUpdate` if the customer changed, `Conflict` if an external id is taken.
        """
        ...

    def delete(self, customer: Customer) -> None:
        """Remove the customer and its external ids if unchanged since read and never invoiced.

        Raises `ConcurrentUpdate` otherwise (the service checks for issued invoices before).
        """
        ...


class LogoStore(Protocol):
    def put_logo(self, organisation_id: str, content: bytes, content_type: str) -> str:
        """Store the image and return the key it is kept under."""
        ...

    def get_logo(self, key: str) -> tuple[bytes, str] | None:
        """The image bytes and content type, or None when there is no such logo."""
        ...


class ImageVerifier(Protocol):
    def problem_with(self, content: bytes, content_type: str) -> str | None:
        """Why `content` is not a usable image of `content_type`, or None when it is one."""
        ...

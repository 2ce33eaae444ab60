"""Organisations."""

from __future__ import annotations

from typing import Protocol

from remit.domain.organisation import Organisation
from remit.domain.pagination import Page


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

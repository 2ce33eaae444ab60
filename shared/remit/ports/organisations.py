"""Organisations."""

from __future__ import annotations

from typing import Protocol

from remit.domain.numbering import NumberSeries
from remit.domain.organisation import Organisation
from remit.domain.pagination import Page


class OrganisationRepository(Protocol):
    def add(self, organisation: Organisation) -> None:
        """Store a new organisation, its membership in the account and its invoice series (starting
        at its `invoice_numbering.next_number`)."""
        ...

    def get(self, organisation_id: str) -> Organisation | None:
        """The organisation, its `invoice_numbering.next_number` read from its invoice series."""
        ...

    def read(self, organisation_id: str) -> tuple[Organisation | None, NumberSeries | None]:
        """The organisation (as `get`) and its invoice series, in one read."""
        ...

    def read_all_series(
        self, organisation_id: str
    ) -> tuple[Organisation | None, NumberSeries | None, NumberSeries | None]:
        """The organisation, its invoice series and its credit note series, in one read."""
        ...

    def owner_of(self, organisation_id: str) -> str | None:
        """The account id that owns the organisation, or None when there is no such organisation."""
        ...

    def list_for_account(self, account_id: str, limit: int, cursor: str | None) -> Page[Organisation]: ...

    def save(
        self,
        organisation: Organisation,
        *,
        series: NumberSeries | None = None,
        credit_note_series: NumberSeries | None = None,
    ) -> Organisation:
        """Write the organisation if nobody changed it since it was read (its `version`), and with
        it, atomically, `series` and `credit_note_series` when given, if still as read too.

        Returns it with the new version; raises `ConcurrentUpdate` otherwise.
        """
        ...

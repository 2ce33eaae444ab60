"""Credit notes as their documents (PDF, email, hosted page) read them, and what issuing, voiding
and refunding them reads."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from remit.domain.credit_notes import CreditNote
from remit.domain.invoice import Invoice
from remit.domain.numbering import NumberSeries
from remit.domain.organisation import Organisation
from remit.domain.pagination import Page
from remit.domain.refunds import Refund


class CreditNoteReader(Protocol):
    def get(self, organisation_id: str, credit_note_id: str) -> CreditNote | None:
        """The credit note, or None when the organisation has none of that id."""
        ...

    def of_invoice(self, organisation_id: str, invoice_id: str) -> list[CreditNote]:
        """Every credit note of the invoice (issued and void), oldest first."""
        ...


class CreditNoteStore(CreditNoteReader, Protocol):
    def read_for_crediting(
        self, organisation_id: str, invoice_id: str
    ) -> tuple[Organisation | None, NumberSeries | None, Invoice | None]:
        """The organisation, its credit note series and the invoice, in one read."""
        ...

    def credit_note_of_request(self, organisation_id: str, request: str) -> CreditNote | None:
        """The credit note the client request `request` issued, if it did."""
        ...

    def list_credit_notes(
        self,
        organisation_id: str,
        limit: int,
        cursor: str | None,
        *,
        invoice_id: str | None = None,
        customer_id: str | None = None,
    ) -> Page[CreditNote]: ...

    def credit_notes_issued(
        self, organisation_id: str, first: date, last: date, limit: int, cursor: str | None
    ) -> Page[CreditNote]:
        """The credit notes issued `first` to `last` (both included), by issue date. Reads only those."""
        ...

    def get_refund(self, organisation_id: str, refund_id: str) -> Refund | None: ...

    def list_refunds(
        self,
        organisation_id: str,
        limit: int,
        cursor: str | None,
        *,
        payment_id: str | None = None,
        invoice_id: str | None = None,
    ) -> Page[Refund]: ...

    def pending_refunds(self, before: datetime, limit: int) -> list[tuple[str, str]]:
        """Up to `limit` card refunds pending since before `before`: (organisation id, refund id)."""
        ...

"""Credit notes as their documents (PDF, email, hosted page) read them."""

from __future__ import annotations

from typing import Protocol

from remit.domain.credit_notes import CreditNote


class CreditNoteReader(Protocol):
    def get(self, organisation_id: str, credit_note_id: str) -> CreditNote | None:
        """The credit note, or None when the organisation has none of that id."""
        ...

    def of_invoice(self, organisation_id: str, invoice_id: str) -> list[CreditNote]:
        """Every credit note of the invoice (issued and void), oldest first."""
        ...

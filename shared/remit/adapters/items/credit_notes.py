"""Credit notes' and refunds' stored items (`CREDITNOTE#…`, `REFUND#…`): each entity stored as it is,
its fields being what it is (plus keys and index attributes, added by the adapter)."""

from __future__ import annotations

from remit.adapters.dynamodb import Item
from remit.domain.credit_notes import CreditNote
from remit.domain.refunds import Refund


def credit_note_attributes(note: CreditNote) -> Item:
    # A credit note never e-invoiced keeps its item as it was before e-invoices (no migration).
    return note.model_dump(mode="json", exclude={"einvoice"} if note.einvoice is None else None)


def credit_note_of(item: Item) -> CreditNote:
    return CreditNote.model_validate(item)


def refund_attributes(refund: Refund) -> Item:
    return refund.model_dump(mode="json")


def refund_of(item: Item) -> Refund:
    return Refund.model_validate(item)

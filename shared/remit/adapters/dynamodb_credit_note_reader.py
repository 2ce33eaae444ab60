"""Credit notes read from the billing table for their documents (`remit.ports.credit_notes`).

Read-only. A credit note is the item `PK = ORG#<organisation>`, `SK = CREDITNOTE#<id>`, holding
`CreditNote.model_dump(mode="json")` beside its keys. The credit notes of an invoice are read from
the organisation's partition under that prefix, keeping those whose `invoice_id` is the invoice's.
"""

from __future__ import annotations

from typing import Any

from remit.adapters.dynamodb import DynamoTable
from remit.domain.credit_notes import CreditNote


def _pk(organisation_id: str) -> str:
    return f"ORG#{organisation_id}"


def _sk(credit_note_id: str = "") -> str:
    return f"CREDITNOTE#{credit_note_id}"


def _credit_note(item: dict[str, Any]) -> CreditNote:
    # Keys and index attributes beside the fields are the table's, not the credit note's.
    return CreditNote.model_validate({name: item[name] for name in CreditNote.model_fields if name in item})


class DynamoCreditNoteReader:
    def __init__(self, table: DynamoTable) -> None:
        self._table = table

    def get(self, organisation_id: str, credit_note_id: str) -> CreditNote | None:
        item = self._table.get(_pk(organisation_id), _sk(credit_note_id))
        return _credit_note(item) if item is not None else None

    def of_invoice(self, organisation_id: str, invoice_id: str) -> list[CreditNote]:
        items, more = self._table.query_prefix(
            _pk(organisation_id), _sk(), 1000, None, equal_to={"invoice_id": invoice_id}
        )
        while more:
            page, more = self._table.query_prefix(
                _pk(organisation_id), _sk(), 1000, items[-1]["SK"], equal_to={"invoice_id": invoice_id}
            )
            items += page
        notes = [_credit_note(item) for item in items]
        return sorted(notes, key=lambda note: (note.created_at, note.id))

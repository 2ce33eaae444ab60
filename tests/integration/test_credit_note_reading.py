"""The billing table's credit notes as their documents read them (the credit note store): an
organisation's credit note by id, and an invoice's, oldest first, never another invoice's or
organisation's. Real DynamoDB (moto).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import boto3

from remit.adapters.dynamodb import DynamoTable, to_attributes
from remit.adapters.dynamodb_credit_notes import DynamoCreditNoteStore, credit_note_item
from remit.domain.credit_notes import CreditNote
from tests.integration.credit_notes import a_credit_note


def stored(note: CreditNote) -> None:
    boto3.client("dynamodb").put_item(
        TableName=os.environ["REMIT_BILLING_TABLE"], Item=to_attributes(credit_note_item(note))
    )


def reader() -> DynamoCreditNoteStore:
    return DynamoCreditNoteStore(
        DynamoTable(lambda: boto3.client("dynamodb"), os.environ["REMIT_BILLING_TABLE"])
    )


def test_a_credit_note_is_read_back_as_stored(aws: None) -> None:
    note = a_credit_note(refund_amount=100, memo="Ünïcödé memo")
    stored(note)

    assert reader().get("org_acme", note.id) == note
    assert reader().get("org_other", note.id) is None
    assert reader().get("org_acme", "cn_unknown") is None


def test_an_invoices_credit_notes_are_its_own_oldest_first(aws: None) -> None:
    # Given two credit notes of one invoice (the later stored first), one of another invoice, and one
    # of another organisation naming the same invoice id
    later = a_credit_note(credit_note_id="cn_c", created_at=datetime(2026, 5, 1, tzinfo=UTC), number="CN-2")
    earlier = a_credit_note(credit_note_id="cn_b", created_at=datetime(2026, 4, 1, tzinfo=UTC), number="CN-1")
    others = [
        a_credit_note(credit_note_id="cn_a", invoice_id="inv_other"),
        a_credit_note(credit_note_id="cn_d", organisation_id="org_other"),
    ]
    for note in (later, earlier, *others):
        stored(note)

    found = reader().of_invoice("org_acme", "inv_0042")

    assert [note.number for note in found] == ["CN-1", "CN-2"]
    assert reader().of_invoice("org_acme", "inv_none") == []

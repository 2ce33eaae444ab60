"""Credit notes and refunds in the organisation's partition.

    ORG#<org> / CREDITNOTE#<credit note>   a credit note; GSI2: its invoice's, GSI3: its customer's
    ORG#<org> / CNNUM#<number>             marker: the credit note number is taken
    ORG#<org> / CNREQ#<request>            marker: the client request that issued a credit note
    ORG#<org> / SERIES#credit_note         the credit note number series (dynamodb_numbering)
    ORG#<org> / REFUND#<refund>            a refund; GSI2: its payment's, GSI3: its invoice's refunds;
                                           GSI1 (`REFUND_PENDING#<shard>`, `<created>#<org>#<id>`)
                                           while a card refund is pending and the provider has not
                                           acknowledged it, for the sweep that sends it again

    GSI2PK = ORG#<org>#INVOICE#<invoice>#CREDITNOTES      an invoice's credit notes
    GSI3PK = ORG#<org>#CUSTOMER#<customer>#CREDITNOTES    a customer's credit notes
    GSI2PK = ORG#<org>#PAYMENT#<payment>#REFUNDS          a payment's refunds
    GSI3PK = ORG#<org>#INVOICE#<invoice>#REFUNDS          an invoice's refunds

The list indexes' sort key is the item's own `SK`, as for invoices and payments (dynamodb_billing):
lists keep the table's order (oldest first) and a cursor continues in any of them. The writes are
staged on the billing transaction (dynamodb_billing), with the invoice, payments and balance they
change; this module says what the items look like and reads them.
"""

from __future__ import annotations

import zlib
from datetime import date, datetime

from remit.adapters.dynamodb import (
    DynamoTable,
    Index,
    Item,
    decode_cursor,
    encode_cursor,
    from_attributes,
    keyed,
)
from remit.adapters.dynamodb_dated import date_keys, read_dated
from remit.adapters.dynamodb_numbering import organisation_and_all_series, organisation_keys
from remit.adapters.items.credit_notes import (
    credit_note_attributes,
    credit_note_of,
    refund_attributes,
    refund_of,
)
from remit.adapters.items.invoices import invoice_of
from remit.domain.credit_notes import CreditNote
from remit.domain.invoice import Invoice
from remit.domain.numbering import NumberSeries
from remit.domain.organisation import Organisation
from remit.domain.pagination import Page
from remit.domain.refunds import Refund

GSI1 = Index("GSI1", "GSI1PK", "GSI1SK")
GSI2 = Index("GSI2", "GSI2PK", "GSI2SK")
GSI3 = Index("GSI3", "GSI3PK", "GSI3SK")
REFUND_SHARDS = 4


def _pk(organisation_id: str) -> str:
    return f"ORG#{organisation_id}"


def credit_note_sk(credit_note_id: str) -> str:
    return f"CREDITNOTE#{credit_note_id}"


def refund_sk(refund_id: str) -> str:
    return f"REFUND#{refund_id}"


def credit_note_item(note: CreditNote) -> Item:
    pk, sk = _pk(note.organisation_id), credit_note_sk(note.id)
    item = keyed(credit_note_attributes(note), pk, sk, "credit_note")
    item |= {
        GSI2.partition_key: f"{pk}#INVOICE#{note.invoice_id}#CREDITNOTES",
        GSI2.sort_key: sk,
        GSI3.partition_key: f"{pk}#CUSTOMER#{note.customer_id}#CREDITNOTES",
        GSI3.sort_key: sk,
    }
    return item | date_keys(item)


def refund_item(organisation_id: str, refund: Refund) -> Item:
    pk, sk = _pk(organisation_id), refund_sk(refund.id)
    item = keyed(refund_attributes(refund), pk, sk, "refund")
    item |= {
        GSI2.partition_key: f"{pk}#PAYMENT#{refund.payment_id}#REFUNDS",
        GSI2.sort_key: sk,
        GSI3.partition_key: f"{pk}#INVOICE#{refund.invoice_id}#REFUNDS",
        GSI3.sort_key: sk,
    }
    if refund.status == "pending" and refund.through_provider and refund.provider_refund_id is None:
        item[GSI1.partition_key] = f"REFUND_PENDING#{zlib.crc32(refund.id.encode()) % REFUND_SHARDS}"
        item[GSI1.sort_key] = f"{refund.created_at.isoformat()}#{organisation_id}#{refund.id}"
    return item


class DynamoCreditNoteStore:
    """Reads of credit notes and refunds (`CreditNoteReader` and what the credit note service needs)."""

    def __init__(self, table: DynamoTable) -> None:
        self._table = table

    def get(self, organisation_id: str, credit_note_id: str) -> CreditNote | None:
        item = self._table.get(_pk(organisation_id), credit_note_sk(credit_note_id))
        return credit_note_of(item) if item else None

    def of_invoice(self, organisation_id: str, invoice_id: str) -> list[CreditNote]:
        """Every credit note of the invoice (issued and void), oldest first."""
        notes: list[CreditNote] = []
        cursor: str | None = None
        while True:
            page = self.list_credit_notes(organisation_id, 100, cursor, invoice_id=invoice_id)
            notes += page.items
            if page.next_cursor is None:
                return notes
            cursor = page.next_cursor

    def read_for_crediting(
        self, organisation_id: str, invoice_id: str
    ) -> tuple[Organisation | None, NumberSeries | None, Invoice | None]:
        """The organisation, its credit note series and the invoice, in one round trip."""
        pk = _pk(organisation_id)
        keys = [*organisation_keys(organisation_id, credit_notes=True), (pk, f"INVOICE#{invoice_id}")]
        found = {item["SK"]: item for item in self._table.batch_get(keys)}
        organisation, _, notes = organisation_and_all_series(found)
        invoice = found.get(f"INVOICE#{invoice_id}")
        return organisation, notes, invoice_of(invoice) if invoice else None

    def credit_note_of_request(self, organisation_id: str, request: str) -> CreditNote | None:
        """The credit note the client request `request` issued, if it did."""
        marker = self._table.get(_pk(organisation_id), f"CNREQ#{request}")
        return self.get(organisation_id, str(marker["credit_note_id"])) if marker else None

    def list_credit_notes(
        self,
        organisation_id: str,
        limit: int,
        cursor: str | None,
        *,
        invoice_id: str | None = None,
        customer_id: str | None = None,
    ) -> Page[CreditNote]:
        """The organisation's credit notes, oldest first, reading only those of the invoice or
        customer asked (with both, the invoice's, kept if the customer's)."""
        pk = _pk(organisation_id)
        prefix = "CREDITNOTE#"
        if invoice_id:
            where: tuple[Index, str] | None = (GSI2, f"{pk}#INVOICE#{invoice_id}#CREDITNOTES")
        elif customer_id:
            where = (GSI3, f"{pk}#CUSTOMER#{customer_id}#CREDITNOTES")
        else:
            where = None
        equal_to = {"customer_id": customer_id} if invoice_id and customer_id else None
        items, more = self._list(pk, prefix, limit, cursor, where, equal_to)
        return Page([credit_note_of(i) for i in items], encode_cursor(items[-1]["SK"]) if more else None)

    def credit_notes_issued(
        self, organisation_id: str, first: date, last: date, limit: int, cursor: str | None
    ) -> Page[CreditNote]:
        """The organisation's credit notes issued `first` to `last` (both included), by issue date
        then oldest first, reading only those (the date index, dynamodb_dated)."""
        items, next_cursor = read_dated(
            self._table, organisation_id, "credit_note", first, last, limit, cursor
        )
        return Page([credit_note_of(item) for item in items], next_cursor)

    def get_refund(self, organisation_id: str, refund_id: str) -> Refund | None:
        item = self._table.get(_pk(organisation_id), refund_sk(refund_id))
        return refund_of(item) if item else None

    def list_refunds(
        self,
        organisation_id: str,
        limit: int,
        cursor: str | None,
        *,
        payment_id: str | None = None,
        invoice_id: str | None = None,
    ) -> Page[Refund]:
        """The organisation's refunds, oldest first, reading only those of the payment or invoice
        asked (with both, the payment's, kept if the invoice's)."""
        pk = _pk(organisation_id)
        if payment_id:
            where: tuple[Index, str] | None = (GSI2, f"{pk}#PAYMENT#{payment_id}#REFUNDS")
        elif invoice_id:
            where = (GSI3, f"{pk}#INVOICE#{invoice_id}#REFUNDS")
        else:
            where = None
        equal_to = {"invoice_id": invoice_id} if payment_id and invoice_id else None
        items, more = self._list(pk, "REFUND#", limit, cursor, where, equal_to)
        return Page([refund_of(i) for i in items], encode_cursor(items[-1]["SK"]) if more else None)

    def pending_refunds(self, before: datetime, limit: int) -> list[tuple[str, str]]:
        """Up to `limit` card refunds still pending that were made before `before`, oldest first per
        shard: (organisation id, refund id) pairs, for the sweep to read and send again."""
        found: list[tuple[str, str]] = []
        for shard in range(REFUND_SHARDS):
            response = self._table.client.query(
                TableName=self._table.name,
                IndexName=GSI1.name,
                KeyConditionExpression="GSI1PK = :shard AND GSI1SK < :before",
                ProjectionExpression="GSI1SK",  # GSI1 projects keys and customer_id only
                ExpressionAttributeValues={
                    ":shard": {"S": f"REFUND_PENDING#{shard}"},
                    ":before": {"S": before.isoformat()},
                },
                Limit=limit,
            )
            for attributes in response.get("Items", []):
                item = from_attributes(attributes)
                _, organisation_id, refund_id = str(item["GSI1SK"]).rsplit("#", 2)
                found.append((organisation_id, refund_id))
        return found[:limit]

    def _list(
        self,
        pk: str,
        prefix: str,
        limit: int,
        cursor: str | None,
        where: tuple[Index, str] | None,
        equal_to: dict[str, str] | None,
    ) -> tuple[list[Item], bool]:
        after_sk = decode_cursor(cursor, prefix) if cursor else None
        if where is None:
            return self._table.query_prefix(pk, prefix, limit, after_sk, equal_to)
        index, partition = where
        after = (
            {"PK": pk, "SK": after_sk, index.partition_key: partition, index.sort_key: after_sk}
            if after_sk is not None
            else None
        )
        return self._table.query_index_prefix(index, partition, prefix, limit, after, equal_to)

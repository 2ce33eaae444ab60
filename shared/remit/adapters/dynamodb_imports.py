"""Customer imports' records in their organisation's partition: `ORG#<org>/IMPORT#<id>`."""

from __future__ import annotations

from remit.adapters.dynamodb import DynamoTable, Write, decode_cursor, encode_cursor, keyed, put
from remit.domain.errors import ConcurrentUpdate, Conflict
from remit.domain.imports import CustomerImport
from remit.domain.pagination import Page

_PREFIX = "IMPORT#"


def _pk(organisation_id: str) -> str:
    return f"ORG#{organisation_id}"


def import_item(record: CustomerImport) -> dict[str, object]:
    return keyed(
        record.model_dump(mode="json"), _pk(record.organisation_id), f"{_PREFIX}{record.id}", "import"
    )


def import_of(item: dict[str, object]) -> CustomerImport:
    return CustomerImport.model_validate(item)


class DynamoImportRecords:
    def __init__(self, table: DynamoTable) -> None:
        self._table = table

    def add(self, record: CustomerImport) -> None:
        self._table.write(
            [
                Write(
                    "Put",
                    put(import_item(record), "attribute_not_exists(PK)"),
                    lambda: Conflict("Import exists."),
                )
            ]
        )

    def get(self, organisation_id: str, import_id: str) -> CustomerImport | None:
        item = self._table.get(_pk(organisation_id), f"{_PREFIX}{import_id}")
        return import_of(item) if item else None

    def list(self, organisation_id: str, limit: int, cursor: str | None) -> Page[CustomerImport]:
        after = decode_cursor(cursor, _PREFIX) if cursor else None
        items, more = self._table.query_prefix(_pk(organisation_id), _PREFIX, limit, after, descending=True)
        return Page(
            [import_of(item) for item in items], encode_cursor(str(items[-1]["SK"])) if more else None
        )

    def save(self, record: CustomerImport) -> CustomerImport:
        saved = record.model_copy(update={"version": record.version + 1})
        written = put(import_item(saved), "attribute_exists(PK) AND version = :read", read=record.version)
        self._table.write([Write("Put", written, ConcurrentUpdate)])
        return saved

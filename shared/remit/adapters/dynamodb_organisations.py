"""Organisations in the billing table.

`ORG#<id>/ORG` holds the organisation (its own partition holds everything it owns);
`ORG#<id>/SERIES#invoice` and `SERIES#credit_note` its number series (dynamodb_numbering), read
with it;
`ACCOUNT#<account>/ORG#<id>` lists it under its account.
"""

from __future__ import annotations

from remit.adapters.dynamodb import (
    DynamoTable,
    Item,
    Write,
    decode_cursor,
    encode_cursor,
    keyed,
    put,
)
from remit.adapters.dynamodb_numbering import (
    organisation_and_all_series,
    organisation_keys,
    save_series,
)
from remit.adapters.items.organisations import organisation_attributes
from remit.domain.errors import ConcurrentUpdate, Conflict
from remit.domain.numbering import NumberSeries
from remit.domain.organisation import Organisation
from remit.domain.pagination import Page

_MEMBER_PREFIX = "ORG#"


def organisation_item(organisation: Organisation) -> Item:
    return keyed(organisation_attributes(organisation), f"ORG#{organisation.id}", "ORG", "organisation")


class DynamoOrganisationRepository:
    def __init__(self, table: DynamoTable) -> None:
        self._table = table

    def add(self, organisation: Organisation) -> None:
        """The organisation, its membership in the account and its invoice and credit note series,
        starting at the organisation's `invoice_numbering.next_number` (`credit_note_numbering.…`),
        in one transaction."""
        series = NumberSeries(name="invoice", next_number=organisation.invoice_numbering.next_number)
        notes = NumberSeries(name="credit_note", next_number=organisation.credit_notes.next_number)
        membership = {
            "PK": f"ACCOUNT#{organisation.account_id}",
            "SK": f"{_MEMBER_PREFIX}{organisation.id}",
            "entity": "organisation_membership",
            "organisation_id": organisation.id,
        }
        self._table.write(
            [
                Write("Put", put(organisation_item(organisation), "attribute_not_exists(PK)"), _taken),
                Write("Put", put(membership, "attribute_not_exists(PK)"), _taken),
                save_series(organisation.id, series),
                save_series(organisation.id, notes),
            ]
        )

    def get(self, organisation_id: str) -> Organisation | None:
        """The organisation, showing its invoice series' next number (one round trip)."""
        return self.read(organisation_id)[0]

    def read(self, organisation_id: str) -> tuple[Organisation | None, NumberSeries | None]:
        """The organisation and its invoice series, as `get`; (None, None) when there is none."""
        organisation, series, _ = self.read_all_series(organisation_id)
        return organisation, series

    def read_all_series(
        self, organisation_id: str
    ) -> tuple[Organisation | None, NumberSeries | None, NumberSeries | None]:
        """The organisation, its invoice series and its credit note series, in one read."""
        keys = organisation_keys(organisation_id, credit_notes=True)
        found = {item["SK"]: item for item in self._table.batch_get(keys)}
        return organisation_and_all_series(found)

    def owner_of(self, organisation_id: str) -> str | None:
        item = self._table.get(f"ORG#{organisation_id}", "ORG", projection=["account_id"])
        return str(item["account_id"]) if item else None

    def list_for_account(self, account_id: str, limit: int, cursor: str | None) -> Page[Organisation]:
        after = decode_cursor(cursor, _MEMBER_PREFIX) if cursor else None
        members, more = self._table.query_prefix(f"ACCOUNT#{account_id}", _MEMBER_PREFIX, limit, after)
        items = self._table.batch_get(
            [
                key
                for member in members
                for key in organisation_keys(str(member["organisation_id"]), credit_notes=True)
            ]
        )
        by_organisation: dict[str, dict[str, Item]] = {}
        for item in items:
            by_organisation.setdefault(item["PK"], {})[item["SK"]] = item
        read = [organisation_and_all_series(found)[0] for found in by_organisation.values()]
        return Page(
            [organisation for organisation in read if organisation is not None],
            encode_cursor(members[-1]["SK"]) if more else None,
        )

    def save(
        self,
        organisation: Organisation,
        *,
        series: NumberSeries | None = None,
        credit_note_series: NumberSeries | None = None,
    ) -> Organisation:
        """Write the organisation, and `series` (`credit_note_series`) with it when given, each only if
        still as read (`ConcurrentUpdate` otherwise); returns the organisation at its new version."""
        saved = organisation.model_copy(update={"version": organisation.version + 1})
        writes = [
            Write(
                "Put",
                put(
                    organisation_item(saved),
                    "attribute_exists(PK) AND version = :read",
                    read=organisation.version,
                ),
                ConcurrentUpdate,
            )
        ]
        if series is not None:
            writes.append(save_series(organisation.id, series))
            saved = saved.numbered_by(series)
        if credit_note_series is not None:
            writes.append(save_series(organisation.id, credit_note_series))
            saved = saved.numbered_by(credit_note_series)
        self._table.write(writes)
        return saved


def _taken() -> Conflict:
    return Conflict("An organisation with this id exists.")

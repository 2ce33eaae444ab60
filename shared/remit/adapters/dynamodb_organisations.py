"""Organisations in the billing table.

`ORG#<id>/ORG` holds the organisation (its own partition holds everything it owns);
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
from remit.adapters.items.organisations import organisation_attributes, organisation_of
from remit.domain.errors import ConcurrentUpdate, Conflict
from remit.domain.organisation import Organisation
from remit.domain.pagination import Page

_MEMBER_PREFIX = "ORG#"


def organisation_item(organisation: Organisation) -> Item:
    return keyed(organisation_attributes(organisation), f"ORG#{organisation.id}", "ORG", "organisation")


class DynamoOrganisationRepository:
    def __init__(self, table: DynamoTable) -> None:
        self._table = table

    def add(self, organisation: Organisation) -> None:
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
            ]
        )

    def get(self, organisation_id: str) -> Organisation | None:
        item = self._table.get(f"ORG#{organisation_id}", "ORG")
        return organisation_of(item) if item else None

    def owner_of(self, organisation_id: str) -> str | None:
        item = self._table.get(f"ORG#{organisation_id}", "ORG", projection=["account_id"])
        return str(item["account_id"]) if item else None

    def list_for_account(self, account_id: str, limit: int, cursor: str | None) -> Page[Organisation]:
        after = decode_cursor(cursor, _MEMBER_PREFIX) if cursor else None
        members, more = self._table.query_prefix(f"ACCOUNT#{account_id}", _MEMBER_PREFIX, limit, after)
        items = self._table.batch_get([(f"ORG#{m['organisation_id']}", "ORG") for m in members])
        return Page(
            [organisation_of(item) for item in items],
            encode_cursor(members[-1]["SK"]) if more else None,
        )

    def save(self, organisation: Organisation) -> Organisation:
        saved = organisation.model_copy(update={"version": organisation.version + 1})
        self._table.write(
            [
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
        )
        return saved


def _taken() -> Conflict:
    return Conflict("An organisation with this id exists.")

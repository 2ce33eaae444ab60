"""Customers in their organisation's partition.

`ORG#<org>/CUSTOMER#<id>` holds the customer; `ORG#<org>/EXTID#<external id>` is the marker that
makes an external id unique within the organisation, written in the same transaction. A customer
billed monthly for its open charges is in the due index (`due_index`) on the
day of its next monthly invoice.
"""

from __future__ import annotations

from remit.adapters.due_index import due_keys
from remit.adapters.dynamodb import (
    STORED,
    DynamoTable,
    Item,
    Write,
    decode_cursor,
    delete,
    encode_cursor,
    entity_to_item,
    put,
)
from remit.domain.customer import Customer
from remit.domain.errors import ConcurrentUpdate, Conflict, FieldProblem
from remit.domain.pagination import Page

_PREFIX = "CUSTOMER#"


def _pk(organisation_id: str) -> str:
    return f"ORG#{organisation_id}"


def _item(customer: Customer) -> Item:
    item = entity_to_item(customer, _pk(customer.organisation_id), f"{_PREFIX}{customer.id}", "customer")
    if customer.next_charges_billing is not None:
        item.update(due_keys(customer.next_charges_billing, customer.organisation_id, customer.id))
    return item


def _customer(item: Item) -> Customer:
    return Customer.model_validate(item, context=STORED)


def _external_id_taken(external_id: str) -> Conflict:
    return Conflict(
        f"External id '{external_id}' already belongs to another customer of this organisation.",
        [FieldProblem("external_ids", f"'{external_id}' is already in use")],
    )


def _claim(customer: Customer, external_id: str) -> Write:
    marker = {
        "PK": _pk(customer.organisation_id),
        "SK": f"EXTID#{external_id}",
        "entity": "external_id",
        "customer_id": customer.id,
    }
    return Write("Put", put(marker, "attribute_not_exists(PK)"), lambda: _external_id_taken(external_id))


def _release(customer: Customer, external_id: str) -> Write:
    request = delete(
        _pk(customer.organisation_id), f"EXTID#{external_id}", "customer_id = :owner", owner=customer.id
    )
    return Write("Delete", request, ConcurrentUpdate)


class DynamoCustomerRepository:
    def __init__(self, table: DynamoTable) -> None:
        self._table = table

    def add(self, customer: Customer) -> None:
        created = Write(
            "Put", put(_item(customer), "attribute_not_exists(PK)"), lambda: Conflict("Customer exists.")
        )
        self._table.write([created, *(_claim(customer, e) for e in customer.external_ids)])

    def get(self, organisation_id: str, customer_id: str) -> Customer | None:
        item = self._table.get(_pk(organisation_id), f"{_PREFIX}{customer_id}")
        return _customer(item) if item else None

    def find_by_external_id(self, organisation_id: str, external_id: str) -> Customer | None:
        marker = self._table.get(_pk(organisation_id), f"EXTID#{external_id}", projection=["customer_id"])
        return self.get(organisation_id, str(marker["customer_id"])) if marker else None

    def list(self, organisation_id: str, limit: int, cursor: str | None) -> Page[Customer]:
        after = decode_cursor(cursor, _PREFIX) if cursor else None
        items, more = self._table.query_prefix(_pk(organisation_id), _PREFIX, limit, after)
        return Page([_customer(item) for item in items], encode_cursor(items[-1]["SK"]) if more else None)

    def save(
        self, customer: Customer, claimed_external_ids: set[str], released_external_ids: set[str]
    ) -> Customer:
        saved = customer.model_copy(update={"version": customer.version + 1})
        written = Write(
            "Put",
            put(_item(saved), "attribute_exists(PK) AND version = :read", read=customer.version),
            ConcurrentUpdate,
        )
        claims = [_claim(customer, e) for e in sorted(claimed_external_ids)]
        releases = [_release(customer, e) for e in sorted(released_external_ids)]
        self._table.write([written, *claims, *releases])
        return saved

    def delete(self, customer: Customer) -> None:
        removed = Write(
            "Delete",
            delete(
                _pk(customer.organisation_id),
                f"{_PREFIX}{customer.id}",
                "attribute_exists(PK) AND version = :read AND issued_invoices = :none",
                read=customer.version,
                none=0,
            ),
            ConcurrentUpdate,
        )
        self._table.write([removed, *(_release(customer, e) for e in customer.external_ids)])

"""Customers in their organisation's partition.

`ORG#<org>/CUSTOMER#<id>` holds the customer; `ORG#<org>/EXTID#<external id>` is the marker that
makes an external id unique within the organisation, written in the same transaction. A customer
billed monthly for its open charges is in the due index (`due_index`) on the
day of its next monthly invoice.

Every customer is also in the sparse name index `GSI5` (`GSI5PK = ORG#<org>#CUSTOMERS`,
`GSI5SK = <name key>#<id>`, the name key being the name casefolded with its accents stripped), so a
search by name prefix reads only the customers it answers (`begins_with` on `GSI5SK`).

Every customer is also in the sparse email index `GSI6` (`GSI6PK = ORG#<org>#EMAIL#<email
casefolded>`, `GSI6SK = <id>`, keys only), so an import finds the customers of one email by reading
those alone. Each other email the customer bills (a billing contact's, casefolded) has a lookup item
`ORG#<org>/RECIPIENT#<id>#<email>` in the same index under `GSI6SK = RECIPIENT#<id>`, written and
removed in the transaction that changes the customer's recipients; the customer item lists those
emails (`recipient_lookups`). The portal's sign-in reads both kinds; an import's match reads the
customers' own keys alone (`begins_with(GSI6SK, "cus_")`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from remit.adapters.due_index import due_keys
from remit.adapters.dynamodb import (
    DynamoTable,
    Index,
    Item,
    Write,
    backfill,
    decode_cursor,
    delete,
    encode_cursor,
    keyed,
    put,
    to_attributes,
)
from remit.adapters.dynamodb_events import customer_event
from remit.adapters.items.customers import customer_attributes, customer_of
from remit.domain.customer import Customer
from remit.domain.errors import ConcurrentUpdate, Conflict, FieldProblem, InvalidInput
from remit.domain.events import EventSource
from remit.domain.pagination import Page

_PREFIX = "CUSTOMER#"
# The customers of an organisation by name (template.yaml, docs/access-patterns.md).
GSI5 = Index("GSI5", "GSI5PK", "GSI5SK")
# The customers of an organisation by email (template.yaml, docs/access-patterns.md).
GSI6 = Index("GSI6", "GSI6PK", "GSI6SK")
# Present once every customer of the table carries its name-index keys (its email-index keys).
_NAME_KEYS_DONE = ("SCHEMA#customer_name_index", "SCHEMA")
_EMAIL_KEYS_DONE = ("SCHEMA#customer_email_index", "SCHEMA")
_RECIPIENT_LOOKUPS_DONE = ("SCHEMA#customer_recipient_index", "SCHEMA")
# A lookup item's sort key prefix (`SK` and `GSI6SK`): apart from the customers' own `CUSTOMER#` and
# `cus_…`, so neither the list of customers nor an import's match by email reads them.
_RECIPIENT = "RECIPIENT#"
# The customer item's list of the emails that have a lookup item (absent: stored before them).
_LOOKUPS = "recipient_lookups"
# Actions one DynamoDB transaction may hold.
_MAX_TRANSACTION = 100
# Customers one email finds, at most: an import matches a row by email only when one has it.
_SAME_EMAIL_LIMIT = 5


def _pk(organisation_id: str) -> str:
    return f"ORG#{organisation_id}"


def name_key(name: str) -> str:
    """The form a name is searched by: accents stripped, casefolded, white space collapsed
    ("Émile  Zola" and "emile zola" are the same key).
    """
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def _by_name(organisation_id: str) -> str:
    return f"{_pk(organisation_id)}#CUSTOMERS"


def name_keys(organisation_id: str, customer_id: str, name: str) -> Item:
    """The customer's keys in the name index."""
    return {
        GSI5.partition_key: _by_name(organisation_id),
        GSI5.sort_key: f"{name_key(name)}#{customer_id}",
    }


def email_key(email: str) -> str:
    """The form an email is looked up by (`AP@Globex.test` and `ap@globex.test` are the same)."""
    return email.strip().casefold()


def email_keys(organisation_id: str, customer_id: str, email: str) -> Item:
    """The customer's keys in the email index."""
    return {
        GSI6.partition_key: f"{_pk(organisation_id)}#EMAIL#{email_key(email)}",
        GSI6.sort_key: customer_id,
    }


def recipient_lookups(customer: Customer) -> list[str]:
    """The emails (casefolded) the customer bills besides its own: each has a lookup item."""
    own = email_key(customer.email)
    return sorted({email_key(e) for e in customer.billing_recipients()} - {own})


def _recipient_item(organisation_id: str, customer_id: str, email: str) -> Item:
    return {
        "PK": _pk(organisation_id),
        "SK": f"{_RECIPIENT}{customer_id}#{email}",
        "entity": "customer_recipient",
        "customer_id": customer_id,
        "email": email,
        GSI6.partition_key: f"{_pk(organisation_id)}#EMAIL#{email}",
        GSI6.sort_key: f"{_RECIPIENT}{customer_id}",
    }


def _recipient_writes(before: Customer | None, after: Customer | None) -> list[Write]:
    """Puts of every lookup item of `after` (unconditional: the same item again costs the index
    nothing), deletes of those of `before` that `after` has not."""
    customer = after or before
    if customer is None:
        return []
    kept = recipient_lookups(after) if after else []
    gone = sorted(set(recipient_lookups(before) if before else []) - set(kept))
    org, customer_id = customer.organisation_id, customer.id
    puts = [Write("Put", put(_recipient_item(org, customer_id, e))) for e in kept]
    deletes = [Write("Delete", delete(_pk(org), f"{_RECIPIENT}{customer_id}#{e}")) for e in gone]
    return puts + deletes


def _one_transaction(writes: list[Write]) -> list[Write]:
    if len(writes) > _MAX_TRANSACTION:
        raise InvalidInput(
            [FieldProblem("contacts", "too many billing contacts' emails changed at once; change fewer")]
        )
    return writes


def customer_item(customer: Customer) -> Item:
    item = keyed(
        customer_attributes(customer), _pk(customer.organisation_id), f"{_PREFIX}{customer.id}", "customer"
    )
    item.update(name_keys(customer.organisation_id, customer.id, customer.name))
    item.update(email_keys(customer.organisation_id, customer.id, customer.email))
    item[_LOOKUPS] = recipient_lookups(customer)
    if customer.next_charges_billing is not None:
        item.update(due_keys(customer.next_charges_billing, customer.organisation_id, customer.id))
    return item


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
            "Put",
            put(customer_item(customer), "attribute_not_exists(PK)"),
            lambda: Conflict("Customer exists."),
        )
        event = customer_event("customer.created", customer, customer.created_at, customer.version + 1)
        claims = [_claim(customer, e) for e in customer.external_ids]
        self._table.write([created, event, *claims, *_recipient_writes(None, customer)])

    def get(self, organisation_id: str, customer_id: str) -> Customer | None:
        item = self._table.get(_pk(organisation_id), f"{_PREFIX}{customer_id}")
        return customer_of(item) if item else None

    def find_by_external_id(self, organisation_id: str, external_id: str) -> Customer | None:
        marker = self._table.get(_pk(organisation_id), f"EXTID#{external_id}", projection=["customer_id"])
        return self.get(organisation_id, str(marker["customer_id"])) if marker else None

    def find_by_email(self, organisation_id: str, email: str) -> list[Customer]:
        """The customers whose primary email is `email` (case aside), oldest first, at most a few;
        reads only those (the email index, eventually consistent, then each customer)."""
        partition = email_keys(organisation_id, "", email)[GSI6.partition_key]
        keys, _ = self._table.query_index_prefix(GSI6, partition, "cus_", _SAME_EMAIL_LIMIT, None)
        found = (self.get(organisation_id, str(key[GSI6.sort_key])) for key in keys)
        return [
            customer
            for customer in found
            if customer is not None and email_key(customer.email) == email_key(email)
        ]

    def find_by_recipient(self, organisation_id: str, email: str, limit: int) -> list[Customer]:
        """The customers that bill `email` (case aside: their own email or a billing contact's), in
        id order, at most `limit`; reads only those (two queries of the email index, eventually
        consistent, then one batch of the customers).
        """
        partition = email_keys(organisation_id, "", email)[GSI6.partition_key]
        own, _ = self._table.query_index_prefix(GSI6, partition, "cus_", limit, None)
        contacts, _ = self._table.query_index_prefix(GSI6, partition, _RECIPIENT, limit, None)
        ids = {str(k[GSI6.sort_key]) for k in own}
        ids |= {str(k[GSI6.sort_key]).removeprefix(_RECIPIENT) for k in contacts}
        keys = [(_pk(organisation_id), f"{_PREFIX}{i}") for i in sorted(ids)[:limit]]
        wanted = email_key(email)
        found = (customer_of(item) for item in self._table.batch_get(keys))
        return [c for c in found if wanted in {email_key(e) for e in c.billing_recipients()}]

    def list(self, organisation_id: str, limit: int, cursor: str | None) -> Page[Customer]:
        after = decode_cursor(cursor, _PREFIX) if cursor else None
        items, more = self._table.query_prefix(_pk(organisation_id), _PREFIX, limit, after)
        return Page([customer_of(item) for item in items], encode_cursor(items[-1]["SK"]) if more else None)

    def search_by_name(
        self, organisation_id: str, prefix: str, limit: int, cursor: str | None
    ) -> Page[Customer]:
        """Customers whose name starts with `prefix` (case and accents aside), in name order; reads
        only those (the name index, eventually consistent).
        """
        wanted = name_key(prefix)
        if wanted and prefix[-1:].isspace():
            wanted += " "  # "acme " finds "Acme Corp", not "Acmeco"
        after: dict[str, str] | None = None
        if cursor:
            last = decode_cursor(cursor, wanted)
            after = {
                GSI5.partition_key: _by_name(organisation_id),
                GSI5.sort_key: last,
                "PK": _pk(organisation_id),
                "SK": f"{_PREFIX}{last.rsplit('#', 1)[-1]}",
            }
        items, more = self._table.query_index_prefix(GSI5, _by_name(organisation_id), wanted, limit, after)
        next_cursor = encode_cursor(str(items[-1][GSI5.sort_key])) if more else None
        return Page([customer_of(item) for item in items], next_cursor)

    def save(
        self,
        customer: Customer,
        claimed_external_ids: set[str],
        released_external_ids: set[str],
        source: EventSource | None = None,
        *,
        previous: Customer,
    ) -> Customer:
        saved = customer.model_copy(update={"version": customer.version + 1})
        written = Write(
            "Put",
            put(customer_item(saved), "attribute_exists(PK) AND version = :read", read=customer.version),
            ConcurrentUpdate,
        )
        claims = [_claim(customer, e) for e in sorted(claimed_external_ids)]
        releases = [_release(customer, e) for e in sorted(released_external_ids)]
        event = customer_event("customer.updated", saved, saved.updated_at, saved.version + 1, source)
        lookups = _recipient_writes(previous, saved)
        self._table.write(_one_transaction([written, event, *claims, *releases, *lookups]))
        return saved

    def delete(self, customer: Customer, *, now: datetime) -> None:
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
        # The customer as it was, one change on: its last event.
        event = customer_event("customer.deleted", customer, now, customer.version + 2)
        releases = [_release(customer, e) for e in customer.external_ids]
        self._table.write([removed, event, *releases, *_recipient_writes(customer, None)])


@dataclass(frozen=True)
class CustomerBackfill:
    """What one backfill of the customers writes: `writes(item)` for each stored customer item that
    lacks `missing` (an attribute every customer written since carries), all in one transaction
    guarded so that a customer changed since the scan is left to that change; `done` is the marker
    item that records a finished run.
    """

    done: tuple[str, str]
    missing: str
    writes: Callable[[Item], list[Write]]


def _keys_set(item: Item, keys: Item, unchanged: str) -> Write:
    """Set `keys` on the customer's item if its attribute `unchanged` is still the one read (else
    the write that changed it has set them itself)."""
    names = {f"#k{n}": name for n, name in enumerate(keys)}
    values = {f":k{n}": value for n, value in enumerate(keys.values())}
    request = {
        "Key": {"PK": {"S": item["PK"]}, "SK": {"S": item["SK"]}},
        "UpdateExpression": "SET " + ", ".join(f"{name} = :{name[1:]}" for name in names),
        "ConditionExpression": "attribute_exists(PK) AND #unchanged = :unchanged",
        "ExpressionAttributeNames": {**names, "#unchanged": unchanged},
        "ExpressionAttributeValues": to_attributes({**values, ":unchanged": item[unchanged]}),
    }
    return Write("Update", request)


# The customers stored before the name index (GSI5) get their keys in it.
NAME_KEYS = CustomerBackfill(
    _NAME_KEYS_DONE,
    GSI5.partition_key,
    lambda item: [
        _keys_set(item, name_keys(str(item["organisation_id"]), str(item["id"]), str(item["name"])), "name")
    ],
)
# The customers stored before the email index (GSI6) get their keys in it.
EMAIL_KEYS = CustomerBackfill(
    _EMAIL_KEYS_DONE,
    GSI6.partition_key,
    lambda item: [
        _keys_set(
            item, email_keys(str(item["organisation_id"]), str(item["id"]), str(item["email"])), "email"
        )
    ],
)


def _recipients_indexed(item: Item) -> list[Write]:
    """The customer's lookup items, with the list of them set on its item if no change has set it
    since the scan (every change sets it and writes the lookup items itself)."""
    customer = customer_of(item)
    marked = {
        "Key": {"PK": {"S": item["PK"]}, "SK": {"S": item["SK"]}},
        "UpdateExpression": "SET #lookups = :lookups",
        "ConditionExpression": "attribute_exists(PK) AND attribute_not_exists(#lookups)",
        "ExpressionAttributeNames": {"#lookups": _LOOKUPS},
        "ExpressionAttributeValues": to_attributes({":lookups": recipient_lookups(customer)}),
    }
    return [Write("Update", marked), *_recipient_writes(None, customer)]


# The customers stored before the lookup items of their billing contacts' emails get them.
RECIPIENT_LOOKUPS = CustomerBackfill(_RECIPIENT_LOOKUPS_DONE, _LOOKUPS, _recipients_indexed)


def backfill_customers(table: DynamoTable, customers: CustomerBackfill) -> int | None:
    """Give the customers stored before an index what `customers` writes for them (`backfill`):
    each customer's writes are guarded, so one changed or deleted since the scan is skipped."""
    stale = (
        "#e = :customer AND attribute_not_exists(#k)",
        {"#e": "entity", "#k": customers.missing},
        {":customer": "customer"},
    )
    return backfill(table, customers.done, stale, customers.writes)

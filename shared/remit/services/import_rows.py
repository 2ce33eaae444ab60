"""One row of a customer import: matched to a customer, then created or updated through the
customer service (its events and external-id markers the usual ones), or refused with the API's
own messages.

A row is matched by one of its external ids, else by its email (when exactly one customer has it).
A customer a row creates gets an id derived from the import and the row, so a row delivered twice
finds what its first delivery created and is counted once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from remit.domain.changes import apply_changes, build
from remit.domain.customer import Contact, Customer, CustomerChanges, NewCustomer
from remit.domain.errors import Conflict, FieldProblem, InvalidInput
from remit.domain.ids import derived_id
from remit.domain.imports import CustomerImport, ImportProblem, RowOutcome
from remit.ports.customers import CustomerRepository
from remit.services.customers import CustomerService

# Longer than an external id or an email may be: never looked up (validation names the field).
_LONGEST_KEY = 254


def _failed(row: int, problems: list[FieldProblem]) -> RowOutcome:
    return RowOutcome(
        outcome="failed",
        problems=[ImportProblem(row=row, field=p.field, message=p.message) for p in problems],
    )


def _lookup_keys(value: Any) -> list[str]:
    values = value if isinstance(value, list) else []
    return [v for v in values if isinstance(v, str) and v and len(v) <= _LONGEST_KEY]


def imported_customer_id(record: CustomerImport, row: int) -> str:
    """The id of the customer row `row` of the import creates (ordered as the file is)."""
    return derived_id("cus", record.created_at + timedelta(milliseconds=row), record.id, str(row))


def _merged_contacts(given: Any, current: list[Contact]) -> Any:
    """The customer's contacts with the row's: one with the email of an existing contact updates
    it (keeping its id and preferences), any other is added; none is removed."""
    if not isinstance(given, list):
        return given
    merged: list[dict[str, Any]] = [contact.model_dump() for contact in current]
    by_email = {contact.email.casefold(): index for index, contact in enumerate(current)}
    for contact in given:
        email = contact.get("email") if isinstance(contact, dict) else None
        index = by_email.get(email.casefold()) if isinstance(email, str) else None
        if index is None:
            merged.append(contact)
        elif isinstance(contact, dict):
            merged[index] = {**merged[index], **{k: v for k, v in contact.items() if k != "preferences"}}
    return merged


class RowImporter:
    def __init__(self, customers: CustomerService, repository: CustomerRepository) -> None:
        self._customers = customers
        self._repository = repository

    def import_row(
        self,
        record: CustomerImport,
        account_id: str,
        row: int,
        fields: dict[str, Any],
        *,
        dry_run: bool,
        again: bool,
    ) -> RowOutcome:
        """Create or update the customer of one row (in a dry run: only say which, writing nothing).
        A row done `again` (its part failed before) is first looked for as the customer it may
        have created then; the first time, that read is spared.

        Never raises for the row's content: a refusal is the row's outcome (`failed`, with the
        problems the API would answer). Raises what the table raises (throttling, a lost
        connection): the caller's chunk is then done again, and this row with it.
        """
        organisation_id = record.organisation_id
        created_id = imported_customer_id(record, row)
        if again and not dry_run and self._repository.get(organisation_id, created_id) is not None:
            return RowOutcome(outcome="created")  # by this row's earlier delivery
        try:
            match = self._match(organisation_id, fields)
            if match is None:
                return self._create(organisation_id, account_id, created_id, fields, dry_run=dry_run)
            return self._update(organisation_id, account_id, match, fields, dry_run=dry_run)
        except (InvalidInput, Conflict) as refused:
            return _failed(row, refused.problems or [FieldProblem("row", refused.detail)])

    def _match(self, organisation_id: str, fields: dict[str, Any]) -> Customer | None:
        found: dict[str, Customer] = {}
        for external_id in _lookup_keys(fields.get("external_ids")):
            customer = self._repository.find_by_external_id(organisation_id, external_id)
            if customer is not None:
                found[customer.id] = customer
        if len(found) > 1:
            raise InvalidInput.single("external_ids", "the external ids belong to different customers")
        if found:
            return next(iter(found.values()))
        emails = _lookup_keys([fields.get("email")])
        if not emails:
            return None
        same = self._repository.find_by_email(organisation_id, emails[0])
        if len(same) > 1:
            raise InvalidInput.single(
                "email", "several customers have this email; give the row an external id to choose one"
            )
        return same[0] if same else None

    def _create(
        self,
        organisation_id: str,
        account_id: str,
        customer_id: str,
        fields: dict[str, Any],
        *,
        dry_run: bool,
    ) -> RowOutcome:
        new = build(NewCustomer, fields)
        if not dry_run:
            self._customers.create(account_id, organisation_id, new, customer_id=customer_id)
        return RowOutcome(outcome="created")

    def _update(
        self,
        organisation_id: str,
        account_id: str,
        current: Customer,
        fields: dict[str, Any],
        *,
        dry_run: bool,
    ) -> RowOutcome:
        given = dict(fields)
        if isinstance(given.get("external_ids"), list):
            given["external_ids"] = list(dict.fromkeys([*current.external_ids, *given["external_ids"]]))
        if isinstance(given.get("metadata"), dict):
            given["metadata"] = {**current.metadata, **given["metadata"]}
        if "contacts" in given:
            given["contacts"] = _merged_contacts(given["contacts"], current.contacts)
        changes = build(CustomerChanges, given)
        replaced: dict[str, Any] = {"updated_at": current.updated_at}
        if changes.contacts is not None:
            replaced["contacts"] = [
                Contact(id=c.id or "new", name=c.name, email=c.email, preferences=c.preferences)
                for c in changes.contacts
            ]
        if changes.metadata is not None:
            replaced["metadata"] = changes.metadata
        if changes.external_ids is not None:
            replaced["external_ids"] = changes.external_ids
        if apply_changes(current, changes, **replaced) == current:
            return RowOutcome(outcome="unchanged")
        if not dry_run:
            self._customers.update(account_id, organisation_id, current.id, changes)
        return RowOutcome(outcome="updated")

"""Valid domain objects for unit tests, so each test states only the fields it is about."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import settings
from pydantic import BaseModel

from remit.domain.changes import build
from remit.domain.customer import Customer
from remit.domain.errors import InvalidInput
from remit.domain.organisation import Organisation

NOW = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)

# Properties run in memory only: no example database written under the working directory, and no
# per-example deadline, so a slow CI machine cannot turn a correct property into a flaky one.
pure_property = settings(database=None, deadline=None)


# The fields a valid customer or organisation needs, and nothing else.
CUSTOMER_FIELDS: dict[str, Any] = {
    "id": "cus_test",
    "organisation_id": "org_test",
    "name": "Globex GmbH",
    "email": "ap@globex.test",
    "currency": "EUR",
    "payment_terms_days": 30,
    "created_at": NOW,
    "updated_at": NOW,
}
ORGANISATION_FIELDS: dict[str, Any] = {
    "id": "org_test",
    "account_id": "acct_test",
    "name": "Acme Ltd",
    "default_currency": "EUR",
    "invoice_numbering": {"prefix": "ACME-", "padding": 5, "next_number": 1},
    "created_at": NOW,
    "updated_at": NOW,
}


def a_customer(**fields: Any) -> Customer:
    """A valid customer of organisation `org_test`, with `fields` given by the test."""
    return build(Customer, {**CUSTOMER_FIELDS, **fields})


def an_organisation(**fields: Any) -> Organisation:
    """A valid organisation of account `acct_test`, with `fields` given by the test."""
    return build(Organisation, {**ORGANISATION_FIELDS, **fields})


def problems_of(model: type[BaseModel], data: dict[str, Any]) -> dict[str, str]:
    """The problems a user is shown when `data` is refused as `model`: message by dotted field name."""
    with pytest.raises(InvalidInput) as refused:
        build(model, data)
    return {problem.field: problem.message for problem in refused.value.problems}

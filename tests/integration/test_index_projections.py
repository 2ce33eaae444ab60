"""Each global secondary index projects what its queries read (template.yaml), nothing less.

The tables are built from the template and moto drops what an index does not project, as DynamoDB
does: a query reading an attribute its index lacks would silently get the item without it. So every
index query the adapters make while the daily runs, the outbox sweep and every filtered list run is
checked, entry by entry, against the item in the table: each attribute the query asks for (all of
them without a projection expression) that the item has must be in the entry, and a filter may only
name attributes the index projects.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.session
import pytest

from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.billing_queue import run_cycle, run_reminders
from tests.integration.conftest import SettableClock, reset_remit

INDEXES = ("GSI1", "GSI2", "GSI3", "GSI4", "GSI5", "GSI6")


class ProjectionCheck:
    """Index queries seen, and what any of them read that its index does not hold."""

    def __init__(self) -> None:
        self.reader = botocore.session.get_session().create_client("dynamodb", region_name="eu-west-1")
        self.indexes_queried: set[str] = set()
        self.missing: list[str] = []
        self._params: dict[str, Any] | None = None

    def before(self, params: dict[str, Any], **_: Any) -> None:
        self._params = dict(params)

    def after(self, parsed: dict[str, Any], **_: Any) -> None:
        params, self._params = self._params, None
        if params is None or "IndexName" not in params or "Error" in parsed:
            return
        index = params["IndexName"]
        self.indexes_queried.add(index)
        names = params.get("ExpressionAttributeNames", {})
        projected = self._projected(params["TableName"], index)
        for name in _names(params.get("FilterExpression", ""), names):
            if projected is not None and name not in projected:
                self.missing.append(f"{index}: the filter reads {name}, not projected")
        wanted = (
            set(_names(params["ProjectionExpression"], names)) if "ProjectionExpression" in params else None
        )
        for entry, key in zip(parsed.get("Items", []), self._keys(params), strict=True):
            item = self.reader.get_item(TableName=params["TableName"], Key=key, ConsistentRead=True).get(
                "Item", {}
            )
            for name in sorted((wanted if wanted is not None else set(item)) & set(item)):
                if name not in entry:
                    self.missing.append(f"{index}: {key['SK']['S']} read without {name}")

    def _keys(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """The table keys of the entries the same query returns (asked again, with the keys)."""
        again = dict(params)
        if "ProjectionExpression" in again:
            again["ProjectionExpression"] += ", #check_pk, #check_sk"
            again["ExpressionAttributeNames"] = {
                **again.get("ExpressionAttributeNames", {}),
                "#check_pk": "PK",
                "#check_sk": "SK",
            }
        return [{"PK": e["PK"], "SK": e["SK"]} for e in self.reader.query(**again).get("Items", [])]

    def _projected(self, table: str, index: str) -> set[str] | None:
        """The attributes the index holds (None: all of them)."""
        description = self.reader.describe_table(TableName=table)["Table"]
        (found,) = [i for i in description["GlobalSecondaryIndexes"] if i["IndexName"] == index]
        projection = found["Projection"]
        if projection["ProjectionType"] == "ALL":
            return None
        keys = {part["AttributeName"] for part in [*description["KeySchema"], *found["KeySchema"]]}
        return keys | set(projection.get("NonKeyAttributes", []))


def _names(expression: str, names: dict[str, str]) -> list[str]:
    """The attribute names an expression reads (placeholders resolved; values left out)."""
    tokens = re.findall(r"#?[A-Za-z_][A-Za-z0-9_]*", re.sub(r":[A-Za-z0-9_]+", " ", expression))
    functions = {
        "AND",
        "OR",
        "NOT",
        "BETWEEN",
        "IN",
        "begins_with",
        "attribute_exists",
        "attribute_not_exists",
    }
    return [names.get(token, token) for token in tokens if token not in functions]


@contextmanager
def checking_projections() -> Iterator[ProjectionCheck]:
    check = ProjectionCheck()
    session = boto3.DEFAULT_SESSION or boto3.setup_default_session() or boto3.DEFAULT_SESSION
    assert session is not None
    session.events.register("before-parameter-build.dynamodb.Query", check.before)
    session.events.register("after-call.dynamodb.Query", check.after)
    reset_remit()  # the app's clients, made from here on, carry the hooks
    try:
        yield check
    finally:
        session.events.unregister("before-parameter-build.dynamodb.Query", check.before)
        session.events.unregister("after-call.dynamodb.Query", check.after)
        reset_remit()


def test_every_index_query_reads_only_what_its_index_projects(api: ApiClient, clock: SettableClock) -> None:
    # Given an organisation with reminders, a subscription, open and paid invoices, payments, charges
    clock.set("2027-03-01T10:00:00+00:00")
    acme = Billing(api, reminders={"days_after_due": [7]})
    with checking_projections() as check:
        plan = [{"description": "Pro plan", "unit_amount": 4900}]
        body = {"customer_id": acme.customer, "line_items": plan, "start_date": "2027-03-01"}
        subscription = api.post(f"{acme.base}/subscriptions", body).json()
        api.post(f"{acme.base}/subscriptions/{subscription['id']}/activate")
        opened = acme.finalized(due_date="2027-03-10")
        api.post(f"{acme.invoice(opened['id'])}/send")
        paid = acme.finalized()
        assert acme.pay(paid["id"], paid["amount_due"]).status == 201

        # When the daily runs, the outbox sweep, every filtered list and the accounting exports read
        # their indexes
        run_cycle("2027-03-01")
        run_reminders("2027-03-17")
        acme.charge()  # (after the cycle, which invoices the open charges with the subscription)
        from remit.adapters.dynamodb import DynamoTable
        from remit.adapters.dynamodb_outbox import DynamoOutboxRepository

        table = DynamoTable(lambda: boto3.client("dynamodb"), os.environ["REMIT_BILLING_TABLE"])
        owed, _ = DynamoOutboxRepository(table).owed(datetime(2030, 1, 1, tzinfo=UTC), 100)
        customer = acme.customer
        for path in (
            "invoices?status=open",
            f"invoices?customer_id={customer}",
            f"invoices?status=paid&customer_id={customer}",
            f"payments?invoice_id={paid['id']}",
            f"payments?customer_id={customer}",
            f"customers/{customer}/charges?status=open",
            "customers?name_prefix=Glo",
        ):
            response = api.get(f"{acme.base}/{path}")
            assert response.status == 200, (path, response.body)
            assert response.json()["data"], path
        for kind in ("invoices", "credit_notes", "payments"):
            response = api.get(f"{acme.base}/exports/{kind}.csv?from=2027-03-01&to=2027-03-31")
            assert response.status == 303, (kind, response.body)

    # Then each index was read, and no query missed an attribute it reads
    assert owed, "the emails owed were listed"
    assert {message.status for message in owed} <= {"pending", "sending"}
    assert check.indexes_queried == set(INDEXES)
    assert check.missing == []


def test_a_query_reading_what_its_index_does_not_project_is_caught(
    api: ApiClient, clock: SettableClock
) -> None:
    # Given an open invoice in the reminder index (GSI1 projects its keys and customer_id only)
    clock.set("2027-03-01T10:00:00+00:00")
    acme = Billing(api, reminders={"days_after_due": [7]})
    opened = acme.finalized(due_date="2027-03-10")
    shard_of = {f"REMIND#{n}" for n in range(8)}

    # When a query of that index asks for the invoice's status
    with checking_projections() as check:
        for shard in sorted(shard_of):
            boto3.client("dynamodb").query(
                TableName=os.environ["REMIT_BILLING_TABLE"],
                IndexName="GSI1",
                KeyConditionExpression="GSI1PK = :shard",
                ProjectionExpression="GSI1SK, #s",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":shard": {"S": shard}},
            )

    # Then the check names what the index lacks
    assert check.missing == [f"GSI1: INVOICE#{opened['id']} read without status"]


@pytest.mark.parametrize("index", INDEXES)
def test_the_template_gives_each_index_a_projection(index: str) -> None:
    from local.cloudformation import table_definitions

    (found,) = [
        i for i in table_definitions()["BillingTable"]["GlobalSecondaryIndexes"] if i["IndexName"] == index
    ]
    projection = found["Projection"]
    assert projection["ProjectionType"] in ("ALL", "KEYS_ONLY", "INCLUDE")
    if index == "GSI1":
        # the due and reminder indexes read the entry's key and customer; the outbox sweep its keys
        assert projection == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["customer_id"]}

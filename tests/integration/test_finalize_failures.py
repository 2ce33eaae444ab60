"""A finalization that fails part-way leaves no gap, no orphan number and the draft as it was."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from remit.adapters.dynamodb import DynamoTable
from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.conftest import TABLES


@pytest.fixture
def acme(api: ApiClient) -> Billing:
    return Billing(api)


def stored_items(org: str) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb")
    return client.query(
        TableName=TABLES["BillingTable"],
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"ORG#{org}"}},
    )["Items"]


def hosted_tokens() -> list[dict[str, Any]]:
    items = boto3.client("dynamodb").scan(TableName=TABLES["BillingTable"])["Items"]
    return [item for item in items if item["PK"]["S"].startswith("HOSTED#")]


def test_a_write_refused_inside_the_transaction_rolls_back_every_item(acme: Billing) -> None:
    # Given a stray marker that makes one write of the finalization transaction fail its condition
    boto3.client("dynamodb").put_item(
        TableName=TABLES["BillingTable"],
        Item={
            "PK": {"S": f"ORG#{acme.org}"},
            "SK": {"S": "INVNUM#ACME-00001"},
            "entity": {"S": "invoice_number"},
        },
    )
    draft = acme.draft()
    before = stored_items(acme.org)

    # When the invoice is finalized
    response = acme.api.post(f"{acme.invoice(draft['id'])}/finalize")

    # Then nothing at all was written: not the counter, the invoice, the customer, the timeline
    assert response.status == 409
    assert stored_items(acme.org) == before
    assert hosted_tokens() == []
    assert acme.get(draft["id"]) == draft


def test_an_outage_during_finalization_leaves_no_gap(acme: Billing, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = acme.draft(), acme.draft()
    real_write = DynamoTable.write

    def unavailable(self: DynamoTable, writes: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "InternalServerError", "Message": "injected"}}, "TransactWriteItems"
        )

    monkeypatch.setattr(DynamoTable, "write", unavailable)
    failed = acme.api.post(f"{acme.invoice(first['id'])}/finalize")
    monkeypatch.setattr(DynamoTable, "write", real_write)

    assert failed.status == 503  # a transient outage: the client is told to retry
    assert acme.get(first["id"]) == first
    assert acme.api.get(acme.base).json()["invoice_numbering"]["next_number"] == 1
    numbers = [
        acme.api.post(f"{acme.invoice(i)}/finalize").json()["number"] for i in (second["id"], first["id"])
    ]
    assert numbers == ["ACME-00001", "ACME-00002"]


def test_a_crash_while_preparing_the_transaction_changes_nothing(
    acme: Billing, monkeypatch: pytest.MonkeyPatch
) -> None:
    from remit.adapters.dynamodb_billing import DynamoBillingTransaction

    draft = acme.draft()
    before = stored_items(acme.org)

    def crash(*_: Any, **__: Any) -> None:
        raise RuntimeError("injected crash after the counter was staged")

    monkeypatch.setattr(DynamoBillingTransaction, "claim_number", crash)
    response = acme.api.post(f"{acme.invoice(draft['id'])}/finalize")

    assert response.status == 500
    assert stored_items(acme.org) == before

"""An invoice's timeline: the entries one transaction adds share one stored item, and the timeline
reads them, with entries stored one per item, in the order they happened."""

from __future__ import annotations

import os
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Key

from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing


@pytest.fixture
def acme(api: ApiClient) -> Billing:
    return Billing(api)


def timeline(acme: Billing, invoice_id: str) -> list[dict[str, Any]]:
    response = acme.api.get(f"{acme.invoice(invoice_id)}/events")
    assert response.status == 200, response.body
    return list(response.json()["data"])


def stored_items(acme: Billing, invoice_id: str) -> list[dict[str, Any]]:
    table = boto3.resource("dynamodb").Table(os.environ["REMIT_BILLING_TABLE"])
    condition = Key("PK").eq(f"ORG#{acme.org}") & Key("SK").begins_with(f"EVENT#{invoice_id}#")
    return list(table.query(KeyConditionExpression=condition)["Items"])


def test_entries_added_together_share_an_item_and_read_in_order_with_those_added_alone(
    acme: Billing,
) -> None:
    # Given an invoice finalized (one entry), partly paid (one), then paid in full: the payment and
    # the invoice paid are two entries of one transaction
    invoice = acme.finalized(unit_amount=10000, quantity="1")
    assert acme.pay(invoice["id"], 5000).status == 201
    assert acme.pay(invoice["id"], invoice["total"] - 5000).status == 201

    # When its timeline is read
    entries = timeline(acme, invoice["id"])

    # Then it lists every entry once, oldest first, as added
    kinds = [entry["type"] for entry in entries]
    assert kinds[-3:] == ["invoice.payment_recorded", "invoice.payment_recorded", "invoice.paid"]
    assert [entry["id"] for entry in entries] == sorted(entry["id"] for entry in entries)
    assert len({entry["id"] for entry in entries}) == len(entries)
    assert all(entry["invoice_id"] == invoice["id"] for entry in entries)
    # And the last payment and the invoice paid were stored as one item, the others one item each
    items = stored_items(acme, invoice["id"])
    assert len(items) == len(entries) - 1
    assert [entry["type"] for entry in items[-1]["following"]] == ["invoice.paid"]


def test_a_deleted_draft_leaves_no_timeline_entry(acme: Billing) -> None:
    # Given a draft (its `invoice.created` entry)
    draft = acme.draft()
    assert [entry["type"] for entry in timeline(acme, draft["id"])] == ["invoice.created"]

    # When it is deleted
    response = acme.api.delete(acme.invoice(draft["id"]))

    # Then its timeline's items are gone with it
    assert response.status in (200, 204), response.body
    assert stored_items(acme, draft["id"]) == []

"""A billing run's storage: the run's item a fixed size whatever the number of its items, its
membership and its errors in items of their own, and runs stored before that still read whole.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest

from benchmarks.capacity_units import item_size
from remit.adapters.dynamodb import DynamoTable, to_attributes
from remit.adapters.dynamodb_recurring import DynamoRecurringStore
from remit.domain.billing_run import BillingRun, BillingRunError

pytestmark = pytest.mark.usefixtures("aws")

ORG = "org_runs"
T = datetime(2027, 3, 1, 8, 15, tzinfo=UTC)


def store() -> DynamoRecurringStore:
    return DynamoRecurringStore(table())


def table() -> DynamoTable:
    return DynamoTable(lambda: boto3.client("dynamodb"), os.environ["REMIT_BILLING_TABLE"])


def raw(sk: str) -> dict[str, Any]:
    response = boto3.client("dynamodb").get_item(
        TableName=os.environ["REMIT_BILLING_TABLE"], Key={"PK": {"S": f"ORG#{ORG}"}, "SK": {"S": sk}}
    )
    return dict(response["Item"])


def partition(prefix: str) -> list[dict[str, Any]]:
    return table().query_all(f"ORG#{ORG}", prefix)


def recorded(run_id: str, items: int) -> BillingRun:
    run = BillingRun(
        id=run_id,
        organisation_id=ORG,
        kind="invoicing_cycle",
        customer_count=items,
        item_ids=[f"sub_{run_id[-1]}{n:026d}" for n in range(items)],
        run_date=date(2027, 3, 1),
        created_at=T,
    )
    assert store().record_cycle_run(run)
    return run


def test_a_run_keeps_its_items_ids_in_items_of_their_own_and_its_item_the_same_size_at_5_or_500() -> None:
    # Given a run of 5 items and a run of 500
    small, large = recorded("brun_1", 5), recorded("brun_2", 500)

    # Then neither run's item holds ids, and both are the same size, well under one write unit
    for run in (small, large):
        assert "item_ids" not in raw(f"BILLINGRUN#{run.id}")
    assert item_size(raw("BILLINGRUN#brun_1")) == item_size(raw("BILLINGRUN#brun_2")) < 1024
    # And the membership is in items of 100 ids each, read back whole and in order
    assert len(partition("RUNMEMBERS#brun_2#")) == 5
    assert all(item_size(raw(f"RUNMEMBERS#brun_2#{part:04d}")) < 4096 for part in range(5))
    found = store().get_run(ORG, "brun_2", invoice_ids=False)
    assert found is not None
    assert found.item_ids == large.item_ids
    found_small = store().get_run(ORG, "brun_1", invoice_ids=False)
    assert found_small is not None
    assert found_small.item_ids == small.item_ids


def test_counting_an_invoice_and_an_error_leaves_the_run_item_its_size() -> None:
    # Given a run of 500 items
    run = recorded("brun_3", 500)
    size = item_size(raw("BILLINGRUN#brun_3"))

    # When an invoice and an item's error are counted on it
    transaction = store().transaction(ORG)
    transaction.count_on_run(run.id, invoice_id="inv_1", item_done=True)
    transaction.commit()
    transaction = store().transaction(ORG)
    error = BillingRunError(customer_id="cus_9", subscription_id=run.item_ids[1], detail="gone")
    transaction.count_on_run(run.id, item_done=True, skipped=False, error=error)
    transaction.commit()

    # Then the run item grew by its counters' digits at most, and holds no list of errors
    assert item_size(raw("BILLINGRUN#brun_3")) <= size + 3
    assert "errors" not in raw("BILLINGRUN#brun_3")
    # And the run reads with its invoice, its error and its counts
    found = store().get_run(ORG, run.id, item_ids=False)
    assert found is not None
    assert (found.invoice_ids, found.errors, found.processed, found.invoices_created) == (
        ["inv_1"],
        [error],
        2,
        1,
    )
    assert found.item_ids == []  # not asked for: one query for the API's answer


def test_a_run_stored_with_its_ids_and_errors_on_its_item_still_reads_whole() -> None:
    # Given a run stored as runs were before their membership had items of its own
    ids = [f"cus_{n:026d}" for n in range(3)]
    legacy = {
        "PK": f"ORG#{ORG}",
        "SK": "BILLINGRUN#brun_4",
        "entity": "billing_run",
        "id": "brun_4",
        "organisation_id": ORG,
        "kind": "bulk",
        "customer_count": 3,
        "invoices_created": 1,
        "invoice_ids": [],
        "errors": [{"customer_id": ids[2], "subscription_id": None, "detail": "The customer is gone."}],
        "skipped": 0,
        "processed": 2,
        "run_date": None,
        "created_at": "2027-03-01T08:15:00Z",
        "completed_at": None,
        "status": "running",
        "item_ids": ids,
        "bulk": {"line_items": [{"description": "Dues", "unit_amount": 5000}], "currency": "EUR"},
        "completed": False,
        "GSI1PK": "DUE#3",
        "GSI1SK": f"2027-03-01#{ORG}#brun_4",
    }
    entry = {"PK": f"ORG#{ORG}", "SK": "BILLINGRUN#brun_4#INV#inv_7", "entity": "run_invoice"}
    for item in (legacy, entry):
        boto3.client("dynamodb").put_item(
            TableName=os.environ["REMIT_BILLING_TABLE"], Item=to_attributes(item)
        )

    # When it is read as the API, the planner and the worker read it
    answered = store().get_run(ORG, "brun_4", item_ids=False)
    planned = store().get_run(ORG, "brun_4", invoice_ids=False)
    listed = store().list_runs(ORG, 10, None).items

    # Then its ids, errors, invoices and content are all there
    assert answered is not None
    assert planned is not None
    assert answered.invoice_ids == ["inv_7"]
    assert [error.customer_id for error in answered.errors] == [ids[2]]
    assert answered.status == "running"
    assert planned.item_ids == ids
    assert planned.bulk is not None
    assert planned.bulk.currency == "EUR"
    assert [(run.id, run.invoice_ids, len(run.errors)) for run in listed] == [("brun_4", ["inv_7"], 1)]

    # And an error counted on it now joins the ones it held
    transaction = store().transaction(ORG)
    error = BillingRunError(customer_id=ids[1], detail="Billed in USD now.")
    transaction.count_on_run("brun_4", item_done=True, error=error)
    transaction.commit()
    found = store().get_run(ORG, "brun_4", item_ids=False)
    assert found is not None
    assert [e.customer_id for e in found.errors] == [ids[2], ids[1]]
    assert found.status == "completed_with_errors"

"""Years of an organisation's invoices and payments, stored in seconds into moto's in-process table.

The items are exactly what the adapter writes (its own mapping: `invoice_item`, `payment_item`, and
the overview's counters as `OverviewChanges` would have changed them), put straight into moto's
backend as `tests/integration/test_list_reads.py` does, skipping the request serialisation and
moto 5.2's quadratic item-size check. What is measured afterwards goes through botocore and moto
unchanged. Used by `tests/integration/test_overview.py` and `benchmarks/overview.py`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from unittest.mock import patch

import boto3

from remit.domain.invoice import Invoice
from remit.domain.payment import Payment


@dataclass
class Books:
    invoices: list[Invoice] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)


def older_books(model: Invoice, count: int, through: date, years: int = 2) -> Books:
    """`count` invoices like `model`, issued evenly over the `years` before `through`, due 14 days
    later: one in ten still open, one in twenty void, the rest paid on their due date (a payment each).
    """
    from remit.domain.ids import new_id

    books = Books()
    start = datetime.combine(through - timedelta(days=365 * years), time(9), tzinfo=UTC)
    step = timedelta(days=365 * years) / count
    for n in range(count):
        issued = start + step * n
        status = "open" if n % 10 == 0 else "void" if n % 20 == 5 else "paid"
        paid = model.total if status == "paid" else 0
        invoice = model.model_copy(
            update={
                "id": new_id("inv", issued),
                "number": f"OLD-{n:06d}",
                "status": status,
                "issue_date": issued.date(),
                "due_date": issued.date() + timedelta(days=14),
                "finalized_at": issued,
                "amount_paid": paid,
                "amount_due": model.total - paid,
                "next_reminder_on": None,
            }
        )
        books.invoices.append(invoice)
        if status == "paid":
            books.payments.append(
                Payment(
                    id=new_id("pay", issued),
                    invoice_id=invoice.id,
                    customer_id=invoice.customer_id,
                    amount=paid,
                    currency=invoice.currency,
                    method="bank_transfer",
                    received_on=invoice.due_date,
                    created_at=issued,
                )
            )
    return books


def put_items(table_name: str, items: Iterable[dict[str, Any]], region: str = "eu-west-1") -> None:
    """Put the items straight into moto's in-process table `table_name`."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import LimitedSizeDict

    from remit.adapters.dynamodb import to_attributes

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][region].get_table(table_name)
    with patch.object(LimitedSizeDict, "__setitem__", dict.__setitem__):
        for item in items:
            table.put_item(to_attributes(item))


def store(table_name: str, organisation_id: str, books: Books, counted: bool) -> None:
    """Store the books: `counted`, as this version writes them (the overview's counters and markers
    included); otherwise as a version before the overview did (no counters, no `in_overview`)."""
    from remit.adapters.dynamodb import from_attributes
    from remit.adapters.dynamodb_billing import invoice_item, payment_item
    from remit.adapters.dynamodb_overview import COUNTED, OverviewChanges

    items = [invoice_item(invoice.model_copy(update={"in_overview": counted})) for invoice in books.invoices]
    items += [payment_item(organisation_id, payment) | {COUNTED: counted} for payment in books.payments]
    if not counted:
        put_items(table_name, items)
        return
    pk = f"ORG#{organisation_id}"
    changes = OverviewChanges(pk)
    for invoice in books.invoices:
        changes.invoice_changed(None, invoice)
    for payment in books.payments:
        changes.payment_recorded(payment)
    # The counters, added to what the organisation's own invoices have counted already
    counters = {
        item["SK"]: item
        for item in map(
            from_attributes,
            boto3.client("dynamodb").query(
                TableName=table_name,
                KeyConditionExpression="PK = :pk AND begins_with(SK, :stats)",
                ExpressionAttributeValues={":pk": {"S": pk}, ":stats": {"S": "STATS#"}},
                ConsistentRead=True,
            )["Items"],
        )
    }
    for write in changes.writes():
        if write.action == "Put":  # an open invoice's marker
            items.append(from_attributes(write.request["Item"]))
            continue
        sk = write.request["Key"]["SK"]["S"]
        change = {
            name[1:]: value
            for name, value in from_attributes(write.request["ExpressionAttributeValues"]).items()
        }
        counter = counters.setdefault(sk, {"PK": pk, "SK": sk, "amount": 0, "count": 0})
        counter.update(amount=counter["amount"] + change["amount"], count=counter["count"] + change["count"])
    put_items(table_name, items + list(counters.values()))

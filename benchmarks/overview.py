"""The dashboard overview's read at 50,000 invoices: DynamoDB calls, items read and time.

One organisation (Europe/Berlin, EUR) gets 10 invoices through Remit's services, and its overview
is read; then two years of books are stored besides them (50,000 invoices by default, a tenth
open, a twentieth void, the rest paid with a payment each) straight into the table as the adapter
writes them, the overview's counters and markers included (`tests/integration/stored_books.py`,
the fastest way to store this much), and the overview is read again. Each read goes through
`services().overview.figures`, as the dashboard calls it; a botocore `after-call` hook counts the
DynamoDB calls and the items each read (`ScannedCount` of a Query, the items of a Get or BatchGet).
For contrast, one read of every invoice of the organisation (the least that computing the figures
from the invoices would cost). Against moto in-process with Remit's patches, as the tests run:
times are the emulator's, the counts are what DynamoDB would be asked.

    python -m benchmarks overview [--invoices 50000] [--reads 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

TABLES = {"BillingTable": "remit-billing", "IdempotencyTable": "remit-idempotency"}


class ItemsRead:
    """DynamoDB calls by operation, and the items they read, from botocore's `after-call` event."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.items = 0

    def __call__(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        operation = model.name
        self.calls[operation] += 1
        if operation in ("Query", "Scan"):
            self.items += int(parsed.get("ScannedCount", 0))
        elif operation == "GetItem":
            self.items += 1 if "Item" in parsed else 0
        elif operation == "BatchGetItem":
            self.items += sum(len(items) for items in parsed.get("Responses", {}).values())

    def measure[ResultT](self, action: Callable[[], ResultT]) -> tuple[ResultT, Counter[str], int, float]:
        """The result, the calls and items of one run of `action`, and its time in ms."""
        self.calls, self.items = Counter(), 0
        started = time.perf_counter()
        result = action()
        return result, self.calls, self.items, (time.perf_counter() - started) * 1000


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks overview", description=__doc__)
    parser.add_argument("--invoices", type=int, default=50_000, help="invoices stored (default 50,000)")
    parser.add_argument("--reads", type=int, default=20, help="reads timed at each size (default 20)")
    args = parser.parse_args(argv)
    os.environ.update(
        {
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "REMIT_STAGE": "test",
            "REMIT_BILLING_TABLE": TABLES["BillingTable"],
            "REMIT_IDEMPOTENCY_TABLE": TABLES["IdempotencyTable"],
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    import boto3
    from moto import mock_aws

    from local import moto_patches
    from local.cloudformation import create_tables

    moto_patches.install()
    with mock_aws():
        boto3.setup_default_session()
        session = boto3.DEFAULT_SESSION
        if session is None:
            raise RuntimeError("boto3 did not create its default session")
        counter = ItemsRead()
        session.events.register("after-call.dynamodb", counter)
        create_tables(boto3.client("dynamodb"), TABLES)
        from remit.bootstrap import reset

        reset()
        _run(args, counter)
    return 0


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now_is = now

    def now(self) -> datetime:
        return self.now_is


def _every_invoice(organisation_id: str) -> int:
    """Read every invoice of the organisation once, a page after the other; returns how many."""
    import boto3

    client = boto3.client("dynamodb")
    request: dict[str, Any] = {
        "TableName": TABLES["BillingTable"],
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :invoice)",
        "ExpressionAttributeValues": {":pk": {"S": f"ORG#{organisation_id}"}, ":invoice": {"S": "INVOICE#"}},
        "ConsistentRead": True,
    }
    count = 0
    while True:
        page = client.query(**request)
        count += len(page["Items"])
        if "LastEvaluatedKey" not in page:
            return count
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _run(args: argparse.Namespace, counter: ItemsRead) -> None:
    import boto3

    from remit.adapters.dynamodb import DynamoTable
    from remit.adapters.dynamodb_billing import DynamoBillingStore
    from remit.bootstrap import services, use_clock
    from remit.domain.customer import NewCustomer
    from remit.domain.invoice import NewInvoice, NewLineItem
    from remit.domain.organisation import NewOrganisation
    from remit.domain.payment import NewOfflinePayment
    from tests.integration import stored_books

    # The first 10 invoices are issued over the 40 days before today, so that some are overdue.
    clock = _Clock(datetime.now(UTC) - timedelta(days=40))
    use_clock(clock)
    account = services().accounts.create_account("Overview benchmark").account_id
    organisation = services().organisations.create(
        account, NewOrganisation(name="Acme Ltd", default_currency="EUR", timezone="Europe/Berlin")
    )
    org = organisation.id
    customer = services().customers.create(account, org, NewCustomer(name="Globex", email="ap@globex.test"))
    line = NewLineItem(description="Consulting", unit_amount=119_000)
    invoices = []
    for n in range(10):
        draft = services().invoices.create_draft(
            account, org, NewInvoice(customer_id=customer.id, line_items=[line], days_until_due=n * 3)
        )
        invoice = services().invoice_lifecycle.finalize(account, org, draft.id, "https://x.test")
        if n % 3 == 0:
            payment = NewOfflinePayment(amount=invoice.amount_due, method="bank_transfer")
            services().payments.record_offline_payment(account, org, invoice.id, payment)
        invoices.append(invoice)
        clock.now_is += timedelta(days=4)
    use_clock(None)

    def read() -> Any:
        return services().overview.figures(account, org)

    small = [counter.measure(read) for _ in range(args.reads)]

    table = DynamoTable(lambda: boto3.client("dynamodb"), TABLES["BillingTable"])
    model = DynamoBillingStore(table).get_invoice(org, invoices[-1].id)
    if model is None:
        raise RuntimeError("the model invoice is not stored")
    started = time.perf_counter()
    books = stored_books.older_books(model, args.invoices, through=small[0][0].today)
    stored_books.store(TABLES["BillingTable"], org, books, counted=True)
    stored_seconds = time.perf_counter() - started

    large = [counter.measure(read) for _ in range(args.reads)]
    _, naive_calls, naive_items, naive_ms = counter.measure(lambda: _every_invoice(org))

    overview = large[0][0]
    euros = overview.in_currency("EUR")
    stored = len(books.invoices) + len(invoices)
    print(
        f"stored {len(books.invoices):,} invoices and {len(books.payments):,} payments besides the first "
        f"10 in {stored_seconds:.0f} s"
    )
    print(f"{'invoices':>9}  {'DynamoDB calls':<58} {'items read':>10}  {'ms p50 / max':>14}")
    for count, runs in ((len(invoices), small), (stored, large)):
        _, calls, items, _ = runs[0]
        times = [ms for *_, ms in runs]
        described = (
            f"{sum(calls.values())} (" + ", ".join(f"{n} {name}" for name, n in sorted(calls.items())) + ")"
        )
        print(
            f"{count:>9,}  {described:<58} {items:>10}  {statistics.median(times):>6.1f} / {max(times):<6.1f}"
        )
    print(
        f"for contrast, reading every invoice of the organisation once: {sum(naive_calls.values()):,} "
        f"Query calls, {naive_items:,} items, {naive_ms:,.0f} ms"
    )
    if euros is not None:
        print(
            f"figures (EUR, {overview.today}): outstanding {euros.outstanding:,} in "
            f"{euros.outstanding_invoices:,} invoices, overdue {euros.overdue:,} in "
            f"{euros.overdue_invoices:,}, "
            f"paid in 30 days {euros.paid_last_30_days:,} ({euros.payments_last_30_days} payments), "
            f"{len(overview.needing_attention)} needing attention"
        )

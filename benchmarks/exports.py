"""Exports at 10,000 invoices: invoices exported per second and peak memory, at two sizes.

One organisation gets a few invoices through Remit's services, then years of books are stored
besides them straight into the table as the adapter writes them (`tests/integration/stored_books.py`,
as `benchmarks/overview.py` does): first a tenth of `--invoices`, then all of them. At each size the
invoices CSV of the whole period and of its last month, and the organisation's JSON Lines, are made
through `services().exports`, as the API makes them, and uploaded to the (emulated) bucket. Peak
memory is what Python allocated while the export ran (`tracemalloc`, in a second run whose file is
read through instead of uploaded, since the emulated bucket keeps uploads in this process; moto's
in-process answers included): it should stay flat while the rows grow tenfold. Against moto
in-process with Remit's patches: times are the emulator's.

    python -m benchmarks exports [--invoices 10000]
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

TABLES = {"BillingTable": "remit-billing", "IdempotencyTable": "remit-idempotency"}
BUCKET = "remit-logos"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks exports", description=__doc__)
    parser.add_argument("--invoices", type=int, default=10_000, help="invoices stored (default 10,000)")
    args = parser.parse_args(argv)
    os.environ.update(
        {
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "REMIT_STAGE": "test",
            "REMIT_BILLING_TABLE": TABLES["BillingTable"],
            "REMIT_IDEMPOTENCY_TABLE": TABLES["IdempotencyTable"],
            "REMIT_LOGO_BUCKET": BUCKET,
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
        create_tables(boto3.client("dynamodb"), TABLES)
        boto3.client("s3").create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        from remit.bootstrap import reset

        reset()
        _run(args)
    return 0


class _Discarded:
    """Export files whose finished file is read through and dropped instead of uploaded: the
    emulated bucket keeps uploads in this process's memory, which is no cost of the export's."""

    def __init__(self) -> None:
        from remit.adapters.s3_exports import S3ExportFiles

        self._files = S3ExportFiles(lambda: None, BUCKET)  # type: ignore[arg-type,return-value]

    def scratch(self) -> Any:
        return self._files.scratch()

    def publish(self, organisation_id: str, file_name: str, content_type: str, content: Any, now: Any) -> Any:
        content.seek(0)
        while content.read(1024 * 1024):
            pass
        return None


def _measured(uploaded: Callable[[], Any], discarded: Callable[[], Any]) -> tuple[float, int]:
    """Seconds of one run of the export, uploaded; and the peak bytes allocated during another,
    discarded (tracing every allocation slows Python several times over: the timed run is not)."""
    started = time.perf_counter()
    uploaded()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    discarded()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak


def _run(args: argparse.Namespace) -> None:
    import boto3

    from remit.adapters.dynamodb import DynamoTable
    from remit.adapters.dynamodb_billing import DynamoBillingStore
    from remit.bootstrap import services
    from remit.domain.customer import NewCustomer
    from remit.domain.exports import ExportPeriod
    from remit.domain.invoice import NewInvoice, NewLineItem
    from remit.domain.organisation import NewOrganisation
    from tests.integration import stored_books

    account = services().accounts.create_account("Exports benchmark").account_id
    org = (
        services().organisations.create(account, NewOrganisation(name="Acme Ltd", default_currency="EUR")).id
    )
    customer = services().customers.create(
        account, org, NewCustomer(name="Globex", email="ap@globex.test", tax_rate="19")
    )
    line = NewLineItem(description="Consulting", unit_amount=119_000)
    draft = services().invoices.create_draft(
        account, org, NewInvoice(customer_id=customer.id, line_items=[line])
    )
    services().invoice_lifecycle.finalize(account, org, draft.id, "https://x.test")
    table = DynamoTable(lambda: boto3.client("dynamodb"), TABLES["BillingTable"])
    model = DynamoBillingStore(table).get_invoice(org, draft.id)
    if model is None:
        raise RuntimeError("the model invoice is not stored")

    today = datetime.now(UTC).date()
    whole = ExportPeriod(date(2000, 1, 1), today)
    month = ExportPeriod(
        (today.replace(day=1) - timedelta(days=1)).replace(day=1), today.replace(day=1) - timedelta(days=1)
    )
    from remit.bootstrap import SystemClock
    from remit.services.exports import ExportService

    exports = services().exports
    unkept = ExportService(services, _Discarded(), SystemClock())  # type: ignore[arg-type]
    # Only the period's invoices are read (the date index, docs/exports.md): the stored invoices per
    # second show how little of the organisation a month's export reads; the rows are what it holds.
    print(f"{'invoices':>9}  {'export':<28} {'rows':>7}  {'seconds':>8}  {'invoices/s':>10}  {'peak MB':>8}")
    stored = 1
    for size in (args.invoices // 10, args.invoices):
        books = stored_books.older_books(model, size - stored, through=today)
        stored_books.store(TABLES["BillingTable"], org, books, counted=False)
        stored = size
        for name, period in (("invoices.csv, every day", whole), ("invoices.csv, last month", month)):
            rows = _rows_in(org, period, model)
            seconds, peak = _measured(
                lambda p=period: exports.accounting_csv(account, org, "invoices", p),
                lambda p=period: unkept.accounting_csv(account, org, "invoices", p),
            )
            _print(size, name, f"{rows:,}", seconds, peak)
        seconds, peak = _measured(
            lambda: exports.organisation_jsonl(account, org), lambda: unkept.organisation_jsonl(account, org)
        )
        _print(size, "organisation.jsonl", "all", seconds, peak)


def _print(size: int, name: str, rows: str, seconds: float, peak: int) -> None:
    print(f"{size:>9,}  {name:<28} {rows:>7}  {seconds:>8.2f}  {size / seconds:>10,.0f}  {peak / 1e6:>8.1f}")


def _rows_in(org: str, period: Any, model: Any) -> int:
    """How many invoices the period holds (read straight from the table, for the rows/s figure)."""
    import boto3

    client = boto3.client("dynamodb")
    request: dict[str, Any] = {
        "TableName": TABLES["BillingTable"],
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :invoice)",
        "ExpressionAttributeValues": {":pk": {"S": f"ORG#{org}"}, ":invoice": {"S": "INVOICE#"}},
        "ProjectionExpression": "issue_date, #s",
        "ExpressionAttributeNames": {"#s": "status"},
    }
    count = 0
    while True:
        page = client.query(**request)
        for item in page["Items"]:
            issued = item.get("issue_date", {}).get("S")
            if issued and item["status"]["S"] != "draft" and period.holds(date.fromisoformat(issued)):
                count += 1
        if "LastEvaluatedKey" not in page:
            return count
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

"""A customer import of 10,000 rows: the request's answer time, the worker's rows per second and
the memory one part of the import takes, first part against last.

Against the local stack's embedded AWS emulation (moto in server mode, on loopback): a CSV file of
new customers (name, email, address, tax id, currency, external id) is imported through the import
service as the API's request does (the file read once, kept, recorded, one message queued), then
the real `billing_worker` handler is fed the import's messages one part at a time, as SQS would.
The memory of a part is what Python allocates while it runs above what was held when it began
(`tracemalloc`, on every tenth part only, so that it hardly slows the figure of rows per second):
the file is read as a stream, so it is the same for the last part as for the first.

Then the same file is imported again: every row is matched (by external id) and nothing changes,
which is what a second run of an import costs.

    python -m benchmarks customer_import [--rows 10000]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import time
import tracemalloc
from dataclasses import dataclass, field


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks customer_import", description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000, help="rows of the file (default 10000)")
    args = parser.parse_args(argv)
    from local.aws_emulation import AwsEmulation
    from local.environment import export_remit_environment

    emulation = AwsEmulation()
    emulation.start()
    try:
        export_remit_environment(emulation.endpoint_url, public_base_url="http://127.0.0.1:3000")
        os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
        emulation.provision()
        from remit.bootstrap import reset

        reset()
        with contextlib.redirect_stdout(io.StringIO()):
            first = _import(args.rows, again=False)
            second = _import(args.rows, again=True)
    finally:
        emulation.stop()
    size = len(_file(args.rows))
    print(f"file: {args.rows} rows, {size / 1024 / 1024:.1f} MB of CSV")
    for name, run in (("first run (all created)", first), ("second run (all unchanged)", second)):
        print(f"{name}:")
        print(f"  the request answered in               {run.answer * 1000:8.0f} ms (202)")
        print(
            f"  the worker imported                   {run.rows_per_second:8.1f} rows/s ({run.parts} parts)"
        )
        print(f"  counts                                {run.counts}")
        print(
            f"  memory of a part above what it began with: first {run.memory[0] / 1024:8.0f} KiB, "
            f"last {run.memory[-1] / 1024:8.0f} KiB, largest {max(run.memory) / 1024:8.0f} KiB"
        )
    return 0


def _file(rows: int) -> bytes:
    lines = ["Company,Email,Address line 1,City,Postal code,Country,VAT number,Currency,Customer ID"]
    lines += [
        f"Customer {n} GmbH,ap{n}@customer{n}.test,Hauptstraße {n},Köln,50667,DE,,EUR,crm-{n}"
        for n in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


@dataclass
class ImportFigures:
    answer: float = 0.0
    rows_per_second: float = 0.0
    parts: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    memory: list[int] = field(default_factory=list)


_ORGANISATION: dict[str, str] = {}


def _import(rows: int, *, again: bool) -> ImportFigures:
    import boto3

    from billing_worker.app import lambda_handler as worker
    from remit.bootstrap import services
    from remit.domain.organisation import NewOrganisation
    from tests.integration.billing_queue import LambdaContextStub, sqs_event

    if not again:
        account = services().accounts.create_account("Bench").account_id
        organisation = services().organisations.create(
            account, NewOrganisation(name="Acme", default_currency="EUR")
        )
        _ORGANISATION.update(account=account, organisation=organisation.id)
    account, organisation_id = _ORGANISATION["account"], _ORGANISATION["organisation"]
    content = _file(rows)
    figures = ImportFigures()
    started = time.perf_counter()
    record = services().imports.import_file(
        account, organisation_id, content, mapping=None, dry_run=False, preset=None
    )
    figures.answer = time.perf_counter() - started
    sqs, url = boto3.client("sqs"), os.environ["REMIT_BILLING_QUEUE_URL"]
    started = time.perf_counter()
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1).get("Messages", []):
        measured = figures.parts % 10 == 0
        if measured:
            tracemalloc.start()
            held = tracemalloc.get_traced_memory()[0]
        response = worker(sqs_event(batch), LambdaContextStub())
        if measured:
            figures.memory.append(tracemalloc.get_traced_memory()[1] - held)
            tracemalloc.stop()
        if response["batchItemFailures"]:
            raise RuntimeError(f"an import part failed: {json.dumps(response)}")
        sqs.delete_message(QueueUrl=url, ReceiptHandle=batch[0]["ReceiptHandle"])
        figures.parts += 1
    elapsed = time.perf_counter() - started
    done = services().imports.get(account, organisation_id, record.id)
    if done.status != "completed" or done.failed:
        raise RuntimeError(f"the import did not complete cleanly: {done.status}, {done.errors[:3]}")
    figures.rows_per_second = rows / elapsed
    figures.counts = {"created": done.created, "updated": done.updated, "unchanged": done.unchanged}
    return figures

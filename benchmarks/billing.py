"""The billing worker's throughput against its floor, and a bulk run's answer and completion times.

Budget: the daily cycle bills at least half as fast as its floor, one bare
`TransactWriteItems` per billed subscription against the same DynamoDB endpoint. Both are measured
in one run, against the local stack's embedded AWS emulation (moto in server mode, on loopback,
with Remit's patches), so that a slow or busy machine slows both alike:

* floor: per subscription, one TransactWriteItems that claims a period marker and writes an
  invoice-sized item (the least any exactly-once design writes), one after the other;
* worker: the planner splits the day, its parts queue the due subscriptions, and the real
  `billing_worker` handler bills them from SQS in batches of ten (read, price, one transaction with
  the marker, the finalized and sent invoice, the counter, the timeline, the outbox and the
  subscription; then the run's count).

Then a bulk run through the real API handler: the answer time of `POST …/billing` for 500
customers, and the time until the worker has issued all 500 invoices.

Then one organisation's issuing, one invoice a transaction against several together: two
organisations alike, each with its subscriptions due (a customer each); the billing service bills
one's messages one by one (`process`: a transaction per invoice, each writing the number series),
the other's ten messages at a time as the worker does (`issue_together`: as many invoices as fit
in one transaction, the series written once). Printed: invoices/s of each and their ratio,
transactions and series writes per invoice, the invoices of the largest transaction.

    python -m benchmarks billing [--subscriptions 500] [--bulk 500] [--one-organisation 200]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

TARGET_RATIO = 0.5


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks billing", description=__doc__)
    parser.add_argument("--subscriptions", type=int, default=500, help="subscriptions due (default 500)")
    parser.add_argument("--bulk", type=int, default=500, help="customers of the bulk run (default 500)")
    parser.add_argument(
        "--one-organisation",
        type=int,
        default=200,
        help="subscriptions due in each of two organisations, issued one by one and together (default 200)",
    )
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
        floor = _floor(emulation, args.subscriptions)
        # The handlers print their metrics (EMF) to stdout, as Lambda wants; keep the figures readable.
        with contextlib.redirect_stdout(io.StringIO()):
            worker = _worker(args.subscriptions)
            answer, completion = _bulk(args.bulk)
            single, together = _one_organisation(args.one_organisation)
    finally:
        emulation.stop()
    ratio = worker.per_second / floor
    verdict = "within" if ratio >= TARGET_RATIO else "BELOW"
    print(f"floor: a bare 2-item TransactWriteItems  {floor:8.1f} subscriptions/s")
    print(f"worker: the real handler, from SQS       {worker.per_second:8.1f} subscriptions/s", end="")
    print(f" ({worker.count} billed)")
    print(
        f"ratio worker/floor                       {ratio:8.2f}   (target at least {TARGET_RATIO}: {verdict})"
    )
    print(
        f"worker per subscription                  {worker.calls:8.1f} DynamoDB calls, "
        f"{worker.items_written:.1f} items written in its transaction"
    )
    print(f"bulk run of {args.bulk}: the API answered in  {answer * 1000:8.0f} ms (202, whatever the size)")
    print(f"bulk run of {args.bulk}: completed after      {completion:8.1f} s")
    print(f"one organisation, {args.one_organisation} subscriptions due each way:")
    for name, figures in (("one by one", single), ("together  ", together)):
        print(
            f"  {name}: {figures.per_second:8.1f} invoices/s, {figures.transactions:5.2f} transactions and "
            f"{figures.series_writes:5.2f} series writes per invoice, at most {figures.largest} invoices "
            f"({figures.largest_actions} actions) in one transaction"
        )
    print(f"  ratio together/one by one              {together.per_second / single.per_second:8.2f}")
    return 0


def _floor(emulation: Any, count: int) -> float:
    from local.environment import BILLING_TABLE

    client = emulation.dynamodb()
    padding = "x" * 2000  # about an invoice's size
    started = time.perf_counter()
    for n in range(count):
        client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": BILLING_TABLE,
                        "Item": {"PK": {"S": "ORG#floor"}, "SK": {"S": f"SUBPERIOD#sub_{n}#2027-03-01"}},
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                {
                    "Put": {
                        "TableName": BILLING_TABLE,
                        "Item": {
                            "PK": {"S": "ORG#floor"},
                            "SK": {"S": f"INVOICE#inv_{n}"},
                            "body": {"S": padding},
                        },
                    }
                },
            ]
        )
    return count / (time.perf_counter() - started)


@dataclass(frozen=True)
class WorkerFigures:
    count: int
    per_second: float
    calls: float  # DynamoDB calls per subscription
    items_written: float  # items per subscription in TransactWriteItems


def _worker(count: int) -> WorkerFigures:
    import boto3

    from billing_worker.app import lambda_handler as worker
    from invoicing_cycle.app import lambda_handler as planner
    from remit.bootstrap import reset, services
    from remit.domain.customer import NewCustomer
    from remit.domain.organisation import NewOrganisation
    from remit.domain.subscription import NewSubscription, SubscriptionLine
    from tests.integration.billing_queue import BillingQueue, plan_parts

    account = services().accounts.create_account("Bench").account_id
    org = (
        services().organisations.create(account, NewOrganisation(name="Acme Ltd", default_currency="EUR")).id
    )
    line = SubscriptionLine(description="Pro plan", unit_amount=4900)
    for n in range(count):
        customer = services().customers.create(account, org, NewCustomer(name=f"C{n}", email=f"c{n}@x.test"))
        subscription = services().subscriptions.create(
            account,
            org,
            NewSubscription(customer_id=customer.id, line_items=[line], start_date=date(2027, 3, 1)),
        )
        services().subscriptions.activate(account, org, subscription.id)
    calls: Counter[str] = Counter()

    def count_call(**_: Any) -> None:
        calls["calls"] += 1

    def count_items(params: dict[str, Any], **_: Any) -> None:
        calls["items"] += len(params.get("TransactItems", []))

    planner({"scheduled_time": "2027-03-01T08:15:00Z"}, _Context())
    # The day's parts are planned before the worker is timed (the planner's own figures: `planner`).
    plan_parts(BillingQueue(), "plan_cycle", services().billing_cycle.plan_part)
    events = boto3.DEFAULT_SESSION.events if boto3.DEFAULT_SESSION else None
    if events is None:
        raise RuntimeError("boto3 has no default session")
    reset()  # clients made from here on carry the counting hook
    events.register("before-call.dynamodb", count_call)
    events.register("before-parameter-build.dynamodb.TransactWriteItems", count_items)
    started = time.perf_counter()
    _drain(worker)
    elapsed = time.perf_counter() - started
    events.unregister("before-call.dynamodb", count_call)
    events.unregister("before-parameter-build.dynamodb.TransactWriteItems", count_items)
    issued = services().invoices.list_invoices(account, org, 1, None, "open", None).items
    if not issued:
        raise RuntimeError("the worker issued nothing")
    return WorkerFigures(count, count / elapsed, calls["calls"] / count, calls["items"] / count)


@dataclass(frozen=True)
class IssuingFigures:
    per_second: float  # invoices issued a second
    transactions: float  # TransactWriteItems per invoice
    series_writes: float  # writes of the number series per invoice
    largest: int  # invoices of the largest transaction
    largest_actions: int  # its actions


def _one_organisation(count: int) -> tuple[IssuingFigures, IssuingFigures]:
    """Two organisations alike, one billed one invoice a transaction, the other several together."""
    import boto3

    from remit.bootstrap import reset, services
    from remit.domain.customer import NewCustomer
    from remit.domain.organisation import NewOrganisation
    from remit.domain.subscription import NewSubscription, SubscriptionLine

    account = services().accounts.create_account("One organisation").account_id
    line = SubscriptionLine(description="Pro plan", unit_amount=4900)
    organisations = []
    for name in ("One by one", "Together"):
        org = services().organisations.create(account, NewOrganisation(name=name, default_currency="EUR")).id
        for n in range(count):
            customer = services().customers.create(
                account, org, NewCustomer(name=f"C{n}", email=f"c{n}@x.test")
            )
            subscription = services().subscriptions.create(
                account,
                org,
                NewSubscription(customer_id=customer.id, line_items=[line], start_date=date(2027, 3, 15)),
            )
            services().subscriptions.activate(account, org, subscription.id)
        organisations.append(org)
    from tests.integration.billing_queue import plan_whole_day

    plan_whole_day(services().billing_cycle, datetime(2027, 3, 15, 8, 15, tzinfo=UTC), "bench")
    sqs, url = boto3.client("sqs"), os.environ["REMIT_BILLING_QUEUE_URL"]
    messages: dict[str, list[dict[str, Any]]] = {org: [] for org in organisations}
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            body = json.loads(message["Body"])
            if body.get("kind") != "plan_cycle":  # the day's parts, planned above
                messages.setdefault(body["organisation_id"], []).append(body)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    events = boto3.DEFAULT_SESSION.events if boto3.DEFAULT_SESSION else None
    if events is None:
        raise RuntimeError("boto3 has no default session")
    sizes: list[tuple[int, int, int]] = []  # (invoices numbered, actions, series writes) of each transaction

    def count_transaction(params: dict[str, Any], **_: Any) -> None:
        items = params.get("TransactItems", [])
        keys = [str(i.get("Put", {}).get("Item", {}).get("SK", {}).get("S", "")) for i in items]
        numbered = sum(1 for k in keys if k.startswith("INVNUM#"))
        sizes.append((numbered, len(items), keys.count("SERIES#invoice")))

    reset()  # clients made from here on carry the counting hook
    events.register("before-parameter-build.dynamodb.TransactWriteItems", count_transaction)
    figures = []
    try:
        for org, together in zip(organisations, (False, True), strict=True):
            sizes.clear()
            billing = services().billing_cycle
            started = time.perf_counter()
            if together:
                queued = messages[org]
                for start in range(0, len(queued), 10):
                    batch = {str(n): m for n, m in enumerate(queued[start : start + 10])}
                    done = billing.issue_together(batch)
                    for key, message in batch.items():
                        if key not in done:
                            billing.process(message)
            else:
                for message in messages[org]:
                    billing.process(message)
            elapsed = time.perf_counter() - started
            issued = services().invoices.list_invoices(account, org, 100, None, "open", None).items
            if len(issued) < min(count, 100):
                raise RuntimeError(f"issuing one organisation's invoices issued {len(issued)}")
            largest = max(sizes)
            figures.append(
                IssuingFigures(
                    per_second=count / elapsed,
                    transactions=len(sizes) / count,
                    series_writes=sum(series for _, _, series in sizes) / count,
                    largest=largest[0],
                    largest_actions=largest[1],
                )
            )
    finally:
        events.unregister("before-parameter-build.dynamodb.TransactWriteItems", count_transaction)
    return figures[0], figures[1]


def _bulk(count: int) -> tuple[float, float]:
    from billing_worker.app import lambda_handler as worker
    from remit.bootstrap import services
    from tests.integration.api_client import ApiClient

    api = ApiClient(services().accounts.create_account("Bulk").api_key)
    org = api.post("/v1/organisations", {"name": "Club", "default_currency": "EUR"}).json()["id"]
    base = f"/v1/organisations/{org}"
    customers = [
        api.post(f"{base}/customers", {"name": f"M{n}", "email": f"m{n}@club.test"}).json()["id"]
        for n in range(count)
    ]
    body = {
        "customer_ids": customers,
        "line_items": [{"description": "Dues", "unit_amount": 5000}],
        "currency": "EUR",
    }
    started = time.perf_counter()
    response = api.post(f"{base}/billing", body)
    answered = time.perf_counter() - started
    if response.status != 202:
        raise RuntimeError(f"bulk billing answered {response.status}: {response.body}")
    _drain(worker)
    completed = time.perf_counter() - started
    run = api.get(f"{base}/billing_runs/{response.json()['id']}").json()
    if run["status"] != "completed" or run["invoices_created"] != count:
        raise RuntimeError(
            f"the bulk run did not complete: {run['status']}, {run['invoices_created']} invoices"
        )
    return answered, completed


def _drain(worker: Any) -> None:
    """Feed the billing queue to the worker in batches of ten, as Lambda's SQS event source does."""
    import boto3

    sqs, url = boto3.client("sqs"), os.environ["REMIT_BILLING_QUEUE_URL"]
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        event = {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": {"ApproximateReceiveCount": "1"},
                    "messageAttributes": {},
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:remit-billing",
                    "awsRegion": "eu-west-1",
                }
                for m in messages
            ]
        }
        failed = {f["itemIdentifier"] for f in worker(event, _Context())["batchItemFailures"]}
        if failed:
            raise RuntimeError(f"the worker failed {len(failed)} messages: {json.dumps(sorted(failed))}")
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )


class _Context:
    function_name = "remit-billing-worker"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:remit-billing-worker"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000

"""DynamoDB round trips per API operation, counted (not timed) with a botocore event hook.

Budget: a read costs 1 call, a write at most 2 (one read, one TransactWriteItems),
with the API key look-up and the organisation's owner cached, as they are in a warm Lambda.
Each operation goes through the real API handler against moto in-process; requests carry no
`Idempotency-Key` (with one, the idempotency table adds a put and an update).

    python -m benchmarks dynamodb_calls
"""

from __future__ import annotations

import argparse
import os
from collections import Counter
from collections.abc import Callable
from typing import Any

BUDGETS = {"read": 1, "write": 2}


class CallCounter:
    """Counts DynamoDB API calls by operation name, from botocore's `before-call` event."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def measure(self, action: Callable[[], Any]) -> tuple[Any, Counter[str]]:
        self.calls = Counter()
        result = action()
        return result, self.calls


def main(argv: list[str]) -> int:
    argparse.ArgumentParser(prog="python -m benchmarks dynamodb_calls", description=__doc__).parse_args(argv)
    os.environ.update(
        {
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "REMIT_STAGE": "test",
            "REMIT_PUBLIC_BASE_URL": "https://api.remit.test",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    import boto3
    from moto import mock_aws

    from local.cloudformation import create_tables
    from tests.integration.api_client import ApiClient

    with mock_aws():
        session = boto3.setup_default_session() or boto3.DEFAULT_SESSION
        counter = CallCounter()
        if session is None:
            raise RuntimeError("boto3 did not create its default session")
        session.events.register("before-call.dynamodb", counter)
        create_tables(
            boto3.client("dynamodb"),
            {"BillingTable": "remit-billing", "IdempotencyTable": "remit-idempotency"},
        )
        # Finalization stores the invoice's PDF in the bucket (S3 calls are not counted).
        boto3.client("s3").create_bucket(
            Bucket="remit-logos", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        # Bulk billing queues its work (SQS calls are not counted).
        os.environ["REMIT_BILLING_QUEUE_URL"] = boto3.client("sqs").create_queue(QueueName="remit-billing")[
            "QueueUrl"
        ]
        from remit.bootstrap import reset, services

        reset()
        api = ApiClient(services().accounts.create_account("Bench").api_key)
        org = api.post("/v1/organisations", {"name": "Acme Ltd", "default_currency": "EUR"}).json()["id"]
        base = f"/v1/organisations/{org}"
        customer = api.post(f"{base}/customers", {"name": "Globex", "email": "ap@globex.test"}).json()["id"]
        api.get(f"{base}/customers/{customer}")  # warm: the key and the organisation's owner are cached
        line = {"description": "Widget", "quantity": "2", "unit_amount": 1000}

        rows: list[tuple[str, str, Counter[str]]] = []

        def measure(name: str, kind: str, action: Callable[[], Any]) -> Any:
            response, calls = counter.measure(action)
            if not 200 <= response.status < 300:
                raise RuntimeError(f"{name} failed: {response.status} {response.body!r}")
            rows.append((name, kind, calls))
            return response

        measure(
            "create customer",
            "write",
            lambda: api.post(f"{base}/customers", {"name": "B", "email": "b@b.test"}),
        )
        measure("get customer", "read", lambda: api.get(f"{base}/customers/{customer}"))
        measure("list customers", "read", lambda: api.get(f"{base}/customers"))
        draft = measure(
            "create draft",
            "write",
            lambda: api.post(f"{base}/invoices", {"customer_id": customer, "line_items": [line]}),
        ).json()
        measure("finalize", "write", lambda: api.post(f"{base}/invoices/{draft['id']}/finalize"))
        measure(
            "record payment",
            "write",
            lambda: api.post(f"{base}/invoices/{draft['id']}/payments", {"amount": 500, "method": "cheque"}),
        )
        credit_notes = f"{base}/invoices/{draft['id']}/credit_notes"
        note = measure("issue credit note", "write", lambda: api.post(credit_notes, {"amount": 100})).json()
        # Beyond what is still due, a refund reads the invoice's payments and a credit the customer.
        measure(
            "credit note, refund",
            "write",
            lambda: api.post(credit_notes, {"amount": 1900, "refund_amount": 300, "credit_amount": 200}),
        )
        measure("get credit note", "read", lambda: api.get(f"{base}/credit_notes/{note['id']}"))
        measure("list credit notes", "read", lambda: api.get(f"{base}/credit_notes"))
        measure("void credit note", "write", lambda: api.post(f"{base}/credit_notes/{note['id']}/void"))
        measure("get invoice", "read", lambda: api.get(f"{base}/invoices/{draft['id']}"))
        measure("list invoices", "read", lambda: api.get(f"{base}/invoices"))
        measure("invoice timeline", "read", lambda: api.get(f"{base}/invoices/{draft['id']}/events"))
        plan = {"customer_id": customer, "line_items": [line], "start_date": "2027-01-31"}
        subscription = measure(
            "create subscription", "write", lambda: api.post(f"{base}/subscriptions", plan)
        ).json()["id"]
        path = f"{base}/subscriptions/{subscription}"
        measure("get subscription", "read", lambda: api.get(path))
        measure("list subscriptions", "read", lambda: api.get(f"{base}/subscriptions"))
        measure("change subscription", "write", lambda: api.patch(path, {"memo": "Thank you"}))
        measure("activate", "write", lambda: api.post(f"{path}/activate"))
        measure("pause", "write", lambda: api.post(f"{path}/pause"))
        bulk = {"customer_ids": [customer], "line_items": [line], "currency": "EUR"}
        run = measure("bulk billing", "write", lambda: api.post(f"{base}/billing", bulk)).json()["id"]
        measure("get billing run", "read", lambda: api.get(f"{base}/billing_runs/{run}"))
        measure("list billing runs", "read", lambda: api.get(f"{base}/billing_runs"))
        rows_of_import = {"kind": "customers", "rows": [{"name": "Initech", "email": "ap@initech.test"}]}
        started = measure("import customers", "write", lambda: api.post(f"{base}/imports", rows_of_import))
        measure("get import", "read", lambda: api.get(f"{base}/imports/{started.json()['id']}"))
        measure("list imports", "read", lambda: api.get(f"{base}/imports"))

    print(f"{'operation':<20} {'kind':<6} {'calls':>5} {'budget':>6}  breakdown")
    for name, kind, calls in rows:
        total = sum(calls.values())
        verdict = "" if total <= BUDGETS[kind] else "  over budget"
        breakdown = ", ".join(f"{op} x{count}" for op, count in sorted(calls.items()))
        print(f"{name:<20} {kind:<6} {total:>5} {BUDGETS[kind]:>6}  {breakdown}{verdict}")
    return 0

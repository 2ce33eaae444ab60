"""Write and read capacity units per recurring invoice (emailed), per reminder and per API call.

Budget: at most 30 write units per recurring invoice, emailed. Units are not what moto reports (it
reports none) but what DynamoDB would bill for the same calls, worked out item by item by
`capacity_units` from the items' sizes before and after each write and from the template's index
projections (the rules and the AWS pages they come from: docs/access-patterns.md, "What a write
costs"). Each flow runs through the real handlers against moto in-process:

* recurring invoice: the invoicing cycle's planner and the billing worker issue a run of
  subscriptions due (finalized and sent), then the notifications service delivers each email; the
  run's own items (its record, membership and completion) are shared by its invoices. A small run
  and a large one: the cost per invoice must not depend on the size of the run;
* reminder: the reminders run's planner and worker over overdue invoices (each announced overdue in
  the reminder's transaction), then each email delivered;
* API calls: create customer, create draft, finalize, send, record payment, one request each
  (requests without `Idempotency-Key`; the key look-up cached, as in a warm Lambda).

    python -m benchmarks write_units [--small 5] [--large 500] [--emailed 5]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
from collections.abc import Callable
from datetime import date
from typing import Any

from benchmarks.capacity_units import CapacityMeter, Units

TARGET_WRITES_PER_RECURRING_INVOICE = 30
_ORGANISATION_ONLY = ("ORG#",)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks write_units", description=__doc__)
    parser.add_argument("--small", type=int, default=5, help="subscriptions of the small run (default 5)")
    parser.add_argument("--large", type=int, default=500, help="subscriptions of the large run (default 500)")
    parser.add_argument("--items", action="store_true", help="also the write units by kind of item")
    parser.add_argument(
        "--emailed", type=int, default=5, help="emails delivered and measured per flow (default 5)"
    )
    args = parser.parse_args(argv)
    _environment()
    import boto3
    import botocore.session
    from moto import mock_aws

    from local import moto_patches
    from local.cloudformation import create_tables

    moto_patches.install()
    with mock_aws():
        session = boto3.setup_default_session() or boto3.DEFAULT_SESSION
        if session is None:
            raise RuntimeError("boto3 did not create its default session")
        reader = botocore.session.get_session().create_client("dynamodb", region_name="eu-west-1")
        create_tables(
            boto3.client("dynamodb"),
            {"BillingTable": "remit-billing", "IdempotencyTable": "remit-idempotency"},
        )
        boto3.client("s3").create_bucket(
            Bucket="remit-logos", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        boto3.client("sesv2").create_email_identity(EmailIdentity=os.environ["REMIT_MAIL_FROM"])
        sqs = boto3.client("sqs")
        os.environ["REMIT_BILLING_QUEUE_URL"] = sqs.create_queue(QueueName="remit-billing")["QueueUrl"]
        os.environ["REMIT_REMINDERS_QUEUE_URL"] = sqs.create_queue(QueueName="remit-reminders")["QueueUrl"]
        meter = CapacityMeter(reader)
        meter.register(session.events)
        from remit.bootstrap import reset

        reset()
        # The handlers print their metrics (EMF) to stdout, as Lambda wants; keep the figures readable.
        with contextlib.redirect_stdout(io.StringIO()):
            # First: the run would otherwise also find the recurring invoices below overdue.
            reminder = _reminders(meter, args.emailed)
            small = _recurring(meter, args.small, args.emailed, "2027-03-01")
            large = _recurring(meter, args.large, 0, "2027-03-02")
            calls = _api_calls(meter)

    email = small.email
    rows = [
        (f"recurring invoice, emailed (run of {args.small})", small.issue + email),
        (f"recurring invoice, emailed (run of {args.large})", large.issue + email),
        ("  of which issuing (planner, worker, run)", small.issue),
        ("  of which the email (notifications)", email),
        ("reminder, emailed", reminder),
        *calls,
    ]
    print(f"{'per':<48} {'writes':>7} {'table':>6} {'index':>6} {'reads':>6} {'calls':>5}  index writes")
    for name, units in rows:
        indexes = ", ".join(
            f"{index} {value:.1f}" for index, value in sorted(units.by_index.items()) if value
        )
        print(
            f"{name:<48} {units.writes:7.1f} {units.table_writes:6.1f} {units.index_writes:6.1f} "
            f"{units.reads:6.1f} {units.calls:5d}  {indexes}"
        )
        if args.items:
            kinds = ", ".join(f"{kind} {value:.1f}" for kind, value in sorted(units.by_item.items()) if value)
            print(f"{'':<48} by item: {kinds}")
    if args.items:
        print("largest item written, bytes: " + ", ".join(f"{k} {v}" for k, v in sorted(meter.sizes.items())))
    worst = max((small.issue + email).writes, (large.issue + email).writes)
    verdict = "within" if worst <= TARGET_WRITES_PER_RECURRING_INVOICE else "OVER"
    print(
        f"write units per recurring invoice, emailed: {worst:.1f} "
        f"(target at most {TARGET_WRITES_PER_RECURRING_INVOICE}: {verdict})"
    )
    return 0


def _environment() -> None:
    os.environ.update(
        {
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "REMIT_STAGE": "test",
            "REMIT_BILLING_TABLE": "remit-billing",
            "REMIT_IDEMPOTENCY_TABLE": "remit-idempotency",
            "REMIT_LOGO_BUCKET": "remit-logos",
            "REMIT_PUBLIC_BASE_URL": "https://api.remit.test",
            "REMIT_MAIL_FROM": "billing@remit.test",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)


class _Flow:
    def __init__(self, issue: Units, email: Units) -> None:
        self.issue, self.email = issue, email


def _outbox_messages(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(organisation, message) of the outbox items among `items`, once each, in the order written."""
    found: dict[tuple[str, str], None] = {}
    for item in items:
        if item["SK"]["S"].startswith("OUTBOX#") and item.get("status", {}).get("S") == "pending":
            found[(item["organisation_id"]["S"], item["id"]["S"])] = None
    return list(found)


def _deliver(meter: CapacityMeter, messages: list[tuple[str, str]]) -> Units:
    """The units of delivering each message (claim, read the invoice, mark sent), per message."""
    from remit.bootstrap import services

    if not messages:
        return Units()
    with meter.measuring() as units:
        for organisation_id, message_id in messages:
            outcome = services().notifications.deliver(organisation_id, message_id)
            if outcome != "sent":
                raise RuntimeError(f"the email {message_id} was not sent: {outcome}")
    return units.per(len(messages))


def _recurring(meter: CapacityMeter, count: int, emailed: int, day: str) -> _Flow:
    from remit.bootstrap import services
    from remit.domain.customer import NewCustomer
    from remit.domain.organisation import NewOrganisation
    from remit.domain.subscription import NewSubscription, SubscriptionLine
    from tests.integration.billing_queue import BillingQueue, LambdaContextStub

    account = services().accounts.create_account(f"Recurring {count}").account_id
    organisation = services().organisations.create(
        account, NewOrganisation(name="Acme Ltd", default_currency="EUR")
    )
    line = SubscriptionLine(description="Pro plan", unit_amount=4900)
    for n in range(count):
        customer = services().customers.create(
            account, organisation.id, NewCustomer(name=f"Customer {n}", email=f"c{n}@example.test")
        )
        subscription = services().subscriptions.create(
            account,
            organisation.id,
            NewSubscription(customer_id=customer.id, line_items=[line], start_date=date.fromisoformat(day)),
        )
        services().subscriptions.activate(account, organisation.id, subscription.id)
    from invoicing_cycle.app import lambda_handler as planner

    meter.items_written = []
    with meter.measuring() as issuing:
        planner({"scheduled_time": f"{day}T08:15:00Z"}, LambdaContextStub())
        BillingQueue().drain(rounds=max(20, count))
    runs = services().billing_runs.list_runs(account, organisation.id, 10, None).items
    if [(run.status, run.invoices_created) for run in runs] != [("completed", count)]:
        raise RuntimeError(f"the cycle did not bill the {count} subscriptions in one run: {runs}")
    messages = _outbox_messages(meter.items_written)
    if len(messages) != count:
        raise RuntimeError(f"{len(messages)} emails owed for {count} invoices")
    return _Flow(issuing.per(count), _deliver(meter, messages[:emailed]))


def _reminders(meter: CapacityMeter, count: int) -> Units:
    from remit.bootstrap import services
    from tests.integration.api_client import ApiClient
    from tests.integration.billing_queue import reminders_queue

    api = ApiClient(services().accounts.create_account("Reminders").api_key)
    body = {"name": "Acme Ltd", "default_currency": "EUR", "reminders": {"days_after_due": [7]}}
    base = f"/v1/organisations/{api.post('/v1/organisations', body).json()['id']}"
    customer = api.post(f"{base}/customers", {"name": "Globex", "email": "ap@globex.test"}).json()["id"]
    line = {"description": "Widget", "unit_amount": 10000}
    for _ in range(count):
        draft = api.post(
            f"{base}/invoices", {"customer_id": customer, "line_items": [line], "due_date": "2027-03-31"}
        ).json()
        api.post(f"{base}/invoices/{draft['id']}/send")
    from reminders.app import lambda_handler as planner
    from tests.integration.billing_queue import LambdaContextStub

    meter.items_written = []
    with meter.measuring() as planning:
        planner({"scheduled_time": "2027-04-07T08:45:00Z"}, LambdaContextStub())
        reminders_queue().drain()
    messages = _outbox_messages(meter.items_written)
    if len(messages) != count:
        raise RuntimeError(f"{len(messages)} reminders owed for {count} overdue invoices")
    return planning.per(count) + _deliver(meter, messages)


def _api_calls(meter: CapacityMeter) -> list[tuple[str, Units]]:
    from remit.bootstrap import services
    from tests.integration.api_client import ApiClient

    api = ApiClient(services().accounts.create_account("Calls").api_key)
    org = api.post("/v1/organisations", {"name": "Acme Ltd", "default_currency": "EUR"}).json()["id"]
    base = f"/v1/organisations/{org}"
    customer = api.post(f"{base}/customers", {"name": "Globex", "email": "ap@globex.test"}).json()["id"]
    api.get(f"{base}/customers/{customer}")  # warm: the key and the organisation's owner are cached
    line = {"description": "Widget", "quantity": "2", "unit_amount": 1000}
    rows: list[tuple[str, Units]] = []

    def measure(name: str, action: Callable[[], Any]) -> Any:
        with meter.measuring() as units:
            response = action()
        if not 200 <= response.status < 300:
            raise RuntimeError(f"{name} failed: {response.status} {response.body!r}")
        rows.append((f"API: {name}", units))
        return response

    measure("create customer", lambda: api.post(f"{base}/customers", {"name": "B", "email": "b@b.test"}))
    draft = measure(
        "create draft", lambda: api.post(f"{base}/invoices", {"customer_id": customer, "line_items": [line]})
    ).json()
    measure("finalize", lambda: api.post(f"{base}/invoices/{draft['id']}/finalize"))
    measure("send", lambda: api.post(f"{base}/invoices/{draft['id']}/send"))
    measure(
        "record payment",
        lambda: api.post(f"{base}/invoices/{draft['id']}/payments", {"amount": 500, "method": "cheque"}),
    )
    return rows

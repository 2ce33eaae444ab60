"""Every sample event in `events/api/` runs through the API function as API Gateway would send it.

The recurring-billing and reminders samples (`events/invoicing_cycle/`, `events/billing_worker/`,
`events/reminders/`) are checked to be what the schedules and the queues' event source mappings
send (the local stack builds the same events), and run through their real handlers with their
ids swapped for those of an organisation set up for them. The reminders samples (`events/reminders/`) are
checked to be what the reminders schedule and queue send.
"""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

from local.queue_worker import lambda_record
from local.scheduler import DailySchedule
from tests.integration.api_client import ApiClient, sample_event


def with_organisation(name: str, organisation_id: str) -> dict[str, Any]:
    event = copy.deepcopy(sample_event(name))
    event["path"] = event["path"].replace("ORG_ID", organisation_id)
    event["pathParameters"]["proxy"] = event["path"].lstrip("/")
    return event


def test_the_health_event_answers_ok(api: ApiClient) -> None:
    response = api.invoke(copy.deepcopy(sample_event("health")))

    assert response.status == 200
    assert response.json() == {"status": "ok"}


def test_the_organisation_events_create_and_list(api: ApiClient) -> None:
    created = api.invoke(copy.deepcopy(sample_event("create_organisation")))
    listed = api.invoke(copy.deepcopy(sample_event("list_organisations")))

    assert created.status == 201
    assert created.json()["tax_id"] == "FR40303265045"
    assert [o["id"] for o in listed.json()["data"]] == [created.json()["id"]]


def test_the_customer_events_create_find_and_upload(api: ApiClient) -> None:
    organisation_id = api.invoke(copy.deepcopy(sample_event("create_organisation"))).json()["id"]

    created = api.invoke(with_organisation("create_customer", organisation_id))
    found = api.invoke(with_organisation("find_customer_by_external_id", organisation_id))
    logo = api.invoke(with_organisation("upload_logo", organisation_id))

    assert created.status == 201
    assert found.json()["data"][0]["id"] == created.json()["id"]
    assert logo.status == 200, logo.body
    assert logo.json()["branding"]["logo_url"].endswith(".png")


def test_a_replayed_sample_event_is_idempotent(api: ApiClient) -> None:
    first = api.invoke(copy.deepcopy(sample_event("create_organisation")))
    again = api.invoke(copy.deepcopy(sample_event("create_organisation")))

    assert again.json() == first.json()
    assert len(json.loads(api.invoke(copy.deepcopy(sample_event("list_organisations"))).body)["data"]) == 1


def with_ids(name: str, **ids: str) -> dict[str, Any]:
    return replacing(json.dumps(sample_event(name)), list(ids.items()))


def test_the_invoice_events_draft_finalize_and_pay(api: ApiClient) -> None:
    org = api.invoke(copy.deepcopy(sample_event("create_organisation"))).json()["id"]
    customer = api.invoke(with_organisation("create_customer", org)).json()["id"]

    draft = api.invoke(with_ids("create_invoice", ORG_ID=org, CUSTOMER_ID=customer))
    finalized = api.invoke(with_ids("finalize_invoice", ORG_ID=org, INVOICE_ID=draft.json()["id"]))
    paid = api.invoke(with_ids("record_payment", ORG_ID=org, INVOICE_ID=draft.json()["id"]))

    assert draft.status == 201, draft.body
    assert finalized.json()["number"] == "ACME-00001"
    assert paid.status == 201
    assert paid.json()["amount"] == 10000


EVENTS = Path(__file__).resolve().parents[2] / "events"


def test_the_scheduled_sample_is_what_the_daily_schedule_sends() -> None:
    sample = json.loads((EVENTS / "invoicing_cycle" / "scheduled.json").read_text())
    schedule = DailySchedule.from_template()

    assert sample == schedule.event(schedule.on(date(2027, 2, 1)))


def as_lambda_sends_it(record: dict[str, Any]) -> dict[str, Any]:
    """The SQS record the local queue worker builds (as Lambda does) from the sample's message."""
    message = {
        "MessageId": record["messageId"],
        "ReceiptHandle": record["receiptHandle"],
        "Body": record["body"],
        "Attributes": record["attributes"],
        "MD5OfBody": hashlib.md5(record["body"].encode()).hexdigest(),  # noqa: S324 - SQS's checksum
    }
    built: dict[str, Any] = lambda_record(message, record["eventSourceARN"])
    return built


def replacing(sample: str, replacements: list[tuple[str, str]]) -> dict[str, Any]:
    """The sample event with its placeholder or made-up ids replaced by those set up for it."""
    for old, new in replacements:
        sample = sample.replace(old, new)
    event: dict[str, Any] = json.loads(sample)
    return event


def test_the_billing_worker_sample_is_an_sqs_batch_of_one_subscription_and_one_bulk_message() -> None:
    sample = json.loads((EVENTS / "billing_worker" / "sqs_batch.json").read_text())
    records = sample["Records"]
    bodies = [json.loads(record["body"]) for record in records]

    for record in records:
        assert record == as_lambda_sends_it(record)
        assert record["eventSourceARN"].endswith(":remit-billing")
    assert [body["kind"] for body in bodies] == ["subscription", "bulk"]
    assert set(bodies[0]) == {"kind", "organisation_id", "subscription_id", "run_id", "as_of"}
    assert set(bodies[1]) == {"kind", "organisation_id", "run_id", "customer_ids"}
    assert bodies[0]["organisation_id"].startswith("org_")
    assert bodies[0]["subscription_id"].startswith("sub_")
    assert all(body["run_id"].startswith("brun_") for body in bodies)
    assert date.fromisoformat(bodies[0]["as_of"]) == date(2027, 2, 1)
    assert all(customer.startswith("cus_") for customer in bodies[1]["customer_ids"])


def test_the_reminders_scheduled_sample_is_what_the_reminders_schedule_sends() -> None:
    sample = json.loads((EVENTS / "reminders" / "scheduled.json").read_text())
    schedule = DailySchedule.from_template("RemindersFunction", "Daily")

    assert sample == {"scheduled_time": "2027-02-01T08:45:00Z"}
    assert sample == schedule.event(schedule.on(date(2027, 2, 1)))


def test_the_reminders_sample_is_an_sqs_batch_of_one_invoice_to_remind() -> None:
    sample = json.loads((EVENTS / "reminders" / "sqs_batch.json").read_text())
    [record] = sample["Records"]
    body = json.loads(record["body"])

    assert record == as_lambda_sends_it(record)
    assert record["eventSourceARN"].endswith(":remit-reminders")
    assert set(body) == {"organisation_id", "invoice_id", "customer_id", "date"}
    assert body["organisation_id"].startswith("org_")
    assert body["invoice_id"].startswith("inv_")
    assert body["customer_id"].startswith("cus_")
    assert date.fromisoformat(body["date"]) == date(2027, 2, 1)


def test_the_recurring_billing_samples_bill_through_the_real_handlers(api: ApiClient) -> None:
    from billing_worker.app import lambda_handler as worker
    from invoicing_cycle.app import lambda_handler as planner
    from remit.bootstrap import services
    from tests.integration.billing_queue import BillingQueue, LambdaContextStub, plan_parts

    org = api.post("/v1/organisations", {"name": "Acme Ltd", "default_currency": "EUR"}).json()["id"]
    base = f"/v1/organisations/{org}"
    customer = api.post(f"{base}/customers", {"name": "Globex", "email": "ap@globex.test"}).json()["id"]
    body = {"customer_id": customer, "line_items": [{"description": "Plan", "unit_amount": 4900}]}
    subscription = api.post(f"{base}/subscriptions", {**body, "start_date": "2027-02-01"}).json()["id"]
    api.post(f"{base}/subscriptions/{subscription}/activate")
    bulk = {"customer_ids": [customer], "line_items": body["line_items"], "currency": "EUR"}
    bulk_run = api.post(f"{base}/billing", bulk).json()["id"]
    planner(json.loads((EVENTS / "invoicing_cycle" / "scheduled.json").read_text()), LambdaContextStub())
    plans = plan_parts(BillingQueue(), "plan_cycle", services().billing_cycle.plan_part)
    [cycle_run] = [run for plan in plans for run in plan.runs]
    BillingQueue().purge()  # the sample batch stands for what was queued
    sample = (EVENTS / "billing_worker" / "sqs_batch.json").read_text()
    bodies = [json.loads(record["body"]) for record in json.loads(sample)["Records"]]
    event = replacing(
        sample,
        [
            (bodies[0]["organisation_id"], org),
            (bodies[0]["subscription_id"], subscription),
            (bodies[0]["run_id"], cycle_run.run_id),
            (bodies[1]["run_id"], bulk_run),
            (bodies[1]["customer_ids"][0], customer),
        ],
    )

    response = worker(event, LambdaContextStub())

    assert response == {"batchItemFailures": []}
    invoices = api.get(f"{base}/invoices").json()["data"]
    assert sorted(i["source"] for i in invoices) == ["billing", "subscription"]
    assert api.get(f"{base}/billing_runs/{bulk_run}").json()["status"] == "completed"
    assert api.get(f"{base}/billing_runs/{cycle_run.run_id}").json()["status"] == "completed"


def test_the_reminders_samples_remind_through_the_real_function(api: ApiClient) -> None:
    from reminders.app import lambda_handler
    from remit.bootstrap import services
    from tests.integration.billing_queue import LambdaContextStub, plan_parts, reminders_queue

    org = api.post(
        "/v1/organisations",
        {"name": "Acme Ltd", "default_currency": "EUR", "reminders": {"days_before_due": [3]}},
    ).json()["id"]
    base = f"/v1/organisations/{org}"
    customer = api.post(f"{base}/customers", {"name": "Globex", "email": "ap@globex.test"}).json()["id"]
    body = {
        "customer_id": customer,
        "line_items": [{"description": "W", "unit_amount": 100}],
        "due_date": "2027-02-04",
    }
    invoice = api.post(f"{base}/invoices", body).json()["id"]
    api.post(f"{base}/invoices/{invoice}/finalize")
    lambda_handler(json.loads((EVENTS / "reminders" / "scheduled.json").read_text()), LambdaContextStub())
    plans = plan_parts(reminders_queue(), "plan_reminders", services().reminders.plan_part)
    assert sum(plan.enqueued for plan in plans) == 1
    reminders_queue().purge()  # the sample batch stands for what was queued
    sample = (EVENTS / "reminders" / "sqs_batch.json").read_text()
    [queued] = [json.loads(record["body"]) for record in json.loads(sample)["Records"]]
    event = replacing(
        sample,
        [
            (queued["organisation_id"], org),
            (queued["invoice_id"], invoice),
            (queued["customer_id"], customer),
        ],
    )

    response = lambda_handler(event, LambdaContextStub())

    assert response == {"batchItemFailures": []}
    events = api.get(f"{base}/invoices/{invoice}/events").json()["data"]
    assert [e["data"]["step"] for e in events if e["type"] == "invoice.reminder_sent"] == ["before_3"]


def test_the_plan_part_sample_plans_its_page_through_the_real_billing_worker(api: ApiClient) -> None:
    import zlib

    from billing_worker.app import lambda_handler as worker
    from remit.adapters.due_index import DUE_SHARDS
    from tests.integration.billing_queue import BillingQueue, LambdaContextStub

    org = api.post("/v1/organisations", {"name": "Acme Ltd", "default_currency": "EUR"}).json()["id"]
    base = f"/v1/organisations/{org}"
    customer = api.post(f"{base}/customers", {"name": "Globex", "email": "ap@globex.test"}).json()["id"]
    body = {"customer_id": customer, "line_items": [{"description": "Plan", "unit_amount": 4900}]}
    subscription = api.post(f"{base}/subscriptions", {**body, "start_date": "2027-02-01"}).json()["id"]
    api.post(f"{base}/subscriptions/{subscription}/activate")
    sample = json.loads((EVENTS / "billing_worker" / "plan_part.json").read_text())
    part = json.loads(sample["Records"][0]["body"])
    assert set(part) == {"kind", "scheduled_time", "shard", "after"}
    part["shard"] = zlib.crc32(org.encode()) % DUE_SHARDS  # the organisation's shard
    sample["Records"][0]["body"] = json.dumps(part)

    response = worker(sample, LambdaContextStub())

    assert response == {"batchItemFailures": []}
    [queued] = BillingQueue().bodies()
    assert (queued["kind"], queued["subscription_id"], queued["as_of"]) == (
        "subscription",
        subscription,
        "2027-02-01",
    )

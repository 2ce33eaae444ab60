"""The planners fan out: the scheduled invocation only splits the day, each part plans one page of
its shard from the queue and queues the next page first; a part planned twice (a redelivery, a
duplicate split) records nothing twice and queues no second chain of pages; a part that crashes
midway is planned again by SQS's redelivery with nothing billed twice.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

import pytest

from remit.services.day_planning import PartFailed
from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.billing_queue import (
    BillingQueue,
    LambdaContextStub,
    plan_parts,
    reminders_queue,
)
from tests.integration.conftest import SettableClock
from tests.integration.faults import InjectedCrash, counting_reads, crash_after

PLAN = [{"description": "Pro plan", "unit_amount": 4900}]
SCHEDULED = datetime(2027, 3, 1, 8, 15, tzinfo=UTC)
PAGE = 5  # entries a part plans here (500 by default): a few pages of a handful of messages


@pytest.fixture
def acme(api: ApiClient, clock: SettableClock, monkeypatch: pytest.MonkeyPatch) -> Billing:
    from tests.integration.conftest import reset_remit

    monkeypatch.setenv("REMIT_PLANNER_PAGE_SIZE", str(PAGE))
    reset_remit()
    clock.set("2027-01-20T10:00:00+00:00")
    return Billing(api, invoice_numbering={"prefix": "ACME-"})


def index_entries(organisation_id: str, count: int, day: date, index: str = "DUE", first: int = 0) -> None:
    """`count` entries of the organisation on the work index, dated `day` (written straight to the
    table: the planner reads the index and the organisation, nothing of the items themselves)."""
    from remit.adapters.due_index import due_keys, reminder_keys
    from remit.bootstrap import services

    table = services().billing_runs._store._table
    keys_of, prefix, sk = (due_keys, "sub", "SUB") if index == "DUE" else (reminder_keys, "inv", "INVOICE")
    for n in range(first, first + count):
        item_id = f"{prefix}_{n:05d}"
        table.client.put_item(
            TableName=table.name,
            Item={
                "PK": {"S": f"ORG#{organisation_id}"},
                "SK": {"S": f"{sk}#{item_id}"},
                "customer_id": {"S": "cus_1"},
                **{k: {"S": v} for k, v in keys_of(day, organisation_id, item_id).items()},
            },
        )


def queued(queue: BillingQueue) -> list[dict[str, Any]]:
    """Every message on the queue, each once (out of sight for long enough to read a thousand)."""
    return [json.loads(m["Body"]) for m in queue.receive(visibility=120)]


def test_the_scheduled_planner_only_splits_the_day(acme: Billing) -> None:
    from invoicing_cycle.app import lambda_handler
    from remit.adapters.due_index import DUE_SHARDS

    index_entries(acme.org, 120, date(2027, 3, 1))

    with counting_reads() as read:
        answer = lambda_handler({"scheduled_time": "2027-03-01T08:15:00Z"}, LambdaContextStub())

    messages = queued(BillingQueue())
    assert [m["kind"] for m in messages] == ["plan_cycle"] * DUE_SHARDS
    assert sorted(m["shard"] for m in messages) == list(range(DUE_SHARDS))
    assert {m["after"] for m in messages} == {None}
    assert len(answer["parts"]) == DUE_SHARDS
    assert read["items"] == 0  # it reads nothing of the day


def test_each_part_plans_one_page_and_the_pages_cover_the_day_once(acme: Billing) -> None:
    from remit.bootstrap import services

    index_entries(acme.org, 2 * PAGE + 1, date(2027, 3, 1))
    index_entries(acme.org, 50, date(2027, 6, 1), first=100)  # not due: never read
    services().billing_cycle.split_day(SCHEDULED)

    with counting_reads() as read:
        plans = plan_parts(BillingQueue(), "plan_cycle", services().billing_cycle.plan_part)

    items = [m for m in queued(BillingQueue()) if m["kind"] == "subscription"]
    assert Counter(m["subscription_id"] for m in items) == {f"sub_{n:05d}": 1 for n in range(2 * PAGE + 1)}
    planned = [plan for plan in plans if plan.runs]
    assert sorted(plan.enqueued for plan in planned) == [1, PAGE, PAGE]  # three pages of one shard
    assert [len(plan.runs) for plan in planned] == [1, 1, 1]
    assert {m["run_id"] for m in items} == {run.run_id for plan in planned for run in plan.runs}
    assert read["items"] <= 2 * PAGE + 1 + 3 * 2  # the entries due, an organisation and a marker a page
    assert read["scans"] == 0


def test_a_part_delivered_twice_records_nothing_twice_and_starts_no_second_chain(acme: Billing) -> None:
    from remit.bootstrap import services

    index_entries(acme.org, 2 * PAGE + 1, date(2027, 3, 1))
    cycle = services().billing_cycle
    [first] = [
        part.message()
        for part in cycle.split_day(SCHEDULED)
        if cycle.plan_part(part.message(), f"split-{part.shard}").runs
    ]
    BillingQueue().purge()

    again = cycle.plan_part(first, f"split-{first['shard']}")  # SQS delivers the same message again
    duplicate = cycle.plan_part(first, "a-second-split")  # a duplicate split: another message

    assert again.next_parts  # it queues what it queued before: it may have been lost
    assert duplicate.next_parts == ()  # the page after it is someone else's
    plans = plan_parts(BillingQueue(), "plan_cycle", cycle.plan_part)
    runs = {run.run_id: run.items for plan in [again, duplicate, *plans] for run in plan.runs}
    assert sorted(runs.values()) == [1, PAGE, PAGE]  # three runs, whatever was planned twice
    items = [m for m in queued(BillingQueue()) if m["kind"] == "subscription"]
    assert {m["subscription_id"] for m in items} == {f"sub_{n:05d}" for n in range(2 * PAGE + 1)}
    assert {m["run_id"] for m in items} == set(runs)
    assert cycle.planned(SCHEDULED).enqueued == 2 * PAGE + 1  # each part's record, once


def subscribe(acme: Billing, start_date: str = "2027-01-31") -> str:
    body = {"customer_id": acme.customer, "line_items": PLAN, "start_date": start_date}
    subscription = acme.api.post(f"{acme.base}/subscriptions", body).json()
    assert acme.api.post(f"{acme.base}/subscriptions/{subscription['id']}/activate").status == 200
    return str(subscription["id"])


@pytest.mark.parametrize(
    ("operation", "service", "nth"),
    [
        ("TransactWriteItems", "dynamodb", 1),  # the run and its membership recorded, nothing queued
        ("SendMessageBatch", "sqs", 1),  # the run's items queued
        ("PutItem", "dynamodb", 1),  # all but the part's record of what it planned
    ],
)
def test_a_part_that_crashes_midway_is_planned_again_and_bills_once(
    acme: Billing, operation: str, service: str, nth: int
) -> None:
    from remit.bootstrap import services

    subscriptions = [subscribe(acme), subscribe(acme, "2027-02-01")]
    [part] = [
        part.message()
        for part in services().billing_cycle.split_day(SCHEDULED)
        if part.shard == shard_of(acme.org)
    ]
    BillingQueue().purge()  # the organisation's part is delivered by hand

    # The crash is an exception as far as the part can tell: it fails (PartFailed) or dies with it
    with crash_after(operation, nth=nth, service=service), pytest.raises((InjectedCrash, PartFailed)):
        services().billing_cycle.plan_part(part, "the-part")
    services().billing_cycle.plan_part(part, "the-part")  # SQS delivers it again
    BillingQueue().drain()

    invoices = acme.api.get(f"{acme.base}/invoices?limit=100").json()["data"]
    first, second = subscriptions
    assert sorted((i["subscription_id"], i["period_start"]) for i in invoices) == sorted(
        [(first, "2027-01-31"), (first, "2027-02-28"), (second, "2027-02-01"), (second, "2027-03-01")]
    )
    assert sorted(i["number"] for i in invoices) == [f"ACME-0000{n}" for n in range(1, 5)]
    [run] = acme.api.get(f"{acme.base}/billing_runs").json()["data"]
    assert (run["status"], run["invoices_created"], run["processed"]) == ("completed", 4, 2)
    assert [r.run_id for r in services().billing_cycle.planned(SCHEDULED).runs] == [run["id"]]


def test_reminder_parts_count_each_page_once_on_the_organisations_run(acme: Billing) -> None:
    from remit.bootstrap import services

    index_entries(acme.org, 2 * PAGE + 2, date(2027, 4, 15), index="REMIND")
    reminders = services().reminders
    scheduled = datetime(2027, 4, 15, 8, 45, tzinfo=UTC)
    reminders.split_day(scheduled)
    [first] = [
        json.loads(m["Body"])
        for m in reminders_queue().receive()
        if json.loads(m["Body"])["shard"] == shard_of(acme.org)
    ]
    reminders_queue().purge()
    reminders.plan_part(first, "split")
    reminders.plan_part(first, "split")  # delivered again

    plans = plan_parts(reminders_queue(), "plan_reminders", reminders.plan_part)

    # The second page twice (queued again by the first's delivery again), the third once (one of
    # the second's plannings carries the shard on): each page counted once on the run. (The part
    # after the organisation's lane, planned twice too, finds no other organisation.)
    assert sorted(plan.enqueued for plan in plans if plan.enqueued) == [2, PAGE, PAGE]
    run = reminders.run_of(acme.org, date(2027, 4, 15))
    assert run.invoices == 2 * PAGE + 2
    queued_invoices = Counter(
        m["invoice_id"] for m in queued(reminders_queue()) if m.get("kind") != "plan_reminders"
    )
    assert set(queued_invoices) == {f"inv_{n:05d}" for n in range(2 * PAGE + 2)}
    assert max(queued_invoices.values()) <= 2  # the first page twice (its delivery again), no more


def shard_of(organisation_id: str) -> int:
    """The organisation's shard of both work indexes (they have as many shards)."""
    import zlib

    from remit.adapters.due_index import DUE_SHARDS, REMINDER_SHARDS

    assert DUE_SHARDS == REMINDER_SHARDS
    return zlib.crc32(organisation_id.encode()) % DUE_SHARDS


def test_an_organisation_that_cannot_be_planned_holds_back_no_other_of_its_page(
    acme: Billing, api: ApiClient
) -> None:
    from remit.bootstrap import services
    from tests.integration.faults import fail_before

    # Given two organisations in one shard, with a page of subscriptions due each
    other = Billing(api, invoice_numbering={"prefix": "OTHER-"})
    while shard_of(other.org) != shard_of(acme.org):
        other = Billing(api, invoice_numbering={"prefix": "OTHER-"})
    first, second = sorted([acme, other], key=lambda billing: billing.org)
    index_entries(first.org, 2, date(2027, 3, 1))
    index_entries(second.org, 2, date(2027, 3, 1), first=10)
    [part] = [
        part.message()
        for part in services().billing_cycle.split_day(SCHEDULED)
        if part.shard == shard_of(acme.org)
    ]
    BillingQueue().purge()

    # When recording the first organisation's run fails
    with fail_before("TransactWriteItems", nth=1), pytest.raises(PartFailed, match=first.org):
        services().billing_cycle.plan_part(part, "the-part")

    # Then the other's items are queued all the same, and the part's delivery again queues the first's
    queued_now = [m for m in queued(BillingQueue()) if m["kind"] == "subscription"]
    assert {(m["organisation_id"], m["subscription_id"]) for m in queued_now} == {
        (second.org, "sub_00010"),
        (second.org, "sub_00011"),
    }
    again = services().billing_cycle.plan_part(part, "the-part")
    assert sorted((run.organisation_id, run.items) for run in again.runs) == [(first.org, 2), (second.org, 2)]


@pytest.mark.parametrize("index", ["DUE", "REMIND"])
def test_a_large_organisation_holds_back_the_next_of_its_shard_by_one_page_only(
    acme: Billing, api: ApiClient, index: str
) -> None:
    from remit.bootstrap import services

    # Given a large organisation (six pages due) and, after it in the same shard, a small one
    other = Billing(api, invoice_numbering={"prefix": "OTHER-"})
    while shard_of(other.org) != shard_of(acme.org):
        other = Billing(api, invoice_numbering={"prefix": "OTHER-"})
    large, small = sorted([acme, other], key=lambda billing: billing.org)
    day = date(2027, 3, 1)
    index_entries(large.org, 6 * PAGE, day, index)
    index_entries(small.org, 2, day, index, first=900)
    planner, kind, queue = (
        (services().billing_cycle, "plan_cycle", BillingQueue())
        if index == "DUE"
        else (services().reminders, "plan_reminders", reminders_queue())
    )
    scheduled = SCHEDULED if index == "DUE" else SCHEDULED.replace(minute=45)
    [first] = [p.message() for p in planner.split_day(scheduled) if p.shard == shard_of(large.org)]
    queue.purge()

    # When the shard's first page (all the large organisation's) is planned
    opened = planner.plan_part(first, "first-page")

    # Then it queues a lane for the rest of that organisation's day and the shard's part after it,
    # and that part plans the small organisation at once, before any page of the lane
    lane, after = opened.next_parts
    assert lane.until is not None
    assert after.start is not None
    assert after.after is None
    jumped = planner.plan_part(after.message(), "after-the-large-one")
    assert [(run.organisation_id, run.items if index == "DUE" else run.invoices) for run in jumped.runs] == [
        (small.org, 2)
    ]
    assert jumped.next_parts == ()
    # And a redelivery of the first page queues the same two parts; a duplicate queues none
    assert planner.plan_part(first, "first-page").next_parts == (lane, after)
    assert planner.plan_part(first, "a-duplicate-split").next_parts == ()
    # And the whole day still queues every entry once, over fewer hops than its pages
    queue.purge()
    hops = 0
    pending = [lane.message()]
    while pending:
        plan = planner.plan_part(pending.pop(), f"lane-{hops}")
        hops += 1
        pending += [p.message() for p in plan.next_parts]
    queue_items = [m for m in queued(queue) if m.get("kind") != kind]
    field = "subscription_id" if index == "DUE" else "invoice_id"
    assert len(queue_items) == 5 * PAGE
    assert {m[field] for m in queue_items} == {
        f"{'sub' if index == 'DUE' else 'inv'}_{n:05d}" for n in range(PAGE, 6 * PAGE)
    }
    assert hops == 5


def test_a_days_plan_items_expire_after_sqs_could_deliver_its_parts_again(acme: Billing) -> None:
    import time

    from remit.adapters.due_index import PLANS
    from remit.bootstrap import services

    # Given a day planned in parts
    index_entries(acme.org, 2 * PAGE + 1, date(2027, 3, 1))
    services().billing_cycle.split_day(SCHEDULED)
    plan_parts(BillingQueue(), "plan_cycle", services().billing_cycle.plan_part)

    # Then the plan's markers and records expire by TTL, 30 days on: after SQS's 14 days at most
    table = services().billing_runs._store._table
    items = table.client.scan(TableName=table.name)["Items"]
    plan_items = [item for item in items if item["PK"]["S"].startswith(PLANS)]
    assert {item["SK"]["S"].split("#")[0] for item in plan_items} == {"PAGE", "PART"}
    for item in plan_items:
        days = (int(item["expires_at"]["N"]) - time.time()) / 86400
        assert 14 < days <= 30
    # And no other item but the event log's carries the TTL attribute: nothing of the books expires
    expiring = [item for item in items if not item["PK"]["S"].startswith(PLANS) and "expires_at" in item]
    assert {item.get("entity", {}).get("S") for item in expiring} <= {"event"}
    for item in expiring:
        assert (int(item["expires_at"]["N"]) - time.time()) / 86400 > 30
    ttl = table.client.describe_time_to_live(TableName=table.name)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")

"""The local stack's recurring-billing plumbing: the billing queue and its worker, the daily schedule,
and `POST /_dev/run/invoicing-cycle`, with stand-in handlers (`tests/integration/billing_handlers.py`)
against the moto server, as `make run` wires them.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import boto3
import pytest

from local.autosave import RequestGate, StackStopping
from local.cloudformation import create_queues
from local.dev_billing import InvoicingCycleRoute
from local.dev_routes import dev_routes
from local.environment import (
    BILLING_QUEUE,
    LocalSettings,
    SettingsError,
    export_remit_environment,
    queue_url,
)
from local.http_messages import HttpRequest, HttpResponse
from local.lambda_runtime import LocalFunction
from local.queue_worker import QueueMapping, QueueWorker
from local.scheduler import DailySchedule, Scheduler
from tests.clocks import SettableClock
from tests.integration import billing_handlers
from tests.integration.billing_handlers import Script
from tests.integration.daily_runs import at, invalid_date_bodies

pytestmark = pytest.mark.concurrency

WAIT_SECONDS = 30.0  # an upper bound for things that take milliseconds; never reached when all is well


@pytest.fixture
def script() -> Script:
    return billing_handlers.reset()


@dataclass
class Queues:
    sqs: Any
    billing_url: str
    billing_name: str
    dead_letter_url: str

    def send(self, body: dict[str, Any], **attributes: Any) -> str:
        message_id: str = self.sqs.send_message(
            QueueUrl=self.billing_url, MessageBody=json.dumps(body), **attributes
        )["MessageId"]
        return message_id

    def dead_letters(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self.sqs.receive_message(
            QueueUrl=self.dead_letter_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        return messages


@pytest.fixture
def queues(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Queues:
    """The template's billing queue and its dead-letter queue, under names of this test's own."""
    suffix = uuid.uuid4().hex[:8]
    sqs = boto3.client("sqs", endpoint_url=moto_server, region_name="eu-west-1")
    names = {
        "BillingQueue": f"{BILLING_QUEUE}-{suffix}",
        "BillingDeadLetterQueue": f"{BILLING_QUEUE}-dlq-{suffix}",
    }
    urls = create_queues(sqs, names)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("REMIT_BILLING_QUEUE_URL", urls["BillingQueue"])
    return Queues(sqs, urls["BillingQueue"], names["BillingQueue"], urls["BillingDeadLetterQueue"])


class Changes:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


@pytest.fixture
def start_worker(queues: Queues, script: Script) -> Iterator[Callable[..., QueueWorker]]:
    """Starts a queue worker on the test's queue with the stand-in worker; stops it after the test."""
    started: list[QueueWorker] = []

    def start(
        gate: RequestGate | None = None, on_change: Callable[[], None] | None = None, retry_seconds: int = 0
    ) -> QueueWorker:
        worker = QueueWorker(
            LocalFunction(
                "remit-billing-worker", "tests.integration.billing_handlers.worker", timeout_seconds=60
            ),
            lambda: queues.sqs,
            queues.billing_name,
            gate or RequestGate(),
            on_change or Changes(),
            retry_delay=lambda receive_count: retry_seconds,
        )
        worker.start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


# ---------------------------------------------------------------------------------------------
# The queues, from the template


def test_the_billing_queue_is_created_as_the_template_defines_it(queues: Queues, moto_server: str) -> None:
    attributes = queues.sqs.get_queue_attributes(QueueUrl=queues.billing_url, AttributeNames=["All"])[
        "Attributes"
    ]
    dead_letter_arn = queues.sqs.get_queue_attributes(
        QueueUrl=queues.dead_letter_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]

    assert attributes["VisibilityTimeout"] == "360"
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": dead_letter_arn,
        "maxReceiveCount": 5,
    }
    assert queues.billing_url == queue_url(moto_server, queues.billing_name)


def test_the_environment_gives_remit_the_billing_queue_and_keeps_the_users_period_limit() -> None:
    environ = {"REMIT_MAX_PERIODS_PER_RUN": " 3 "}
    export_remit_environment("http://127.0.0.1:5000", "http://127.0.0.1:3000", environ)
    unset: dict[str, str] = {"REMIT_MAX_PERIODS_PER_RUN": ""}
    export_remit_environment("http://127.0.0.1:5000", "http://127.0.0.1:3000", unset)

    assert environ["REMIT_BILLING_QUEUE_URL"] == "http://127.0.0.1:5000/123456789012/remit-billing"
    assert environ["REMIT_MAX_PERIODS_PER_RUN"] == "3"
    assert "REMIT_MAX_PERIODS_PER_RUN" not in unset


@pytest.mark.parametrize("value", ["0", "-1", "twelve", "1.5"])
def test_a_period_limit_that_is_not_a_positive_number_stops_the_stack(value: str) -> None:
    with pytest.raises(SettingsError, match="REMIT_MAX_PERIODS_PER_RUN"):
        LocalSettings.from_environ({"REMIT_MAX_PERIODS_PER_RUN": value})


def test_the_worker_mapping_is_read_from_the_template() -> None:
    assert QueueMapping.from_template() == QueueMapping(batch_size=10, report_batch_item_failures=True)


# ---------------------------------------------------------------------------------------------
# The queue worker


def test_the_worker_gets_lambdas_sqs_event_and_handled_messages_are_deleted(
    queues: Queues, script: Script, start_worker: Callable[..., QueueWorker]
) -> None:
    first = queues.send(
        {"kind": "subscription", "n": 1},
        MessageAttributes={"origin": {"DataType": "String", "StringValue": "planner"}},
    )
    second = queues.send({"kind": "bulk", "n": 2})
    changes = Changes()

    worker = start_worker(on_change=changes)

    assert worker.wait_until_drained(WAIT_SECONDS)
    [record] = script.records_of(first)
    queue_arn = queues.sqs.get_queue_attributes(QueueUrl=queues.billing_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    assert json.loads(record["body"]) == {"kind": "subscription", "n": 1}
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == queue_arn
    assert record["awsRegion"] == "eu-west-1"
    assert record["receiptHandle"]
    assert len(record["md5OfBody"]) == 32
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
    assert record["messageAttributes"]["origin"]["stringValue"] == "planner"
    assert record["messageAttributes"]["origin"]["dataType"] == "String"
    assert len(script.records_of(second)) == 1
    assert changes.count >= 1
    assert queues.dead_letters() == []


def test_a_message_reported_as_failed_comes_back_and_then_succeeds(
    queues: Queues, script: Script, start_worker: Callable[..., QueueWorker]
) -> None:
    flaky = queues.send({"n": "flaky"})
    steady = queues.send({"n": "steady"})
    attempts: dict[str, int] = {}

    def fail_flaky_once(records: list[dict[str, Any]]) -> list[str]:
        failed = []
        for record in records:
            attempts[record["messageId"]] = attempts.get(record["messageId"], 0) + 1
            if record["messageId"] == flaky and attempts[flaky] == 1:
                failed.append(flaky)
        return failed

    script.worker = fail_flaky_once
    worker = start_worker()

    assert worker.wait_until_drained(WAIT_SECONDS)
    assert [record["attributes"]["ApproximateReceiveCount"] for record in script.records_of(flaky)] == [
        "1",
        "2",
    ]
    assert len(script.records_of(steady)) == 1
    assert queues.dead_letters() == []


def test_a_worker_that_raises_fails_the_whole_batch(
    queues: Queues, script: Script, start_worker: Callable[..., QueueWorker]
) -> None:
    sent = {queues.send({"n": n}) for n in range(3)}
    invocations = 0

    def raise_first_time(records: list[dict[str, Any]]) -> list[str]:
        nonlocal invocations
        invocations += 1
        if invocations == 1:
            raise RuntimeError("the billing worker crashed")
        return []

    script.worker = raise_first_time
    worker = start_worker()

    assert worker.wait_until_drained(WAIT_SECONDS)
    first_batch = {record["messageId"] for record in script.worker_batches[0]}
    # Every message of the failed batch came back, and was then handled.
    for message_id in first_batch:
        assert len(script.records_of(message_id)) == 2
    assert {record["messageId"] for batch in script.worker_batches for record in batch} == sent
    assert queues.dead_letters() == []


def test_a_message_failing_every_receive_goes_to_the_dead_letter_queue_after_max_receive_count(
    queues: Queues, script: Script, start_worker: Callable[..., QueueWorker]
) -> None:
    poison = queues.send({"n": "poison"})
    script.worker = lambda records: [record["messageId"] for record in records]

    worker = start_worker()

    assert worker.wait_until_drained(WAIT_SECONDS)
    assert [record["attributes"]["ApproximateReceiveCount"] for record in script.records_of(poison)] == [
        "1",
        "2",
        "3",
        "4",
        "5",
    ]
    [dead] = queues.dead_letters()
    assert json.loads(dead["Body"]) == {"n": "poison"}


def test_a_reported_id_that_was_not_in_the_batch_fails_the_whole_batch(
    queues: Queues, script: Script, start_worker: Callable[..., QueueWorker]
) -> None:
    message = queues.send({"n": 1})
    calls = 0

    def name_a_stranger_once(records: list[dict[str, Any]]) -> list[str]:
        nonlocal calls
        calls += 1
        return ["not-a-message-of-this-batch"] if calls == 1 else []

    script.worker = name_a_stranger_once
    worker = start_worker()

    assert worker.wait_until_drained(WAIT_SECONDS)
    assert len(script.records_of(message)) == 2


# ---------------------------------------------------------------------------------------------
# The request gate: a request can step out while it waits for work done under the gate


def test_a_request_that_steps_outside_the_gate_lets_a_waiting_snapshot_run() -> None:
    gate = RequestGate()
    snapshot_ran = threading.Event()

    def snapshot() -> None:
        with gate.exclusive():
            snapshot_ran.set()

    with gate.request():
        saver = threading.Thread(target=snapshot)
        saver.start()
        with gate.outside():
            assert snapshot_ran.wait(WAIT_SECONDS)
        saver.join()
    assert gate.close(timeout=1)


def test_stepping_outside_without_a_request_changes_nothing_and_a_closed_gate_is_reported() -> None:
    gate = RequestGate()
    with gate.outside():
        pass

    with pytest.raises(StackStopping), gate.request(), gate.outside():
        assert gate.close(timeout=1)  # the request is outside: nothing to wait for
    # Stepping back in was balanced by the request's end.
    assert gate.close(timeout=0)


# ---------------------------------------------------------------------------------------------
# The daily schedule


def test_the_schedule_is_read_from_the_template() -> None:
    schedule = DailySchedule.from_template()

    assert (schedule.hour, schedule.minute, schedule.maximum_retry_attempts) == (8, 15, 3)
    assert schedule.event(schedule.on(date(2027, 2, 1))) == {"scheduled_time": "2027-02-01T08:15:00Z"}


@pytest.mark.parametrize(
    ("now", "latest", "following"),
    [
        ("2027-02-01T08:14:59", "2027-01-31T08:15:00", "2027-02-01T08:15:00"),
        ("2027-02-01T08:15:00", "2027-02-01T08:15:00", "2027-02-02T08:15:00"),
        ("2027-02-01T23:59:59", "2027-02-01T08:15:00", "2027-02-02T08:15:00"),
        ("2027-02-28T09:00:00", "2027-02-28T08:15:00", "2027-03-01T08:15:00"),
    ],
)
def test_the_schedule_fires_at_its_time_each_day(now: str, latest: str, following: str) -> None:
    schedule = DailySchedule.from_expression("cron(15 8 * * ? *)")

    assert schedule.latest_at_or_before(at(now)) == at(latest)
    assert schedule.next_after(at(now)) == at(following)


@pytest.mark.parametrize(
    ("expression", "timezone"),
    [
        ("rate(1 day)", "UTC"),
        ("cron(15 8 ? * MON *)", "UTC"),
        ("cron(0/15 8 * * ? *)", "UTC"),
        ("cron(15 24 * * ? *)", "UTC"),
        ("cron(15 8 * * ? *)", "Europe/Paris"),
    ],
)
def test_a_schedule_the_local_scheduler_cannot_follow_is_refused(expression: str, timezone: str) -> None:
    with pytest.raises(ValueError, match=r"local scheduler|time of day"):
        DailySchedule.from_expression(expression, timezone)


@pytest.fixture
def start_scheduler(script: Script) -> Iterator[Callable[..., Scheduler]]:
    started: list[Scheduler] = []

    def start(clock: SettableClock, **options: Any) -> Scheduler:
        scheduler = Scheduler(
            LocalFunction(
                "remit-invoicing-cycle", "tests.integration.billing_handlers.planner", timeout_seconds=300
            ),
            RequestGate(),
            Changes(),
            schedule=options.pop("schedule", DailySchedule.from_template()),
            clock=clock.now,
            check_seconds=0.01,
            first_retry_seconds=0,
            **options,
        )
        scheduler.start()
        started.append(scheduler)
        return scheduler

    yield start
    for scheduler in started:
        scheduler.stop()


def fired(script: Script, count: int) -> list[str]:
    """The scheduled times of the planner's first `count` invocations, once there are that many."""
    while True:
        assert script.planner_called.wait(WAIT_SECONDS)
        with script.lock:
            script.planner_called.clear()
            if len(script.planner_events) >= count:
                return [event["scheduled_time"] for event in script.planner_events]


def test_a_stack_started_after_todays_time_plans_today_at_once(
    script: Script, start_scheduler: Callable[..., Scheduler]
) -> None:
    scheduler = start_scheduler(SettableClock("2027-02-01T17:40:00"))

    assert fired(script, 1) == ["2027-02-01T08:15:00Z"]
    assert scheduler.next_fire() == at("2027-02-02T08:15:00")


def test_a_stack_started_before_todays_time_waits_for_it(
    script: Script, start_scheduler: Callable[..., Scheduler]
) -> None:
    clock = SettableClock("2027-02-01T08:14:00")
    scheduler = start_scheduler(clock)
    assert scheduler.next_fire() == at("2027-02-01T08:15:00")

    clock.current = at("2027-02-01T08:15:00")
    scheduler.wake()

    # Had the start planned yesterday, its invocation would come first.
    assert fired(script, 1) == ["2027-02-01T08:15:00Z"]


def test_days_missed_while_the_machine_slept_are_planned_once_for_the_latest(
    script: Script, start_scheduler: Callable[..., Scheduler]
) -> None:
    clock = SettableClock("2027-02-01T09:00:00")
    scheduler = start_scheduler(clock)
    assert fired(script, 1) == ["2027-02-01T08:15:00Z"]

    clock.current = at("2027-02-04T10:00:00")
    scheduler.wake()

    assert fired(script, 2) == ["2027-02-01T08:15:00Z", "2027-02-04T08:15:00Z"]
    assert scheduler.next_fire() == at("2027-02-05T08:15:00")


def test_a_failing_cycle_is_retried_as_the_template_says_then_dead_lettered(
    script: Script, start_scheduler: Callable[..., Scheduler]
) -> None:
    script.planner_failures = 10
    dead_letters: list[dict[str, Any]] = []
    dead_lettered = threading.Event()

    def dead_letter(event: dict[str, Any]) -> None:
        dead_letters.append(event)
        dead_lettered.set()

    start_scheduler(SettableClock("2027-02-01T09:00:00"), dead_letters=dead_letter)

    assert dead_lettered.wait(WAIT_SECONDS)
    # One invocation and the template's 3 retries.
    assert [event["scheduled_time"] for event in script.planner_events] == ["2027-02-01T08:15:00Z"] * 4
    assert dead_letters == [{"scheduled_time": "2027-02-01T08:15:00Z"}]


# ---------------------------------------------------------------------------------------------
# POST /_dev/run/invoicing-cycle


def post(route: InvoicingCycleRoute, body: bytes) -> HttpResponse:
    request = HttpRequest("POST", "/_dev/run/invoicing-cycle", "", [], body, "127.0.0.1")
    return dev_routes(invoicing_cycle=route).handle(request)


def make_route(
    worker: QueueWorker,
    gate: RequestGate | None = None,
    read_run: Callable[[str, str], dict[str, Any]] | None = None,
) -> InvoicingCycleRoute:
    return InvoicingCycleRoute(
        LocalFunction(
            "remit-invoicing-cycle", "tests.integration.billing_handlers.planner", timeout_seconds=300
        ),
        worker,
        gate or RequestGate(),
        DailySchedule.from_template(),
        **({"read_run": read_run} if read_run else {}),
        # The stand-in answers the runs itself (it stands for the planner and the parts it queues).
        read_plan=lambda report: list(report.get("runs", [])),
    )


@pytest.mark.parametrize(
    ("body", "status"),
    invalid_date_bodies("2027-02-01T08:15:00Z"),
)
def test_the_dev_route_refuses_a_body_without_a_date(body: bytes, status: int, script: Script) -> None:
    worker = QueueWorker(
        LocalFunction("remit-billing-worker", "tests.integration.billing_handlers.worker"),
        lambda: pytest.fail("no queue is needed to refuse a request"),
        BILLING_QUEUE,
        RequestGate(),
        Changes(),
        mapping=QueueMapping(batch_size=10, report_batch_item_failures=True),
    )

    response = post(make_route(worker), body)

    assert response.status == status
    problem = json.loads(response.body)
    assert problem["status"] == status
    if status == 422:
        assert [error["field"] for error in problem["errors"]] == ["date"]
    assert script.planner_events == []


def test_the_dev_route_runs_the_days_cycle_and_answers_once_the_queue_is_drained(
    queues: Queues, script: Script, start_worker: Callable[..., QueueWorker]
) -> None:
    script.planned_messages = [{"kind": "subscription", "n": n} for n in range(4)]
    script.planned_runs = [
        {"organisation_id": "org_a", "run_id": "brun_a", "items": 3},
        {"organisation_id": "org_b", "run_id": "brun_b", "items": 1},
    ]
    failed_once: set[str] = set()

    def fail_each_first_delivery_of_an_odd_message(records: list[dict[str, Any]]) -> list[str]:
        failed = [
            record["messageId"]
            for record in records
            if json.loads(record["body"])["n"] % 2 and record["messageId"] not in failed_once
        ]
        failed_once.update(failed)
        return failed

    script.worker = fail_each_first_delivery_of_an_odd_message
    runs = {
        ("org_a", "brun_a"): {"id": "brun_a", "invoices_created": 2, "skipped": 1, "errors": [{"x": 1}]},
        ("org_b", "brun_b"): {"id": "brun_b", "invoices_created": 1, "skipped": 0, "errors": []},
    }
    gate = RequestGate()
    route = make_route(start_worker(gate=gate), gate, read_run=lambda org, run: runs[(org, run)])
    route.drain_timeout_seconds = WAIT_SECONDS
    snapshot_taken = threading.Event()

    def snapshot() -> None:
        with gate.exclusive():
            snapshot_taken.set()

    # As the front calls it: inside a request, while a snapshot waits for the requests to end
    # (the worker's invocations must not wait behind that snapshot while the route waits for them).
    with gate.request():
        saver = threading.Thread(target=snapshot)
        saver.start()
        response = post(route, b'{"date": "2027-02-01"}')
    saver.join()

    assert response.status == 200, response.body
    assert json.loads(response.body) == {
        "date": "2027-02-01",
        "issued": 3,
        "skipped": 1,
        "failed": 1,
        "runs": [runs[("org_a", "brun_a")], runs[("org_b", "brun_b")]],
    }
    assert script.planner_events == [{"scheduled_time": "2027-02-01T08:15:00Z"}]
    # Answered only once every message was handled, the failed ones on their second delivery.
    delivered = [json.loads(record["body"])["n"] for batch in script.worker_batches for record in batch]
    assert sorted(delivered) == [0, 1, 1, 2, 3, 3]
    assert snapshot_taken.is_set()


def test_the_dev_route_gives_up_with_504_when_the_queue_is_not_drained_in_time(
    queues: Queues, script: Script, start_worker: Callable[..., QueueWorker]
) -> None:
    script.planned_messages = [{"n": 1}]
    script.worker = lambda records: [record["messageId"] for record in records]
    route = make_route(start_worker(retry_seconds=60))
    route.drain_timeout_seconds = 0.5

    response = post(route, b'{"date": "2027-02-01"}')

    assert response.status == 504
    assert json.loads(response.body)["status"] == 504


def test_the_dev_route_answers_503_when_the_stack_stops_while_it_waits(
    queues: Queues, script: Script, start_worker: Callable[..., QueueWorker]
) -> None:
    script.planned_messages = [{"n": 1}]
    script.worker = lambda records: [record["messageId"] for record in records]
    route = make_route(start_worker(retry_seconds=60))
    route.stop()

    response = post(route, b'{"date": "2027-02-01"}')

    assert response.status == 503

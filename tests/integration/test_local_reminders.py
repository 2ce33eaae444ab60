"""The local stack's reminders plumbing: the reminders queues, the queue worker feeding the reminders
function, its daily schedule (after the invoicing cycle's) and `POST /_dev/run/reminders`, with a
stand-in handler (`tests/integration/reminders_handlers.py`) against the moto server, as `make run`
wires them.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.__main__ import _print_banner
from local.autosave import RequestGate
from local.cloudformation import create_queues
from local.dev_accounts import DevAccount
from local.dev_reminders import RemindersRoute
from local.dev_routes import dev_routes
from local.environment import QUEUES, REMINDERS_QUEUE, export_remit_environment, queue_url
from local.http_messages import HttpRequest, HttpResponse
from local.lambda_runtime import LocalFunction
from local.queue_worker import QueueMapping, QueueWorker
from local.scheduler import DailySchedule, Scheduler
from local.stack import (
    REMINDERS_FUNCTION,
    REMINDERS_QUEUE_EVENT,
    REMINDERS_SCHEDULE_EVENT,
    RunningStack,
)
from tests.clocks import SettableClock
from tests.integration import reminders_handlers
from tests.integration.daily_runs import at, invalid_date_bodies
from tests.integration.reminders_handlers import Script

pytestmark = pytest.mark.concurrency

WAIT_SECONDS = 30.0  # an upper bound for things that take milliseconds; never reached when all is well
HANDLER = "tests.integration.reminders_handlers.reminders"


@pytest.fixture
def script() -> Script:
    return reminders_handlers.reset()


def reminders_function() -> LocalFunction:
    return LocalFunction("remit-reminders", HANDLER, timeout_seconds=120, memory_limit_in_mb=256)


def reminders_mapping() -> QueueMapping:
    return QueueMapping.from_template(REMINDERS_FUNCTION, REMINDERS_QUEUE_EVENT)


def reminders_schedule() -> DailySchedule:
    return DailySchedule.from_template(REMINDERS_FUNCTION, REMINDERS_SCHEDULE_EVENT)


@dataclass
class Queues:
    sqs: Any
    reminders_url: str
    reminders_name: str
    dead_letter_url: str
    schedule_dead_letter_url: str

    def send(self, body: dict[str, Any]) -> str:
        message_id: str = self.sqs.send_message(QueueUrl=self.reminders_url, MessageBody=json.dumps(body))[
            "MessageId"
        ]
        return message_id

    def dead_letters(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self.sqs.receive_message(
            QueueUrl=self.dead_letter_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        return messages


@pytest.fixture
def queues(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Queues:
    """The template's reminders queues, under names of this test's own."""
    suffix = uuid.uuid4().hex[:8]
    sqs = boto3.client("sqs", endpoint_url=moto_server, region_name="eu-west-1")
    names = {
        logical_id: f"{QUEUES[logical_id]}-{suffix}"
        for logical_id in ("RemindersQueue", "RemindersDeadLetterQueue", "RemindersScheduleDeadLetterQueue")
    }
    urls = create_queues(sqs, names)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("REMIT_REMINDERS_QUEUE_URL", urls["RemindersQueue"])
    return Queues(
        sqs,
        urls["RemindersQueue"],
        names["RemindersQueue"],
        urls["RemindersDeadLetterQueue"],
        urls["RemindersScheduleDeadLetterQueue"],
    )


@pytest.fixture
def start_worker(queues: Queues, script: Script) -> Iterator[Callable[..., QueueWorker]]:
    """Starts a queue worker on the test's reminders queue with the stand-in; stops it after the test."""
    started: list[QueueWorker] = []

    def start(gate: RequestGate | None = None, retry_seconds: int = 0) -> QueueWorker:
        worker = QueueWorker(
            reminders_function(),
            lambda: queues.sqs,
            queues.reminders_name,
            gate or RequestGate(),
            lambda: None,
            mapping=reminders_mapping(),
            retry_delay=lambda receive_count: retry_seconds,
        )
        worker.start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


# ---------------------------------------------------------------------------------------------
# The queues, the environment and the mapping, from the template


def test_the_reminders_queues_are_created_as_the_template_defines_them(
    queues: Queues, moto_server: str
) -> None:
    attributes = queues.sqs.get_queue_attributes(QueueUrl=queues.reminders_url, AttributeNames=["All"])[
        "Attributes"
    ]
    dead_letter_arn = queues.sqs.get_queue_attributes(
        QueueUrl=queues.dead_letter_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    schedule_dead_letters = queues.sqs.get_queue_attributes(
        QueueUrl=queues.schedule_dead_letter_url, AttributeNames=["All"]
    )["Attributes"]

    assert attributes["VisibilityTimeout"] == "720"  # 6 times the function's 120 s
    assert attributes["SqsManagedSseEnabled"] == "true"
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": dead_letter_arn,
        "maxReceiveCount": 5,
    }
    assert schedule_dead_letters["MessageRetentionPeriod"] == "1209600"
    assert queues.reminders_url == queue_url(moto_server, queues.reminders_name)


def test_the_stack_names_the_reminders_queues_and_gives_remit_the_queue_url() -> None:
    environ: dict[str, str] = {}
    export_remit_environment("http://127.0.0.1:5000", "http://127.0.0.1:3000", environ)

    assert (
        QUEUES["RemindersQueue"],
        QUEUES["RemindersDeadLetterQueue"],
        QUEUES["RemindersScheduleDeadLetterQueue"],
    ) == ("remit-reminders", "remit-reminders-dlq", "remit-reminders-schedule-dlq")
    assert REMINDERS_QUEUE == "remit-reminders"
    assert environ["REMIT_REMINDERS_QUEUE_URL"] == "http://127.0.0.1:5000/123456789012/remit-reminders"


def test_the_reminders_mapping_and_schedule_are_read_from_the_template() -> None:
    schedule = reminders_schedule()

    assert reminders_mapping() == QueueMapping(batch_size=10, report_batch_item_failures=True)
    assert (schedule.hour, schedule.minute, schedule.maximum_retry_attempts) == (8, 45, 3)
    assert schedule.event(schedule.on(date(2027, 2, 1))) == {"scheduled_time": "2027-02-01T08:45:00Z"}


# ---------------------------------------------------------------------------------------------
# The queue worker feeding the reminders function


def test_the_worker_feeds_the_reminders_queue_to_the_reminders_function(
    queues: Queues, script: Script, start_worker: Callable[..., QueueWorker]
) -> None:
    body = {"organisation_id": "org_a", "invoice_id": "inv_a", "customer_id": "cus_a", "date": "2027-02-01"}
    flaky = queues.send(body)
    steady = queues.send({**body, "invoice_id": "inv_b"})
    failed_once: set[str] = set()

    def fail_flaky_once(records: list[dict[str, Any]]) -> list[str]:
        failed = [r["messageId"] for r in records if r["messageId"] == flaky and flaky not in failed_once]
        failed_once.update(failed)
        return failed

    script.sender = fail_flaky_once

    worker = start_worker()

    assert worker.wait_until_drained(WAIT_SECONDS)
    deliveries = [record for batch in script.batches for record in batch]
    assert [r["attributes"]["ApproximateReceiveCount"] for r in deliveries if r["messageId"] == flaky] == [
        "1",
        "2",
    ]
    assert len([r for r in deliveries if r["messageId"] == steady]) == 1
    assert json.loads(deliveries[0]["body"]) == body
    assert deliveries[0]["eventSourceARN"].endswith(f":{queues.reminders_name}")
    assert script.plans() == []  # the SQS trigger never reaches the planning side
    assert queues.dead_letters() == []


def test_a_reminder_failing_every_receive_goes_to_the_reminders_dead_letter_queue(
    queues: Queues, script: Script, start_worker: Callable[..., QueueWorker]
) -> None:
    queues.send({"invoice_id": "inv_poison"})
    script.sender = lambda records: [record["messageId"] for record in records]

    worker = start_worker()

    assert worker.wait_until_drained(WAIT_SECONDS)
    assert len(script.batches) == 5
    [dead] = queues.dead_letters()
    assert json.loads(dead["Body"]) == {"invoice_id": "inv_poison"}


# ---------------------------------------------------------------------------------------------
# The daily schedule, after the invoicing cycle's


@pytest.fixture
def start_schedulers(script: Script) -> Iterator[Callable[..., tuple[Scheduler, Scheduler]]]:
    """Starts the invoicing cycle's scheduler (with a stand-in cycle) and the reminders' after it."""
    started: list[Scheduler] = []

    def start(
        clock: SettableClock, *, start_cycle: bool = True, **options: Any
    ) -> tuple[Scheduler, Scheduler]:
        cycle = Scheduler(
            LocalFunction("remit-invoicing-cycle", "tests.integration.reminders_handlers.cycle"),
            RequestGate(),
            lambda: None,
            schedule=DailySchedule.from_template(),
            clock=clock.now,
            check_seconds=0.01,
            first_retry_seconds=0,
        )
        reminders = Scheduler(
            reminders_function(),
            RequestGate(),
            lambda: None,
            schedule=reminders_schedule(),
            clock=clock.now,
            check_seconds=0.01,
            first_retry_seconds=0,
            label="reminders plan",
            after=cycle,
            **options,
        )
        if start_cycle:
            cycle.start()
            started.append(cycle)
        reminders.start()
        started.insert(0, reminders)
        return cycle, reminders

    yield start
    script.cycle_may_return.set()
    for scheduler in started:
        scheduler.stop()


def test_a_stack_started_after_both_times_plans_todays_reminders_once_todays_cycle_has_run(
    queues: Queues, script: Script, start_schedulers: Callable[..., tuple[Scheduler, Scheduler]]
) -> None:
    _, reminders = start_schedulers(SettableClock("2027-02-01T10:00:00"))

    assert script.wait_for(1, WAIT_SECONDS) == [("cycle", "2027-02-01T08:15:00Z")]
    # The cycle is still running: the reminders wait for it (they poll every 0.1 s).
    assert not script.called.wait(0.3)
    script.cycle_may_return.set()

    assert script.wait_for(2, WAIT_SECONDS) == [
        ("cycle", "2027-02-01T08:15:00Z"),
        ("plan", "2027-02-01T08:45:00Z"),
    ]
    assert reminders.next_fire() == at("2027-02-02T08:45:00")


def test_reminders_fire_at_0845_not_with_the_cycle_at_0815(
    queues: Queues, script: Script, start_schedulers: Callable[..., tuple[Scheduler, Scheduler]]
) -> None:
    script.cycle_may_return.set()
    clock = SettableClock("2027-02-01T08:00:00")
    cycle, reminders = start_schedulers(clock)
    assert reminders.next_fire() == at("2027-02-01T08:45:00")

    clock.current = at("2027-02-01T08:30:00")
    cycle.wake()
    assert script.wait_for(1, WAIT_SECONDS) == [("cycle", "2027-02-01T08:15:00Z")]
    assert script.plans() == []

    clock.current = at("2027-02-01T08:45:00")
    reminders.wake()
    assert script.wait_for(2, WAIT_SECONDS)[1] == ("plan", "2027-02-01T08:45:00Z")


def test_days_missed_while_asleep_plan_the_latest_days_reminders_after_its_cycle(
    queues: Queues, script: Script, start_schedulers: Callable[..., tuple[Scheduler, Scheduler]]
) -> None:
    script.cycle_may_return.set()
    clock = SettableClock("2027-02-01T09:00:00")
    cycle, reminders = start_schedulers(clock)
    assert [call[1] for call in script.wait_for(2, WAIT_SECONDS)] == [
        "2027-02-01T08:15:00Z",
        "2027-02-01T08:45:00Z",
    ]

    clock.current = at("2027-02-04T10:00:00")
    reminders.wake()  # woken first, it still waits for the cycle of the same day
    cycle.wake()

    assert script.wait_for(4, WAIT_SECONDS)[2:] == [
        ("cycle", "2027-02-04T08:15:00Z"),
        ("plan", "2027-02-04T08:45:00Z"),
    ]


def test_a_failing_plan_is_retried_as_the_template_says_then_dead_lettered(
    queues: Queues, script: Script, start_schedulers: Callable[..., tuple[Scheduler, Scheduler]]
) -> None:
    script.cycle_may_return.set()
    script.planner_failures = 10
    dead_lettered = threading.Event()
    dead_letters: list[dict[str, Any]] = []

    def dead_letter(event: dict[str, Any]) -> None:
        dead_letters.append(event)
        dead_lettered.set()

    start_schedulers(SettableClock("2027-02-01T09:00:00"), dead_letters=dead_letter)

    assert dead_lettered.wait(WAIT_SECONDS)
    assert script.plans() == ["2027-02-01T08:45:00Z"] * 4  # one invocation and the template's 3 retries
    assert dead_letters == [{"scheduled_time": "2027-02-01T08:45:00Z"}]


def test_reminders_do_not_wait_for_a_cycle_scheduler_that_is_not_running(
    queues: Queues, script: Script, start_schedulers: Callable[..., tuple[Scheduler, Scheduler]]
) -> None:
    start_schedulers(SettableClock("2027-02-01T09:00:00"), start_cycle=False)

    assert script.wait_for(1, WAIT_SECONDS) == [("plan", "2027-02-01T08:45:00Z")]


# ---------------------------------------------------------------------------------------------
# POST /_dev/run/reminders


def post(route: RemindersRoute | None, body: bytes, method: str = "POST") -> HttpResponse:
    request = HttpRequest(method, "/_dev/run/reminders", "", [], body, "127.0.0.1")
    return dev_routes(reminders=route).handle(request)


def make_route(
    worker: QueueWorker,
    gate: RequestGate | None = None,
    read_run: Callable[[str, date], dict[str, Any]] | None = None,
) -> RemindersRoute:
    return RemindersRoute(
        reminders_function(),
        worker,
        gate or RequestGate(),
        reminders_schedule(),
        **({"read_run": read_run} if read_run else {}),
        # The stand-in answers the runs itself (it stands for the planner and the parts it queues).
        read_plan=lambda report: list(report.get("runs", [])),
    )


def idle_worker() -> QueueWorker:
    return QueueWorker(
        reminders_function(),
        lambda: pytest.fail("no queue is needed here"),
        REMINDERS_QUEUE,
        RequestGate(),
        lambda: None,
        mapping=QueueMapping(batch_size=10, report_batch_item_failures=True),
    )


@pytest.mark.parametrize(
    ("body", "status"),
    invalid_date_bodies("2027-02-01T08:45:00Z"),
)
def test_the_dev_route_refuses_a_body_without_a_date(body: bytes, status: int, script: Script) -> None:
    response = post(make_route(idle_worker()), body)

    assert response.status == status
    problem = json.loads(response.body)
    assert problem["status"] == status
    if status == 422:
        assert [error["field"] for error in problem["errors"]] == ["date"]
    assert script.calls == []


def test_the_dev_route_is_only_served_when_the_stack_gives_it(script: Script) -> None:
    assert post(None, b'{"date": "2027-02-01"}').status == 404
    assert post(make_route(idle_worker()), b"", method="GET").status == 405


def test_the_dev_route_answers_503_when_the_reminders_worker_is_not_running(script: Script) -> None:
    response = post(make_route(idle_worker()), b'{"date": "2027-02-01"}')

    assert response.status == 503
    assert json.loads(response.body)["type"].endswith("reminders-unavailable")
    assert script.calls == []


def test_the_dev_route_plans_the_day_and_answers_the_runs_once_the_queue_is_drained(
    queues: Queues, script: Script, start_worker: Callable[..., QueueWorker]
) -> None:
    script.planned_messages = [{"invoice_id": f"inv_{n}", "n": n} for n in range(4)]
    script.planned_runs = [
        {"organisation_id": "org_a", "date": "2027-02-01", "invoices": 3},
        {"organisation_id": "org_b", "date": "2027-02-01", "invoices": 1},
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

    script.sender = fail_each_first_delivery_of_an_odd_message
    runs = {
        "org_a": {
            "organisation_id": "org_a",
            "date": "2027-02-01",
            "invoices": 3,
            "sent": 2,
            "skipped": {"paid": 1},
        },
        "org_b": {
            "organisation_id": "org_b",
            "date": "2027-02-01",
            "invoices": 1,
            "sent": 0,
            "skipped": {"paid": 1, "customer_opted_out": 1},
        },
    }
    asked: list[tuple[str, date]] = []

    def read_run(organisation_id: str, day: date) -> dict[str, Any]:
        asked.append((organisation_id, day))
        return runs[organisation_id]

    gate = RequestGate()
    route = make_route(start_worker(gate=gate), gate, read_run=read_run)
    route.drain_timeout_seconds = WAIT_SECONDS
    snapshot_taken = threading.Event()

    def snapshot() -> None:
        with gate.exclusive():
            snapshot_taken.set()

    # As the front calls it: inside a request, while a snapshot waits for the requests to end.
    with gate.request():
        saver = threading.Thread(target=snapshot)
        saver.start()
        response = post(route, b'{"date": "2027-02-01"}')
    saver.join()

    assert response.status == 200, response.body
    assert json.loads(response.body) == {
        "date": "2027-02-01",
        "sent": 2,
        "skipped": {"paid": 2, "customer_opted_out": 1},
        "runs": [runs["org_a"], runs["org_b"]],
    }
    assert script.plans() == ["2027-02-01T08:45:00Z"]
    assert asked == [("org_a", date(2027, 2, 1)), ("org_b", date(2027, 2, 1))]
    # Answered only once every message was handled, the failed ones on their second delivery.
    delivered = [json.loads(record["body"])["n"] for batch in script.batches for record in batch]
    assert sorted(delivered) == [0, 1, 1, 2, 3, 3]
    assert snapshot_taken.is_set()


def test_the_dev_route_gives_up_with_504_when_the_queue_is_not_drained_in_time(
    queues: Queues, script: Script, start_worker: Callable[..., QueueWorker]
) -> None:
    script.planned_messages = [{"n": 1}]
    script.sender = lambda records: [record["messageId"] for record in records]
    route = make_route(start_worker(retry_seconds=60))
    route.drain_timeout_seconds = 0.5

    response = post(route, b'{"date": "2027-02-01"}')

    assert response.status == 504
    assert json.loads(response.body)["type"].endswith("reminders-timeout")


def test_the_dev_route_answers_503_when_the_stack_stops_while_it_waits(
    queues: Queues, script: Script, start_worker: Callable[..., QueueWorker]
) -> None:
    script.planned_messages = [{"n": 1}]
    script.sender = lambda records: [record["messageId"] for record in records]
    route = make_route(start_worker(retry_seconds=60))
    route.stop()

    response = post(route, b'{"date": "2027-02-01"}')

    assert response.status == 503
    assert json.loads(response.body)["type"].endswith("stack-stopping")


# ---------------------------------------------------------------------------------------------
# The stack: loading the function, and the banner


def test_the_banner_gives_the_reminders_time_and_route_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    running = RunningStack(
        base_url="http://127.0.0.1:3000",
        aws_endpoint_url="http://127.0.0.1:5000",
        data_dir=tmp_path,
        dev_account=DevAccount("acct_x", "key", created=False),
        restored=None,
        daily_cycle="08:15 UTC",
        daily_reminders="08:45 UTC",
    )

    _print_banner(running, 1.0)
    [line] = [line for line in capsys.readouterr().out.splitlines() if "reminders" in line]
    _print_banner(RunningStack(**{**running.__dict__, "daily_reminders": None}), 1.0)

    assert "08:45 UTC" in line
    assert "http://127.0.0.1:3000/_dev/run/reminders" in line
    assert "reminders" not in capsys.readouterr().out

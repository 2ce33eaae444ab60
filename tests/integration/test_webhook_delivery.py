"""Delivering stored events to endpoints on a loopback receiver: fan-out, retries with backoff
through the queue, the attempt log, failing endpoints told once, resend, and redelivered messages.

The service runs with the real sender (signed POSTs over loopback) and in-memory stores; the
queue is a list the test drains, moving the clock to each message's due time, as SQS would.
"""

from __future__ import annotations

import base64
import ipaddress
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from remit.adapters.webhook_sender import WebhookSender
from remit.domain.deliveries import MAX_ATTEMPTS, DeliveryAttempt, DeliveryOrder, total_retry_window
from remit.domain.errors import ConcurrentUpdate, InvalidInput, NotFound
from remit.domain.events import Event, EventObject
from remit.domain.pagination import Page
from remit.domain.webhook_addresses import IPAddress
from remit.domain.webhooks import SigningSecret, WebhookEndpoint
from remit.services.webhook_delivery import WebhookDeliveryService
from tests.clocks import SettableClock
from tests.integration.webhook_receiver import Receiver, running_receiver

ORG = "org_1"
ACCOUNT = "acc_1"
SECRET = "whsec_" + base64.b64encode(b"delivery-tests-secret-32-bytes!!").decode()


class Endpoints:
    def __init__(self) -> None:
        self.items: dict[str, WebhookEndpoint] = {}

    def add(self, endpoint: WebhookEndpoint) -> None:
        self.items[endpoint.id] = endpoint

    def get(self, organisation_id: str, endpoint_id: str) -> WebhookEndpoint | None:
        found = self.items.get(endpoint_id)
        return found if found and found.organisation_id == organisation_id else None

    def list(self, organisation_id: str) -> list[WebhookEndpoint]:
        return [e for e in self.items.values() if e.organisation_id == organisation_id]

    def enabled_for(self, organisation_id: str, event_type: str) -> list[WebhookEndpoint]:
        return [e for e in self.list(organisation_id) if e.status != "disabled" and e.wants(event_type)]

    def save(self, endpoint: WebhookEndpoint) -> WebhookEndpoint:
        if self.items[endpoint.id].version != endpoint.version:
            raise ConcurrentUpdate()
        saved = endpoint.model_copy(update={"version": endpoint.version + 1})
        self.items[endpoint.id] = saved
        return saved

    def delete(self, endpoint: WebhookEndpoint) -> None:
        del self.items[endpoint.id]


class Events:
    def __init__(self) -> None:
        self.items: dict[str, Event] = {}

    def get(self, organisation_id: str, event_id: str) -> Event | None:
        return self.items.get(event_id)

    def add(self, event: Event) -> None:
        self.items[event.id] = event

    def list_events(
        self,
        organisation_id: str,
        limit: int,
        cursor: str | None,
        *,
        created_gte: datetime | None = None,
        created_lt: datetime | None = None,
        **filters: object,
    ) -> Page[Event]:
        matching = [
            e
            for e in sorted(self.items.values(), key=lambda e: (e.created_at, e.id))
            if (created_gte is None or e.created_at >= created_gte)
            and (created_lt is None or e.created_at < created_lt)
        ]
        start = int(cursor or 0)
        page = matching[start : start + limit]
        more = start + limit < len(matching)
        return Page(page, str(start + limit) if more else None)


class Log:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str, str, int], DeliveryAttempt] = {}

    def record(self, delivery_id: str, attempt: DeliveryAttempt) -> bool:
        key = (attempt.organisation_id, attempt.endpoint_id, delivery_id, attempt.attempt)
        if key in self.items:
            return False
        self.items[key] = attempt
        return True

    def recorded(
        self, organisation_id: str, endpoint_id: str, delivery_id: str, attempt: int
    ) -> DeliveryAttempt | None:
        return self.items.get((organisation_id, endpoint_id, delivery_id, attempt))

    def list(
        self, organisation_id: str, endpoint_id: str, limit: int, cursor: str | None
    ) -> Page[DeliveryAttempt]:
        attempts = [a for a in self.items.values() if a.endpoint_id == endpoint_id]
        return Page(sorted(attempts, key=lambda a: a.started_at, reverse=True)[:limit], None)


@dataclass
class Queue:
    clock: SettableClock
    pending: list[tuple[datetime, DeliveryOrder]] = field(default_factory=list)
    delays: list[int] = field(default_factory=list)

    def send(self, orders: Sequence[DeliveryOrder], *, delay_seconds: int = 0) -> None:
        assert 0 <= delay_seconds <= 900
        self.delays.append(delay_seconds)
        visible = self.clock.now() + timedelta(seconds=delay_seconds)
        self.pending += [(visible, order) for order in orders]

    def take(self) -> DeliveryOrder | None:
        """The next message to become visible, the clock moved to when it does."""
        if not self.pending:
            return None
        self.pending.sort(key=lambda pair: pair[0])
        visible, order = self.pending.pop(0)
        self.clock.current = max(self.clock.current, visible)
        return order


@dataclass
class Alerts:
    told: list[str] = field(default_factory=list)

    def endpoint_failing(self, endpoint: WebhookEndpoint) -> None:
        self.told.append(endpoint.id)


class Access:
    def require_access(self, account_id: str, organisation_id: str) -> None:
        if (account_id, organisation_id) != (ACCOUNT, ORG):
            raise NotFound("organisation", organisation_id)


@dataclass
class World:
    receiver: Receiver
    clock: SettableClock
    endpoints: Endpoints
    events: Events
    log: Log
    queue: Queue
    alerts: Alerts
    service: WebhookDeliveryService

    def endpoint(self, endpoint_id: str, path: str, *, patterns: Sequence[str] = ("*",)) -> WebhookEndpoint:
        now = self.clock.now()
        endpoint = WebhookEndpoint(
            id=endpoint_id,
            organisation_id=ORG,
            url=self.receiver.url(path),
            enabled_events=list(patterns),
            secrets=[SigningSecret(secret=SECRET)],
            created_at=now,
            updated_at=now,
        )
        self.endpoints.add(endpoint)
        return endpoint

    def event(self, event_id: str, event_type: str = "invoice.finalized", sequence: int = 1) -> Event:
        event = Event(
            id=event_id,
            organisation_id=ORG,
            type=event_type,
            created_at=self.clock.now(),
            object=EventObject(type=event_type.split(".")[0], id="inv_1", sequence=sequence),
            data={"id": "inv_1", "status": "open"},
        )
        self.events.items[event.id] = event
        return event

    def drain(self, limit: int = 1000) -> list[DeliveryAttempt]:
        done = []
        for _ in range(limit):
            order = self.queue.take()
            if order is None:
                break
            attempt = self.service.deliver(order)
            if attempt is not None:
                done.append(attempt)
        return done


@pytest.fixture
def world() -> Iterator[World]:
    with running_receiver() as receiver:
        clock = SettableClock(datetime.now(UTC).replace(microsecond=0))
        endpoints, events, log, alerts = Endpoints(), Events(), Log(), Alerts()
        queue = Queue(clock)
        service = WebhookDeliveryService(
            endpoints=endpoints,
            events=events,
            log=log,
            queue=queue,
            poster=WebhookSender(allow_http_loopback=True, timeout_seconds=1.0),
            alerts=alerts,
            access=Access(),
            clock=clock,
        )
        yield World(receiver, clock, endpoints, events, log, queue, alerts, service)


def test_every_event_reaches_each_endpoint_that_wants_it_signed(world: World) -> None:
    world.endpoint("we_all", "/all")
    world.endpoint("we_payments", "/payments", patterns=["payment.*"])
    first = world.event("evt_1", "invoice.finalized")
    second = world.event("evt_2", "payment.succeeded")

    world.service.fan_out(first)
    world.service.fan_out(second)
    attempts = world.drain()

    assert len(attempts) == 3
    assert all(a.succeeded for a in attempts)
    assert [r.headers["webhook-id"] for r in world.receiver.to("/all")] == ["evt_1", "evt_2"]
    assert [r.headers["webhook-id"] for r in world.receiver.to("/payments")] == ["evt_2"]
    for request in world.receiver.requests:
        delivered = Webhook(SECRET).verify(request.body, request.headers)
        assert delivered["object"]["sequence"] == 1
        assert delivered["id"] == request.headers["webhook-id"]


def test_a_test_event_reaches_its_one_endpoint_signed_and_fan_out_sends_it_nowhere(world: World) -> None:
    world.endpoint("we_tested", "/tested", patterns=["invoice.*"])
    world.endpoint("we_other", "/other")

    order = world.service.send_test("acc_1", ORG, "we_tested")
    stored = world.events.items[order.event_id]
    fanned = world.service.fan_out(stored)  # as the stream would, on the stored event
    attempts = world.drain()

    assert fanned == []
    assert (stored.type, stored.object.type, stored.object.id) == (
        "webhook_endpoint.test",
        "webhook_endpoint",
        "we_tested",
    )
    assert [(a.endpoint_id, a.event_id, a.succeeded) for a in attempts] == [
        ("we_tested", order.event_id, True)
    ]
    (request,) = world.receiver.to("/tested")
    assert Webhook(SECRET).verify(request.body, request.headers)["type"] == "webhook_endpoint.test"
    assert world.receiver.to("/other") == []


def test_a_test_event_to_an_unknown_endpoint_is_refused_and_stores_nothing(world: World) -> None:
    with pytest.raises(NotFound):
        world.service.send_test("acc_1", ORG, "we_missing")

    assert world.events.items == {}
    assert world.queue.take() is None


def test_a_failing_endpoint_is_retried_on_schedule_then_marked_failing_and_told_once(world: World) -> None:
    world.endpoint("we_broken", "/fail")
    world.endpoint("we_fine", "/fine")
    started = world.clock.now()

    world.service.fan_out(world.event("evt_1"))
    attempts = world.drain()

    broken = [a for a in attempts if a.endpoint_id == "we_broken"]
    assert [a.attempt for a in broken] == list(range(1, MAX_ATTEMPTS + 1))
    assert all(a.status_code == 500 and a.response_head == "internal error" for a in broken)
    assert broken[-1].started_at - started == total_retry_window()
    assert len(world.receiver.to("/fine")) == 1  # the other endpoint got it once, at once
    assert max(world.queue.delays) == 900  # long waits are covered a queue delay at a time
    assert world.endpoints.items["we_broken"].status == "failing"
    assert world.endpoints.items["we_broken"].failing_since == world.clock.now()
    assert world.endpoints.items["we_fine"].status == "enabled"
    assert world.alerts.told == ["we_broken"]
    for request in world.receiver.to("/fail"):  # every retry signed anew, for its own timestamp
        timestamp = datetime.fromtimestamp(int(request.headers["webhook-timestamp"]), UTC)
        expected = Webhook(SECRET).sign(request.headers["webhook-id"], timestamp, request.body)
        assert expected in request.headers["webhook-signature"].split(" ")

    world.service.fan_out(world.event("evt_2"))
    world.drain()
    assert world.alerts.told == ["we_broken"]  # still failing: not told again


def test_an_endpoint_that_answers_again_is_no_longer_failing(world: World) -> None:
    endpoint = world.endpoint("we_back", "/fine")
    world.endpoints.items[endpoint.id] = endpoint.model_copy(
        update={"status": "failing", "failing_since": world.clock.now()}
    )

    world.service.fan_out(world.event("evt_1"))
    [attempt] = world.drain()

    assert attempt.succeeded
    assert world.endpoints.items["we_back"].status == "enabled"
    assert world.endpoints.items["we_back"].failing_since is None


def test_a_message_delivered_twice_posts_once(world: World) -> None:
    world.endpoint("we_1", "/fine")
    [order] = world.service.fan_out(world.event("evt_1"))

    first = world.service.deliver(order)
    again = world.service.deliver(order)

    assert first is not None
    assert again == first
    assert len(world.receiver.requests) == 1
    assert world.log.items
    assert len(world.log.items) == 1


def test_a_redelivered_failed_attempt_queues_its_successor_again_but_posts_once(world: World) -> None:
    world.endpoint("we_1", "/fail")
    [order] = world.service.fan_out(world.event("evt_1"))
    world.queue.pending.clear()

    world.service.deliver(order)
    world.service.deliver(order)  # as if the handler died after logging, before its message was deleted

    assert len(world.receiver.requests) == 1
    assert [o.attempt for _, o in world.queue.pending] == [2, 2]


def test_a_message_read_early_goes_back_for_the_time_left(world: World) -> None:
    world.endpoint("we_1", "/fine")
    [order] = world.service.fan_out(world.event("evt_1"))
    world.queue.pending.clear()
    later = order.model_copy(update={"due_at": world.clock.now() + timedelta(hours=2)})

    assert world.service.deliver(later) is None
    assert world.receiver.requests == []
    assert world.queue.delays[-1] == 900


def test_disabled_or_deleted_endpoints_and_expired_events_are_not_posted(world: World) -> None:
    disabled = world.endpoint("we_off", "/fine")
    world.endpoint("we_gone", "/fine")
    event = world.event("evt_1")
    orders = world.service.fan_out(event)
    world.endpoints.items["we_off"] = disabled.model_copy(update={"status": "disabled"})
    del world.endpoints.items["we_gone"]

    assert [world.service.deliver(order) for order in orders] == [None, None]

    world.endpoint("we_on", "/fine")
    [order] = world.service.fan_out(event)
    del world.events.items["evt_1"]
    assert world.service.deliver(order) is None
    assert world.receiver.requests == []


def test_resend_posts_the_event_again_as_a_new_delivery(world: World) -> None:
    world.endpoint("we_1", "/fine")
    event = world.event("evt_1")
    world.service.fan_out(event)
    world.drain()

    order = world.service.resend(ACCOUNT, ORG, "evt_1", "we_1")
    world.drain()

    assert order.attempt == 1
    assert [r.headers["webhook-id"] for r in world.receiver.requests] == ["evt_1", "evt_1"]
    assert len(world.service.attempts(ACCOUNT, ORG, "we_1", 10, None).items) == 2
    with pytest.raises(NotFound):
        world.service.resend(ACCOUNT, ORG, "evt_missing", "we_1")
    with pytest.raises(NotFound):
        world.service.resend(ACCOUNT, ORG, "evt_1", "we_missing")
    with pytest.raises(NotFound):
        world.service.attempts(ACCOUNT, "org_other", "we_1", 10, None)
    with pytest.raises(NotFound):
        world.service.resend("acc_other", ORG, "evt_1", "we_1")
    assert world.queue.pending == []


def test_a_timeout_and_a_redirect_are_logged_as_failed_attempts(world: World) -> None:
    world.receiver.slow_seconds = 3.0
    world.endpoint("we_slow", "/slow")
    world.endpoint("we_moved", "/redirect")

    world.service.fan_out(world.event("evt_1"))
    first_round = [world.service.deliver(order) for order in _take_all(world)]

    by_endpoint = {a.endpoint_id: a for a in first_round if a is not None}
    assert by_endpoint["we_slow"].error == "timed out after 1 s"
    assert by_endpoint["we_slow"].status_code is None
    assert by_endpoint["we_moved"].status_code == 302
    assert not by_endpoint["we_moved"].succeeded
    assert sorted(o.endpoint_id for _, o in world.queue.pending) == ["we_moved", "we_slow"]
    assert all(o.attempt == 2 for _, o in world.queue.pending)
    assert json.loads(world.receiver.to("/redirect")[0].body)["id"] == "evt_1"


def _take_all(world: World) -> list[DeliveryOrder]:
    orders = [order for _, order in world.queue.pending]
    world.queue.pending.clear()
    return orders


class FailingOnce(Log):
    """An attempt log whose first write fails, as DynamoDB may."""

    def __init__(self) -> None:
        super().__init__()
        self.failed = False

    def record(self, delivery_id: str, attempt: DeliveryAttempt) -> bool:
        if not self.failed:
            self.failed = True
            raise ConnectionError("DynamoDB unreachable")
        return super().record(delivery_id, attempt)


def test_a_log_write_that_fails_leaves_the_message_to_be_delivered_again_and_nothing_is_lost(
    world: World,
) -> None:
    world.endpoint("we_1", "/fail")
    log = FailingOnce()
    service = WebhookDeliveryService(
        endpoints=world.endpoints,
        events=world.events,
        log=log,
        queue=world.queue,
        poster=WebhookSender(allow_http_loopback=True, timeout_seconds=1.0),
        alerts=world.alerts,
        access=Access(),
        clock=world.clock,
    )
    [order] = service.fan_out(world.event("evt_1"))
    world.queue.pending.clear()

    with pytest.raises(ConnectionError):
        service.deliver(order)
    assert world.queue.pending == []  # no successor without the attempt logged
    again = service.deliver(order)  # SQS delivers the message again

    assert again is not None
    assert again.status_code == 500
    assert len(world.receiver.requests) == 2  # at least once: posted again, never dropped
    assert [o.attempt for _, o in world.queue.pending] == [2]


class Rebinding:
    """A host that resolved to loopback when the endpoint was saved, and to a private address now."""

    def resolve(self, host: str) -> list[IPAddress]:
        return [ipaddress.ip_address("10.1.2.3")]


def test_an_endpoint_whose_host_now_resolves_privately_is_refused_at_delivery_and_retried(
    world: World,
) -> None:
    endpoint = world.endpoint("we_1", "/fine")
    world.endpoints.items["we_1"] = endpoint.model_copy(
        update={"url": f"http://localhost:{world.receiver.port}/fine"}
    )
    service = WebhookDeliveryService(
        endpoints=world.endpoints,
        events=world.events,
        log=world.log,
        queue=world.queue,
        poster=WebhookSender(allow_http_loopback=True, timeout_seconds=1.0, resolver=Rebinding()),
        alerts=world.alerts,
        access=Access(),
        clock=world.clock,
    )
    [order] = service.fan_out(world.event("evt_1"))
    world.queue.pending.clear()

    attempt = service.deliver(order)

    assert attempt is not None
    assert not attempt.succeeded
    assert attempt.error is not None
    assert "10.1.2.3" in attempt.error
    assert world.receiver.requests == []
    assert [o.attempt for _, o in world.queue.pending] == [2]


def test_replay_queues_the_range_s_wanted_events_oldest_first_and_refuses_an_empty_range(
    world: World,
) -> None:
    world.endpoint("we_inv", "/fine", patterns=["invoice.*"])
    start = world.clock.now()
    for n in range(250):
        world.event(f"evt_{n:04d}", "payment.succeeded" if n % 5 == 0 else "invoice.finalized")
        world.clock.advance(seconds=1)
    end = world.clock.now()
    world.event("evt_after")

    queued = world.service.replay(ACCOUNT, ORG, "we_inv", start + timedelta(seconds=10), end)

    assert queued.queued == 192  # 240 in range, less one in five (payments)
    assert queued.continue_from is None
    event_ids = [o.event_id for _, o in world.queue.pending]
    assert event_ids == sorted(event_ids)
    assert event_ids[0] == "evt_0011"
    assert "evt_after" not in event_ids
    assert len({o.delivery_id for _, o in world.queue.pending}) == 192
    with pytest.raises(InvalidInput, match="created_lt"):
        world.service.replay(ACCOUNT, ORG, "we_inv", end, start)
    with pytest.raises(NotFound):
        world.service.replay("acc_other", ORG, "we_inv", start, end)
    assert len(world.queue.pending) == 192


def test_a_replay_past_its_limit_says_where_the_next_one_starts(world: World) -> None:
    service = WebhookDeliveryService(
        endpoints=world.endpoints,
        events=world.events,
        log=world.log,
        queue=world.queue,
        poster=WebhookSender(allow_http_loopback=True),
        alerts=world.alerts,
        access=Access(),
        clock=world.clock,
        max_replay=30,
    )
    world.endpoint("we_all", "/fine")
    start = world.clock.now()
    for n in range(50):
        world.event(f"evt_{n:04d}")
        world.clock.advance(seconds=1)

    queued = service.replay(ACCOUNT, ORG, "we_all", start, world.clock.now())

    assert queued.queued == 30
    assert queued.continue_from == world.events.items["evt_0030"].created_at
    assert [o.event_id for _, o in world.queue.pending] == [f"evt_{n:04d}" for n in range(30)]

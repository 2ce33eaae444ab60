"""Delivering events to webhook endpoints: the fan-out of each stored event to one queued attempt
per endpoint that wants it, each attempt, its retries, and an endpoint's failing for good.

At least once, never dropped: an attempt's message is done only after the attempt is logged and,
when it failed, its successor queued; a message delivered again posts nothing already logged (the
log is keyed by delivery and attempt) and queues the successor again if need be. So an endpoint
may receive an event twice (receivers deduplicate by `webhook-id`), never zero times while it is
being retried.
"""

from __future__ import annotations

import html
import logging
from datetime import datetime
from typing import Protocol

from remit.domain.deliveries import (
    MAX_ATTEMPTS,
    DeliveryAttempt,
    DeliveryOrder,
    ReplayQueued,
    queue_delay,
    retry_delay,
    total_retry_window,
)
from remit.domain.documents import OutgoingEmail
from remit.domain.errors import ConcurrentUpdate, InvalidInput, NotFound
from remit.domain.events import TEST_EVENT_TYPE, Event, EventObject
from remit.domain.ids import new_id
from remit.domain.pagination import Page
from remit.domain.retry import retry_on_conflict
from remit.domain.webhooks import WebhookEndpoint
from remit.ports.clock import Clock
from remit.ports.deliveries import DeliveryLog, DeliveryQueue, FailingEndpointAlerts, WebhookPoster
from remit.ports.events import EventLog
from remit.ports.mail import Mailer
from remit.ports.organisations import OrganisationRepository
from remit.ports.webhooks import EndpointRepository

logger = logging.getLogger(__name__)

#: Events one replay queues at most; the answer's `continue_from` starts the next one.
MAX_REPLAY = 5000
_REPLAY_PAGE = 100


class OrganisationAccess(Protocol):
    def require_access(self, account_id: str, organisation_id: str) -> object:
        """`NotFound` unless the organisation is the account's."""
        ...


class WebhookDeliveryService:
    def __init__(
        self,
        *,
        endpoints: EndpointRepository,
        events: EventLog,
        log: DeliveryLog,
        queue: DeliveryQueue,
        poster: WebhookPoster,
        alerts: FailingEndpointAlerts,
        access: OrganisationAccess,
        clock: Clock,
        max_replay: int = MAX_REPLAY,
    ) -> None:
        self._access = access
        self._max_replay = max_replay
        self._endpoints = endpoints
        self._events = events
        self._log = log
        self._queue = queue
        self._poster = poster
        self._alerts = alerts
        self._clock = clock

    def fan_out(self, event: Event) -> list[DeliveryOrder]:
        """Queue the first attempt of `event` to every endpoint of its organisation that wants it and
        is not disabled; returns the orders queued. Raises if the queue refuses (the caller retries:
        a second fan-out of one event queues its orders again, and endpoints deduplicate)."""
        if event.type == TEST_EVENT_TYPE:
            return []  # queued by `send_test` to its one endpoint
        orders = [
            DeliveryOrder(
                organisation_id=event.organisation_id,
                endpoint_id=endpoint.id,
                event_id=event.id,
                delivery_id=_delivery_id(event.id, endpoint.id),
            )
            for endpoint in self._endpoints.enabled_for(event.organisation_id, event.type)
        ]
        self._queue.send(orders)
        return orders

    def resend(self, account_id: str, organisation_id: str, event_id: str, endpoint_id: str) -> DeliveryOrder:
        """Queue event `event_id` to the endpoint again, as a new delivery starting at attempt 1
        (a disabled endpoint's is dropped when it comes up). `NotFound` for an organisation not the
        account's, or an unknown event or endpoint; nothing is queued then."""
        self._access.require_access(account_id, organisation_id)
        if self._events.get(organisation_id, event_id) is None:
            raise NotFound("event", event_id)
        if self._endpoints.get(organisation_id, endpoint_id) is None:
            raise NotFound("webhook endpoint", endpoint_id)
        order = DeliveryOrder(
            organisation_id=organisation_id,
            endpoint_id=endpoint_id,
            event_id=event_id,
            delivery_id=new_id("wdl", self._clock.now()),
        )
        self._queue.send([order])
        return order

    def send_test(self, account_id: str, organisation_id: str, endpoint_id: str) -> DeliveryOrder:
        """Store a `webhook_endpoint.test` event about the endpoint and queue it to that endpoint only,
        as any delivery (signed, logged, retried). `NotFound` for an organisation not the account's
        or an unknown endpoint; nothing is stored or queued then."""
        self._access.require_access(account_id, organisation_id)
        endpoint = self._endpoints.get(organisation_id, endpoint_id)
        if endpoint is None:
            raise NotFound("webhook endpoint", endpoint_id)
        now = self._clock.now()
        event = Event(
            id=new_id("evt", now),
            organisation_id=organisation_id,
            type=TEST_EVENT_TYPE,
            created_at=now,
            object=EventObject(type="webhook_endpoint", id=endpoint.id, sequence=endpoint.version),
            data={"id": endpoint.id, "url": endpoint.url, "message": "A test event sent from Remit."},
        )
        self._events.add(event)
        order = DeliveryOrder(
            organisation_id=organisation_id,
            endpoint_id=endpoint.id,
            event_id=event.id,
            delivery_id=_delivery_id(event.id, endpoint.id),
        )
        self._queue.send([order])
        return order

    def replay(
        self,
        account_id: str,
        organisation_id: str,
        endpoint_id: str,
        created_gte: datetime,
        created_lt: datetime,
    ) -> ReplayQueued:
        """Queue again, to the endpoint, every event created in [`created_gte`, `created_lt`) that the
        endpoint wants, oldest first, each as a new delivery; at most `MAX_REPLAY` in one call (then
        `continue_from` says where the next call starts). `NotFound` for an organisation not the
        account's or an unknown endpoint; `InvalidInput` naming `created_lt` for an empty range."""
        self._access.require_access(account_id, organisation_id)
        if created_lt <= created_gte:
            raise InvalidInput.single("created_lt", "must be later than created_gte")
        endpoint = self._endpoints.get(organisation_id, endpoint_id)
        if endpoint is None:
            raise NotFound("webhook endpoint", endpoint_id)
        now = self._clock.now()
        queued = 0
        cursor: str | None = None
        while True:
            page = self._events.list_events(
                organisation_id, _REPLAY_PAGE, cursor, created_gte=created_gte, created_lt=created_lt
            )
            wanted = [event for event in page.items if endpoint.wants(event.type)]
            room = self._max_replay - queued
            self._queue.send(
                [
                    DeliveryOrder(
                        organisation_id=organisation_id,
                        endpoint_id=endpoint_id,
                        event_id=event.id,
                        delivery_id=new_id("wdl", now),
                    )
                    for event in wanted[:room]
                ]
            )
            queued += min(room, len(wanted))
            if len(wanted) > room:
                # Events created in the same millisecond as this one may come again: receivers
                # deduplicate by `webhook-id`.
                return ReplayQueued(queued=queued, continue_from=wanted[room].created_at)
            cursor = page.next_cursor
            if cursor is None:
                return ReplayQueued(queued=queued, continue_from=None)

    def attempts(
        self, account_id: str, organisation_id: str, endpoint_id: str, limit: int, cursor: str | None
    ) -> Page[DeliveryAttempt]:
        """The endpoint's attempt log, newest first (kept 30 days). `NotFound` for an organisation
        not the account's or an unknown endpoint; `InvalidInput` naming `cursor` for a bad cursor."""
        self._access.require_access(account_id, organisation_id)
        if self._endpoints.get(organisation_id, endpoint_id) is None:
            raise NotFound("webhook endpoint", endpoint_id)
        return self._log.list(organisation_id, endpoint_id, limit, cursor)

    def deliver(self, order: DeliveryOrder) -> DeliveryAttempt | None:
        """Make the attempt `order` names, log it, and queue the next one if it failed (or, after the
        last, mark the endpoint failing and alert the organisation once).

        Returns the attempt logged, or None when there was nothing to do now: not yet due (queued
        again for the time left), the endpoint deleted or disabled, or the event expired. Raises
        only when the log or the queue fails: the message is then delivered again.
        """
        now = self._clock.now()
        if order.due_at is not None and order.due_at > now:
            self._queue.send([order], delay_seconds=queue_delay(order.due_at, now))
            return None
        endpoint = self._endpoints.get(order.organisation_id, order.endpoint_id)
        if endpoint is None or endpoint.status == "disabled":
            logger.info(
                "Webhook delivery dropped: endpoint gone or disabled", extra={"order": order.model_dump()}
            )
            return None
        attempt = self._log.recorded(
            order.organisation_id, order.endpoint_id, order.delivery_id, order.attempt
        )
        if attempt is None:
            event = self._events.get(order.organisation_id, order.event_id)
            if event is None:
                logger.warning("Webhook delivery dropped: event expired", extra={"order": order.model_dump()})
                return None
            attempt = self._post(order, endpoint, event, now)
            if not self._log.record(order.delivery_id, attempt):
                attempt = (
                    self._log.recorded(
                        order.organisation_id, order.endpoint_id, order.delivery_id, order.attempt
                    )
                    or attempt
                )
        if attempt.succeeded:
            if endpoint.status == "failing":
                self._set_status(endpoint, failing=False, now=now)
            return attempt
        delay = retry_delay(order.attempt) if order.attempt < MAX_ATTEMPTS else None
        if delay is not None:
            self._queue.send([order.next(now + delay)], delay_seconds=queue_delay(now + delay, now))
        elif self._set_status(endpoint, failing=True, now=now):
            self._alerts.endpoint_failing(endpoint)
        return attempt

    def _post(
        self, order: DeliveryOrder, endpoint: WebhookEndpoint, event: Event, now: datetime
    ) -> DeliveryAttempt:
        result = self._poster.send(
            url=endpoint.url,
            message_id=event.id,
            body=event.model_dump_json().encode(),
            secrets=endpoint.signing_secrets(now),
            timestamp=now,
        )
        return DeliveryAttempt(
            id=new_id("wda", now),
            organisation_id=order.organisation_id,
            endpoint_id=order.endpoint_id,
            event_id=order.event_id,
            attempt=order.attempt,
            started_at=now,
            duration_ms=result.duration_ms,
            status_code=result.status_code,
            error=result.error,
            response_head=result.response_head,
            succeeded=result.succeeded,
        )

    def _set_status(self, endpoint: WebhookEndpoint, *, failing: bool, now: datetime) -> bool:
        """Mark the endpoint failing (or enabled again after a success); True when this call changed
        it, so that the organisation is told once per failing spell."""

        def attempt() -> bool:
            current = self._endpoints.get(endpoint.organisation_id, endpoint.id)
            if current is None or current.status == "disabled":
                return False
            if failing == (current.status == "failing"):
                return False
            changes: dict[str, object] = (
                {"status": "failing", "failing_since": now, "updated_at": now}
                if failing
                else {"status": "enabled", "failing_since": None, "updated_at": now}
            )
            self._endpoints.save(current.model_copy(update=changes))
            return True

        try:
            return retry_on_conflict(attempt)
        except ConcurrentUpdate:
            logger.warning(
                "Webhook endpoint status not changed: kept changing", extra={"endpoint": endpoint.id}
            )
            return False


def _delivery_id(event_id: str, endpoint_id: str) -> str:
    """The fan-out's delivery: the same for the same event and endpoint, so a stream record handled
    twice starts one chain of attempts in the log (its messages post once)."""
    return f"wdl_{event_id.removeprefix('evt_')}_{endpoint_id.removeprefix('we_')}"


class EmailedFailingAlerts:
    """Tells an organisation by email (to its own address) that an endpoint is failing."""

    def __init__(self, organisations: OrganisationRepository, mailer: Mailer) -> None:
        self._organisations = organisations
        self._mailer = mailer

    def endpoint_failing(self, endpoint: WebhookEndpoint) -> None:
        """One email; logged, not raised, when it cannot be sent (the endpoint stays failing and
        the dashboard shows it): the alert is told once, by the delivery that marked it failing."""
        organisation = self._organisations.get(endpoint.organisation_id)
        if organisation is None or organisation.email is None:
            logger.warning("Failing webhook endpoint: no address to tell", extra={"endpoint": endpoint.id})
            return
        days = total_retry_window().days
        text = (
            f"Your webhook endpoint {endpoint.url} ({endpoint.id}) has not accepted any delivery of "
            f"its last event for {days} days, after {MAX_ATTEMPTS} attempts. Remit has marked it failing "
            "and keeps sending it new events. See each attempt in the dashboard or with "
            f"GET /v1/organisations/{endpoint.organisation_id}/webhook_endpoints/{endpoint.id}/deliveries, "
            "then resend what it missed."
        )
        email = OutgoingEmail(
            sender_name="Remit",
            reply_to=None,
            to=[str(organisation.email)],
            subject=f"Webhook endpoint failing: {endpoint.url}"[:200],
            html=f"<p>{html.escape(text)}</p>",
            text=text,
        )
        try:
            self._mailer.send(email)
        except Exception:
            logger.exception("Could not email a failing webhook endpoint", extra={"endpoint": endpoint.id})

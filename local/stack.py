"""The local stack as one object: started in order, stopped in the reverse order, nothing left behind."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.api_gateway import ApiGateway
from local.autosave import Autosaver, RequestGate
from local.aws_emulation import AwsEmulation
from local.dev_accounts import DevAccount, ensure_dev_account
from local.dev_billing import InvoicingCycleRoute
from local.dev_reminders import RemindersRoute
from local.dev_routes import dev_routes
from local.dev_users import DevUser, ensure_dev_user
from local.environment import (
    BILLING_QUEUE,
    BILLING_TABLE,
    BUCKETS,
    HOST,
    QUEUES,
    REMINDERS_QUEUE,
    SEND_QUEUE,
    TABLES,
    WEBHOOK_QUEUE,
    LocalSettings,
    export_remit_environment,
    export_user_pool,
)
from local.http_front import HttpFront, RequestRouter
from local.journal import Journal, SaveSummary
from local.lambda_runtime import LocalFunction
from local.queue_worker import QueueMapping, QueueWorker
from local.scheduler import DailySchedule, Scheduler
from local.stream_worker import StreamFollower, StreamMapping, StreamWorker

logger = logging.getLogger(__name__)

_REQUEST_DRAIN_SECONDS = 30.0
REMINDERS_FUNCTION = "RemindersFunction"
REMINDERS_SCHEDULE_EVENT = "Daily"
REMINDERS_QUEUE_EVENT = "ReminderWork"
SEND_FUNCTION = "SendWorkerFunction"
SEND_QUEUE_EVENT = "OwedEmails"
WEBHOOK_FAN_OUT_FUNCTION = "WebhookFanOutFunction"
WEBHOOK_FAN_OUT_EVENT = "EventStream"
WEBHOOK_DELIVERY_FUNCTION = "WebhookDeliveryFunction"
WEBHOOK_QUEUE_EVENT = "Deliveries"


@dataclass(frozen=True)
class RunningStack:
    """What a user needs to know once the stack is ready."""

    base_url: str
    aws_endpoint_url: str
    data_dir: Path
    dev_account: DevAccount
    restored: SaveSummary | None
    #: Who signs in to the dashboard (in the dev account).
    dev_user: DevUser | None = None
    #: When the invoicing cycle runs each day (`08:15 UTC`); None when its functions are missing.
    daily_cycle: str | None = None
    #: When the reminders are planned each day (`08:45 UTC`); None when the function is missing.
    daily_reminders: str | None = None


class LocalStack:
    """The AWS emulation, the saved data, the dev account and the HTTP front, in one lifecycle."""

    def __init__(self, settings: LocalSettings) -> None:
        self._settings = settings
        self._gate = RequestGate()
        self._emulation = AwsEmulation()
        # The template's API function: API Gateway gives up on an integration after 29 s.
        self._api_function = LocalFunction("remit-api", "api.app.lambda_handler", timeout_seconds=29)
        # The template's notifications function, fed by the billing table's stream and the sweep:
        # it queues owed emails for the send worker, fed by the send queue.
        self._notifications_function = LocalFunction(
            "remit-notifications",
            "notifications.app.lambda_handler",
            timeout_seconds=120,
            memory_limit_in_mb=256,
        )
        self._send_worker_function = LocalFunction(
            "remit-send-worker",
            "notifications.sender.lambda_handler",
            timeout_seconds=60,
            memory_limit_in_mb=512,
        )
        # The template's webhook functions: the fan-out, fed the billing table's stream (the same
        # reader as the notifications function's), and the worker fed by the webhook queue.
        self._webhook_fan_out_function = LocalFunction(
            "remit-webhook-fan-out",
            "webhook_delivery.app.fan_out_handler",
            timeout_seconds=60,
            memory_limit_in_mb=256,
        )
        self._webhook_delivery_function = LocalFunction(
            "remit-webhook-delivery",
            "webhook_delivery.app.lambda_handler",
            timeout_seconds=60,
            memory_limit_in_mb=256,
        )
        # The template's payment-webhooks function, behind `POST /webhooks/stripe/{org_id}`.
        self._payment_webhooks_function = LocalFunction(
            "remit-payment-webhooks",
            "payment_webhooks.app.lambda_handler",
            timeout_seconds=15,
            memory_limit_in_mb=256,
        )
        # The template's dashboard function, behind `/dashboard` and `/dashboard/{proxy+}`.
        self._dashboard_function = LocalFunction(
            "remit-dashboard", "dashboard.app.lambda_handler", timeout_seconds=29, memory_limit_in_mb=256
        )
        # The template's customer portal function, behind `/p/{proxy+}`.
        self._portal_function = LocalFunction(
            "remit-portal", "portal.app.lambda_handler", timeout_seconds=29, memory_limit_in_mb=256
        )
        # The template's recurring-billing functions: the daily planner, fired by the scheduler
        # (and `POST /_dev/run/invoicing-cycle`), and the worker fed by the billing queue.
        self._invoicing_cycle_function = LocalFunction(
            "remit-invoicing-cycle",
            "invoicing_cycle.app.lambda_handler",
            timeout_seconds=300,
            memory_limit_in_mb=256,
        )
        self._billing_worker_function = LocalFunction(
            "remit-billing-worker",
            "billing_worker.app.lambda_handler",
            timeout_seconds=60,
            memory_limit_in_mb=256,
        )
        # The template's reminders function: planned by its own daily schedule (and
        # `POST /_dev/run/reminders`), then fed the work it queued by the reminders queue.
        self._reminders_function = LocalFunction(
            "remit-reminders",
            "reminders.app.lambda_handler",
            timeout_seconds=120,
            memory_limit_in_mb=256,
        )
        self._stream_worker: StreamWorker | None = None
        self._queue_worker: QueueWorker | None = None
        self._scheduler: Scheduler | None = None
        self._invoicing_cycle_route: InvoicingCycleRoute | None = None
        self._reminders_queue_worker: QueueWorker | None = None
        self._send_queue_worker: QueueWorker | None = None
        self._webhook_queue_worker: QueueWorker | None = None
        self._reminders_scheduler: Scheduler | None = None
        self._reminders_route: RemindersRoute | None = None
        self._front: HttpFront | None = None
        self._autosaver: Autosaver | None = None
        self._journal: Journal | None = None

    def start(self) -> RunningStack:
        """Bring the stack up and return once it serves requests.

        The port is bound first, so a port in use fails at once (`OSError`), and Remit is
        imported only after the environment points it at the emulation. On any failure the
        parts already started are stopped again before the error propagates.
        """
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> RunningStack:
        data_dir = self._settings.data_dir
        _prepare_data_dir(data_dir)
        # Built before the front, whose dev route needs them; started once Remit is loaded.
        schedule = DailySchedule.from_template()
        self._queue_worker = QueueWorker(
            self._billing_worker_function, self._emulation.sqs, BILLING_QUEUE, self._gate, self._data_changed
        )
        self._scheduler = Scheduler(
            self._invoicing_cycle_function,
            self._gate,
            self._data_changed,
            schedule=schedule,
            dead_letters=self._dead_letters_to("InvoicingCycleDeadLetterQueue"),
        )
        self._invoicing_cycle_route = InvoicingCycleRoute(
            self._invoicing_cycle_function, self._queue_worker, self._gate, schedule
        )
        reminders_schedule = DailySchedule.from_template(REMINDERS_FUNCTION, REMINDERS_SCHEDULE_EVENT)
        self._reminders_queue_worker = QueueWorker(
            self._reminders_function,
            self._emulation.sqs,
            REMINDERS_QUEUE,
            self._gate,
            self._data_changed,
            mapping=QueueMapping.from_template(REMINDERS_FUNCTION, REMINDERS_QUEUE_EVENT),
        )
        self._send_queue_worker = QueueWorker(
            self._send_worker_function,
            self._emulation.sqs,
            SEND_QUEUE,
            self._gate,
            self._data_changed,
            mapping=QueueMapping.from_template(SEND_FUNCTION, SEND_QUEUE_EVENT),
        )
        self._webhook_queue_worker = QueueWorker(
            self._webhook_delivery_function,
            self._emulation.sqs,
            WEBHOOK_QUEUE,
            self._gate,
            self._data_changed,
            mapping=QueueMapping.from_template(WEBHOOK_DELIVERY_FUNCTION, WEBHOOK_QUEUE_EVENT),
        )
        # After the invoicing cycle: a stack started after both times plans the day's reminders
        # once the day's cycle has run, as the half-hour between them ensures in AWS.
        self._reminders_scheduler = Scheduler(
            self._reminders_function,
            self._gate,
            self._data_changed,
            schedule=reminders_schedule,
            dead_letters=self._dead_letters_to("RemindersScheduleDeadLetterQueue"),
            label="reminders plan",
            after=self._scheduler,
        )
        self._reminders_route = RemindersRoute(
            self._reminders_function, self._reminders_queue_worker, self._gate, reminders_schedule
        )
        router = RequestRouter(
            ApiGateway(self._api_function, domain_name=HOST),
            dev_routes(invoicing_cycle=self._invoicing_cycle_route, reminders=self._reminders_route),
            self._gate,
            self._data_changed,
            functions_by_prefix=[
                ("/webhooks/stripe/", ApiGateway(self._payment_webhooks_function, domain_name=HOST)),
                ("/dashboard", ApiGateway(self._dashboard_function, domain_name=HOST)),
                ("/p/", ApiGateway(self._portal_function, domain_name=HOST)),
            ],
        )
        self._front = HttpFront(self._settings.port, router)
        base_url = f"http://{HOST}:{self._front.port}"

        self._emulation.start()
        export_remit_environment(self._emulation.endpoint_url, public_base_url=base_url)
        self._emulation.provision()
        export_user_pool(*self._emulation.provision_user_pool())
        self._emulation.verify_sender(os.environ["REMIT_MAIL_FROM"])
        journal = Journal(data_dir, tables=list(TABLES.values()), buckets=BUCKETS)
        journal.attach()
        self._journal = journal
        restored = journal.restore()
        # From here on the emulation holds the saved data, so saving it again cannot lose any.
        self._autosaver = Autosaver(journal, self._gate, housekeeping=self._emulation.expire_items)
        self._autosaver.start()
        # Data saved before the list indexes existed lacks their keys: add them (once; idempotent).
        from remit.admin import backfill_list_indexes

        if backfill_list_indexes(BILLING_TABLE) is not None:
            self._data_changed()
        # Open invoices saved before the reminder index: onto it, as their reminders say (once).
        from remit.admin import backfill_reminders

        if backfill_reminders(BILLING_TABLE) is not None:
            self._data_changed()
        # Invoices and payments saved before the overview's counters: counted into them (once).
        from remit.admin import backfill_overview

        if backfill_overview(BILLING_TABLE) is not None:
            self._data_changed()

        # The sandbox card provider is the local stack's own: wired into Remit's services here.
        from local.sandbox_gateway import sandbox_gateway
        from remit.bootstrap import use_card_gateway

        use_card_gateway("sandbox", sandbox_gateway)

        dev_account = ensure_dev_account(data_dir, self._settings.dev_api_key)
        if dev_account.created:
            self._data_changed()
        dev_user = ensure_dev_user(
            data_dir, dev_account.account_id, self._settings.dev_email, self._settings.dev_password
        )
        self._api_function.load()  # import the handler now, so the first request is not the slow one
        self._notifications_function.load()
        self._send_worker_function.load()
        self._payment_webhooks_function.load()
        self._dashboard_function.load()
        self._portal_function.load()
        self._invoicing_cycle_function.load()
        self._billing_worker_function.load()
        self._reminders_function.load()
        self._webhook_fan_out_function.load()
        self._webhook_delivery_function.load()
        # Outbox items restored as pending are delivered by the sweep (restoring writes no stream records).
        webhook_fan_out = StreamFollower(
            self._webhook_fan_out_function,
            self._gate,
            self._data_changed,
            StreamMapping.from_template(WEBHOOK_FAN_OUT_FUNCTION, WEBHOOK_FAN_OUT_EVENT),
        )
        self._stream_worker = StreamWorker(
            self._notifications_function,
            self._emulation,
            BILLING_TABLE,
            self._gate,
            self._data_changed,
            followers=[webhook_fan_out],
        )
        self._send_queue_worker.start()
        self._webhook_queue_worker.start()
        self._stream_worker.start()
        self._queue_worker.start()
        # Fires today's cycle at once if its time has passed: the planner is idempotent.
        self._scheduler.start()
        self._reminders_queue_worker.start()
        # Today's reminders too, once today's cycle has run (it follows the cycle's scheduler).
        self._reminders_scheduler.start()
        self._front.serve_in_background()
        return RunningStack(
            base_url=base_url,
            aws_endpoint_url=self._emulation.endpoint_url,
            data_dir=data_dir,
            dev_account=dev_account,
            restored=restored,
            dev_user=dev_user,
            daily_cycle=f"{schedule.hour:02d}:{schedule.minute:02d} UTC",
            daily_reminders=f"{reminders_schedule.hour:02d}:{reminders_schedule.minute:02d} UTC",
        )

    def stop(self) -> None:
        """Stop serving, let running requests finish, save what changed and stop the emulation.

        Safe to call at any point of `start` and more than once. Messages still in the billing
        queue are not saved (the journal keeps tables and buckets only).
        """
        if self._invoicing_cycle_route is not None:
            self._invoicing_cycle_route.stop()  # a request waiting for the billing queue answers now
        if self._reminders_route is not None:
            self._reminders_route.stop()
        if self._front is not None:
            self._front.stop(timeout=_REQUEST_DRAIN_SECONDS)
            self._front = None
        # The reminders' scheduler first: it may be waiting for the cycle's.
        if self._reminders_scheduler is not None:
            self._reminders_scheduler.stop()
            self._reminders_scheduler = None
        if self._scheduler is not None:
            self._scheduler.stop()
            self._scheduler = None
        # Each queue worker may be in a long poll of up to a second: asked together, they end together.
        for worker in (
            self._queue_worker,
            self._reminders_queue_worker,
            self._send_queue_worker,
            self._webhook_queue_worker,
        ):
            if worker is not None:
                worker.request_stop()
        if self._queue_worker is not None:
            self._queue_worker.stop()
            self._queue_worker = None
        if self._reminders_queue_worker is not None:
            self._reminders_queue_worker.stop()
            self._reminders_queue_worker = None
        if self._stream_worker is not None:
            self._stream_worker.stop()
            self._stream_worker = None
        if self._send_queue_worker is not None:
            self._send_queue_worker.stop()
            self._send_queue_worker = None
        if self._webhook_queue_worker is not None:
            self._webhook_queue_worker.stop()
            self._webhook_queue_worker = None
        if not self._gate.close(timeout=_REQUEST_DRAIN_SECONDS):
            logger.warning("some requests did not finish; the final save may miss their writes")
        try:
            if self._autosaver is not None:
                self._autosaver.stop()
                self._autosaver = None
        finally:
            if self._journal is not None:
                self._journal.close()
                self._journal = None
            self._emulation.stop()

    def _data_changed(self) -> None:
        if self._autosaver is not None:
            self._autosaver.mark_changed()

    def _dead_letters_to(self, logical_id: str) -> Callable[[dict[str, Any]], None]:
        """Where EventBridge Scheduler puts an invocation whose retries are spent: the schedule's queue."""

        def send(event: dict[str, Any]) -> None:
            sqs = self._emulation.sqs()
            url = sqs.get_queue_url(QueueName=QUEUES[logical_id])["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event))

        return send


def _prepare_data_dir(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    # Keeps the data out of git wherever the directory is, without touching the repository's .gitignore.
    ignore_file = data_dir / ".gitignore"
    if not ignore_file.exists():
        ignore_file.write_text("*\n", encoding="utf-8")

"""Wires the real adapters into the services: the one place tests and the local stack override.

Nothing here runs at import time. AWS clients are created on first use, so a test's moto mock
(or the local stack's endpoint) is in place before any client exists.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, partial
from typing import TYPE_CHECKING, Any, cast

import boto3

from remit.config import Settings, settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sqs import SQSClient

    from remit.adapters.dynamodb import DynamoTable
    from remit.adapters.portal_pages import JinjaPortalPages
    from remit.adapters.sqs_work_queue import SqsWorkQueue
    from remit.domain.card_payments import ProviderName
    from remit.domain.events import Event
    from remit.domain.roles import Caller
    from remit.ports.cards import CardGateway
    from remit.ports.clock import Clock
    from remit.ports.credit_notes import CreditNoteReader
    from remit.ports.documents import CreditNotePdfRenderer, HostedPageRenderer, InvoicePdfRenderer
    from remit.ports.einvoices import EinvoiceValidator, EinvoiceWriter
    from remit.ports.mail import EmailRenderer
    from remit.ports.people import UserDirectory
    from remit.ports.webhooks import HostResolver
    from remit.services.account_people import AccountPeopleService
    from remit.services.accounts import AccountService
    from remit.services.billing_cycle import BillingCycleService
    from remit.services.billing_runs import BillingRunService
    from remit.services.card_events import CardEventService
    from remit.services.card_payments import CardPaymentService
    from remit.services.charges import ChargeService
    from remit.services.credit_notes import CreditNoteService
    from remit.services.customers import CustomerService
    from remit.services.dashboard_sessions import DashboardSessionService
    from remit.services.documents import DocumentService
    from remit.services.einvoices import CreditNoteEinvoiceBuilder, EinvoiceService, InvoiceEinvoiceBuilder
    from remit.services.events import EventService
    from remit.services.exports import ExportService
    from remit.services.imports import ImportService
    from remit.services.invoice_lifecycle import InvoiceLifecycleService
    from remit.services.invoices import InvoiceService
    from remit.services.notifications import NotificationService
    from remit.services.organisations import OrganisationService
    from remit.services.overview import OverviewService
    from remit.services.payments import PaymentService
    from remit.services.portal import PortalSignInService
    from remit.services.portal_account import PortalAccountService
    from remit.services.refunds import RefundService
    from remit.services.reminders import ReminderService
    from remit.services.saved_cards import SavedCardService
    from remit.services.sending import SendingService
    from remit.services.subscriptions import SubscriptionService
    from remit.services.webhook_delivery import WebhookDeliveryService
    from remit.services.webhook_endpoints import WebhookEndpointService


@dataclass(frozen=True)
class EinvoiceParts:
    """What writes and validates e-invoices, and what builds their documents: the real ones unless
    a test gives its own (a validator that fails a rule on demand, one that cannot be reached)."""

    writer: EinvoiceWriter | None = None
    validator: EinvoiceValidator | None = None
    invoice_document: InvoiceEinvoiceBuilder | None = None
    credit_note_document: CreditNoteEinvoiceBuilder | None = None
    field_for_rule: Callable[[str, str | None], str | None] | None = None


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class Services:
    settings: Settings
    accounts: AccountService
    organisations: OrganisationService
    customers: CustomerService
    charges: ChargeService
    invoices: InvoiceService
    invoice_lifecycle: InvoiceLifecycleService
    payments: PaymentService
    documents: DocumentService
    einvoices: EinvoiceService
    sending: SendingService
    billing_runs: BillingRunService
    notifications: NotificationService
    card_payments: CardPaymentService
    card_events: CardEventService
    saved_cards: SavedCardService
    credit_notes: CreditNoteService
    refunds: RefundService
    subscriptions: SubscriptionService
    billing_cycle: BillingCycleService
    reminders: ReminderService
    users: UserDirectory
    dashboard_sessions: DashboardSessionService
    account_people: AccountPeopleService
    overview: OverviewService
    webhook_endpoints: WebhookEndpointService
    events: EventService
    webhook_deliveries: WebhookDeliveryService
    exports: ExportService
    portal: PortalSignInService
    portal_account: PortalAccountService
    imports: ImportService

    def acting_as(self, caller: Caller) -> Services:
        """These services as `caller` may use them: each operation checked against the caller's
        role or key before it runs (`remit.services.access`; `NotPermitted` otherwise). The
        dashboard's pages and the API's routes reach the services only this way; the background
        functions, which act for no one, use the services themselves.
        """
        from remit.services.access import CallerServices

        return cast("Services", CallerServices(self, caller))


# boto3's default session is not thread-safe while it makes a client (its credential and endpoint
# resolvers load on first use): the webhook worker's threads may each make one at once.
_client_lock = threading.Lock()


def _dynamodb() -> DynamoDBClient:
    with _client_lock:
        return boto3.client("dynamodb")


def _s3() -> S3Client:
    with _client_lock:
        return boto3.client("s3")


def _sesv2() -> SESV2Client:
    with _client_lock:
        return boto3.client("sesv2")


def _sqs() -> SQSClient:
    with _client_lock:
        return boto3.client("sqs")


def _secretsmanager() -> SecretsManagerClient:
    with _client_lock:
        return boto3.client("secretsmanager")


def _cognito_idp() -> Any:
    with _client_lock:
        return boto3.client("cognito-idp")


def _lambda() -> LambdaClient:
    with _client_lock:
        return boto3.client("lambda")


def _stripe_gateway(config: Settings) -> Callable[[], CardGateway]:
    def build() -> CardGateway:
        from remit.adapters.stripe_gateway import StripeGateway

        return StripeGateway(config.stripe_api_base)

    return cache(build)


def _email_renderer() -> EmailRenderer:
    from remit.adapters.html_rendering import JinjaEmailRenderer

    return JinjaEmailRenderer()


def _pdf_renderer() -> InvoicePdfRenderer:
    from remit.adapters.pdf_invoice import FpdfInvoiceRenderer

    return FpdfInvoiceRenderer()


def _credit_note_pdf_renderer() -> CreditNotePdfRenderer:
    from remit.adapters.pdf_credit_note import FpdfCreditNoteRenderer

    return FpdfCreditNoteRenderer()


def _einvoice_writer() -> EinvoiceWriter:
    from remit.adapters.einvoice_writer import EinvoiceXmlWriter

    return EinvoiceXmlWriter()


def _page_renderer() -> HostedPageRenderer:
    from remit.adapters.html_rendering import JinjaHostedPageRenderer

    return JinjaHostedPageRenderer()


def _reschedule_reminders(queue: SqsWorkQueue, message: dict[str, str]) -> None:
    """Queue a rescheduling of reminders after a committed change. The change stands if the queue
    is unreachable: the failure is logged and counted (`RemindersRescheduleFailed`), and invoices
    keep their current reminder dates until the settings are saved again.
    """
    try:
        queue.send([message])
    except Exception:
        from aws_lambda_powertools.metrics import MetricUnit

        from remit.observability import logger, metrics

        logger.exception("Could not queue the rescheduling of reminders", extra={"reminders": message})
        metrics.add_metric(name="RemindersRescheduleFailed", unit=MetricUnit.Count, value=1)


def build_services(
    config: Settings,
    clock: Clock | None = None,
    pdf_renderer: InvoicePdfRenderer | None = None,
    credit_notes: CreditNoteReader | None = None,
    einvoice_parts: EinvoiceParts | None = None,
    host_resolver: HostResolver | None = None,
) -> Services:
    """Services over DynamoDB and S3 as `config` names them, reading the time from `clock` (the
    system's by default; tests give one they set), drawing PDFs with `pdf_renderer` (fpdf2's by
    default; tests give one that fails), reading credit notes for their documents from
    `credit_notes` (the billing table's by default) and writing and validating e-invoices with
    `einvoice_parts` (the real writer, validator and document builders by default), and
    resolving webhook endpoints' hosts with `host_resolver` (the system's by default; tests give
    one that answers what they need, private addresses included).

    The services and adapters load here rather than with this module, so importing a handler
    stays light and the first request that needs the services pays for them once. Renderers, the
    card provider's SDK and the image library load later still, on the paths that use them.
    """
    from remit.adapters.cognito_users import CognitoUserDirectory
    from remit.adapters.dns_resolver import SystemHostResolver
    from remit.adapters.due_index import DynamoDayPlanning
    from remit.adapters.dynamodb import DynamoTable
    from remit.adapters.dynamodb_accounts import DynamoAccountRepository
    from remit.adapters.dynamodb_billing import DynamoBillingStore
    from remit.adapters.dynamodb_card_payments import DynamoCardPaymentStore
    from remit.adapters.dynamodb_credit_notes import DynamoCreditNoteStore
    from remit.adapters.dynamodb_customers import DynamoCustomerRepository
    from remit.adapters.dynamodb_deliveries import DynamoDeliveryLog
    from remit.adapters.dynamodb_events import DynamoEventLog
    from remit.adapters.dynamodb_imports import DynamoImportRecords
    from remit.adapters.dynamodb_organisations import DynamoOrganisationRepository
    from remit.adapters.dynamodb_outbox import DynamoOutboxRepository
    from remit.adapters.dynamodb_portal import DynamoPortalStore
    from remit.adapters.dynamodb_recurring import DynamoRecurringStore
    from remit.adapters.dynamodb_reminders import DynamoReminderStore
    from remit.adapters.dynamodb_sessions import DynamoSessionStore
    from remit.adapters.dynamodb_webhooks import DynamoWebhookEndpoints
    from remit.adapters.images import LogoImages
    from remit.adapters.s3_documents import S3DocumentStore
    from remit.adapters.s3_exports import S3ExportFiles
    from remit.adapters.s3_import_files import S3ImportFiles
    from remit.adapters.s3_logos import S3LogoStore
    from remit.adapters.secrets_manager import SecretsManagerProviderSecrets
    from remit.adapters.ses_mailer import SesMailer
    from remit.adapters.sqs_delivery_queue import SqsDeliveryQueue
    from remit.adapters.sqs_work_queue import SqsWorkQueue
    from remit.adapters.webhook_sender import WebhookSender
    from remit.domain.einvoice_building import einvoice_for_credit_note, einvoice_for_invoice
    from remit.domain.einvoice_fields import field_for_rule
    from remit.services.account_people import AccountPeopleService
    from remit.services.accounts import AccountService
    from remit.services.billing_context import BillingContext
    from remit.services.billing_cycle import BillingCycleService
    from remit.services.billing_runs import BillingRunService
    from remit.services.card_events import CardEventService
    from remit.services.card_payments import CardPaymentService
    from remit.services.charges import ChargeService
    from remit.services.credit_notes import CreditNoteService
    from remit.services.customers import CustomerService
    from remit.services.dashboard_sessions import DashboardSessionService
    from remit.services.documents import DocumentService
    from remit.services.einvoices import EinvoiceService
    from remit.services.events import EventService
    from remit.services.exports import ExportService
    from remit.services.import_rows import RowImporter
    from remit.services.imports import ImportService
    from remit.services.invoice_lifecycle import InvoiceLifecycleService
    from remit.services.invoices import InvoiceService
    from remit.services.notifications import NotificationService
    from remit.services.organisations import OrganisationService
    from remit.services.overview import OverviewService
    from remit.services.payments import PaymentService
    from remit.services.portal import PortalSignInService
    from remit.services.portal_account import PortalAccountService
    from remit.services.refunds import RefundService
    from remit.services.reminders import ReminderService
    from remit.services.saved_cards import SavedCardService
    from remit.services.sending import SendingService
    from remit.services.subscriptions import SubscriptionService
    from remit.services.webhook_delivery import EmailedFailingAlerts, WebhookDeliveryService
    from remit.services.webhook_endpoints import WebhookEndpointService

    clock = clock or SystemClock()
    billing = DynamoTable(_dynamodb, config.billing_table)
    organisation_repository = DynamoOrganisationRepository(billing)
    logos = S3LogoStore(_s3, config.logo_bucket)
    reminders_queue = SqsWorkQueue(_sqs, lambda: config.reminders_queue_url)
    organisations = OrganisationService(
        organisation_repository,
        logos,
        LogoImages(),
        clock,
        config.max_logo_bytes,
        reminders_changed=lambda organisation_id: _reschedule_reminders(
            reminders_queue, {"kind": "reschedule", "organisation_id": organisation_id}
        ),
    )
    context = BillingContext(DynamoBillingStore(billing), organisations, clock)
    if credit_notes is None:
        credit_notes = DynamoCreditNoteStore(billing)
    documents = DocumentService(
        context,
        logos,
        S3DocumentStore(_s3, config.logo_bucket),
        cache(_pdf_renderer) if pdf_renderer is None else (lambda: pdf_renderer),
        cache(_page_renderer),
        credit_notes,
        cache(_credit_note_pdf_renderer),
    )
    notifications = NotificationService(
        DynamoOutboxRepository(billing),
        context.billing,
        cache(_email_renderer),
        documents,
        SesMailer(_sesv2, config.mail_from, config.ses_configuration_set),
        clock,
        SqsWorkQueue(_sqs, lambda: config.send_queue_url),
        credit_notes,
        sweep_limit=config.outbox_sweep_limit,
    )
    provider_secrets = SecretsManagerProviderSecrets(
        _secretsmanager, config.secrets_prefix, cache_seconds=config.secrets_cache_seconds
    )
    gateways: dict[ProviderName, Callable[[], CardGateway]] = {"stripe": _stripe_gateway(config)}
    for provider, factory in _card_gateways.items():
        gateways[provider] = cache(partial(factory, billing, config, clock))
    parts = einvoice_parts or EinvoiceParts()
    einvoices = EinvoiceService(
        context,
        credit_notes,
        documents,
        cache(_einvoice_writer) if parts.writer is None else partial(_given, parts.writer),
        einvoice_validator if parts.validator is None else partial(_given, parts.validator),
        invoice_document=parts.invoice_document or einvoice_for_invoice,
        credit_note_document=parts.credit_note_document or einvoice_for_credit_note,
        field_for_rule=parts.field_for_rule or field_for_rule,
    )
    invoices = InvoiceService(context)
    lifecycle = InvoiceLifecycleService(context, einvoices)
    sending = SendingService(context, lifecycle)
    recurring = DynamoRecurringStore(billing)
    queue = SqsWorkQueue(_sqs, lambda: config.billing_queue_url)
    planning = DynamoDayPlanning(billing)
    card_payments = CardPaymentService(
        context, organisation_repository, provider_secrets, gateways, config.stage
    )
    saved_cards = SavedCardService(context, card_payments)
    credit_note_store = DynamoCreditNoteStore(billing)
    refunds = RefundService(context, credit_note_store, provider_secrets, gateways, clock)
    users = CognitoUserDirectory(cache(_cognito_idp), config.user_pool_id, config.user_pool_client_id, clock)
    account_repository = DynamoAccountRepository(billing)
    customer_repository = DynamoCustomerRepository(billing)
    customers = CustomerService(
        customer_repository,
        organisation_repository,
        organisations,
        clock,
        reminders_resumed=lambda organisation_id, customer_id: _reschedule_reminders(
            reminders_queue,
            {"kind": "reschedule", "organisation_id": organisation_id, "customer_id": customer_id},
        ),
    )
    dashboard_sessions = DashboardSessionService(
        users, DynamoSessionStore(DynamoTable(_dynamodb, config.sessions_table)), clock, account_repository
    )
    built: Services
    built = Services(
        settings=config,
        accounts=AccountService(account_repository, clock, config.api_key_cache_seconds),
        organisations=organisations,
        customers=customers,
        charges=ChargeService(context),
        invoices=invoices,
        invoice_lifecycle=lifecycle,
        payments=PaymentService(context),
        documents=documents,
        einvoices=einvoices,
        sending=sending,
        billing_runs=BillingRunService(context, invoices, lifecycle, sending, recurring, queue),
        notifications=notifications,
        card_payments=card_payments,
        card_events=CardEventService(
            context,
            DynamoCardPaymentStore(billing),
            provider_secrets,
            gateways,
            refunds=refunds,
            saved_cards=saved_cards,
        ),
        saved_cards=saved_cards,
        credit_notes=CreditNoteService(
            context, credit_note_store, send_refunds=refunds.send, einvoices=einvoices
        ),
        refunds=refunds,
        subscriptions=SubscriptionService(context, recurring, invoices),
        billing_cycle=BillingCycleService(
            context,
            recurring,
            invoices,
            lifecycle,
            sending,
            queue,
            planning,
            charge_card=lambda organisation, invoice: card_payments.attempt_card(
                organisation.account_id, organisation.id, invoice.id
            ),
            public_base_url=lambda: config.public_base_url,
            max_periods=config.max_periods_per_run,
            page=config.planner_page_size,
        ),
        reminders=ReminderService(
            context, DynamoReminderStore(billing), reminders_queue, planning, config.planner_page_size
        ),
        users=users,
        dashboard_sessions=dashboard_sessions,
        # Only stacks whose pool sends no email (the local stack, the tests) show temporary passwords.
        account_people=AccountPeopleService(
            users,
            account_repository,
            dashboard_sessions,
            clock,
            show_temporary_passwords=config.stage in ("local", "test"),
        ),
        overview=OverviewService(organisations, context.billing, clock),
        webhook_endpoints=WebhookEndpointService(
            DynamoWebhookEndpoints(billing),
            organisations,
            host_resolver or SystemHostResolver(),
            clock,
            allow_http_loopback=config.webhooks_allow_http_loopback,
        ),
        events=EventService(DynamoEventLog(billing), organisations),
        webhook_deliveries=WebhookDeliveryService(
            endpoints=DynamoWebhookEndpoints(billing),
            events=DynamoEventLog(billing),
            log=DynamoDeliveryLog(billing),
            queue=SqsDeliveryQueue(_sqs, lambda: config.webhook_queue_url),
            poster=WebhookSender(
                allow_http_loopback=config.webhooks_allow_http_loopback,
                timeout_seconds=config.webhook_timeout_seconds,
                resolver=host_resolver,
            ),
            alerts=EmailedFailingAlerts(
                organisation_repository, SesMailer(_sesv2, config.mail_from, config.ses_configuration_set)
            ),
            access=organisations,
            clock=clock,
        ),
        exports=ExportService(lambda: built, S3ExportFiles(_s3, config.logo_bucket), clock),
        portal=PortalSignInService(
            DynamoPortalStore(billing), organisation_repository, customer_repository, organisations, clock
        ),
        portal_account=PortalAccountService(
            context.billing, credit_note_store, documents, einvoices, card_payments, customers, clock
        ),
        imports=ImportService(
            DynamoImportRecords(billing),
            S3ImportFiles(_s3, config.logo_bucket),
            RowImporter(customers, customer_repository),
            organisations,
            queue,
            clock,
            max_file_bytes=config.max_import_bytes,
            part_rows=config.import_part_rows,
        ),
    )
    return built


@cache
def services() -> Services:
    """The process-wide services, built on first use from the environment's settings."""
    return build_services(
        settings(),
        _injected.get("clock"),
        _injected.get("pdf_renderer"),
        _injected.get("credit_notes"),
        _injected.get("einvoice_parts"),
        _injected.get("host_resolver"),
    )


def event_of_item(image: Mapping[str, Any]) -> Event:
    """The event a stored event item holds (a stream record's new image): its storage format is the
    adapters' (`data` compressed), which a function reads through here."""
    from remit.adapters.items.events import event_of

    return event_of(image)


@cache
def portal_pages() -> JinjaPortalPages:
    """The customer portal's page renderer (Jinja2 loads on first use)."""
    from remit.adapters.portal_pages import JinjaPortalPages

    return JinjaPortalPages()


@cache
def einvoice_validator() -> EinvoiceValidator:
    """The process-wide e-invoice validator for this environment, built on first use.

    On AWS (`REMIT_EINVOICE_VALIDATOR_FUNCTION` set) it invokes `EinvoiceValidatorFunction`; off
    AWS (the local stack, the tests) it starts one child process that holds the engine (Saxon is
    neither fork- nor thread-safe, so it never runs in this process). Tests may inject another
    with `use_einvoice_validator`.
    """
    injected = _injected.get("einvoice_validator")
    if injected is not None:
        return cast("EinvoiceValidator", injected)
    config = settings()
    if config.einvoice_validator_function:
        from remit.adapters.lambda_einvoice_validator import LambdaEinvoiceValidator

        return LambdaEinvoiceValidator(cache(_lambda), config.einvoice_validator_function)
    from remit.adapters.process_einvoice_validator import ProcessEinvoiceValidator

    return ProcessEinvoiceValidator()


def use_einvoice_validator(validator: EinvoiceValidator | None) -> None:
    """Validate e-invoices with `validator` from now on (None: the environment's own again)."""
    if validator is None:
        _injected.pop("einvoice_validator", None)
    else:
        _injected["einvoice_validator"] = validator
    einvoice_validator.cache_clear()
    services.cache_clear()


# What tests inject into the process-wide services instead of the real thing (see `use_clock`).
_injected: dict[str, Any] = {}
# Card gateways besides Stripe, by provider: the local stack's sandbox (see `use_card_gateway`).
CardGatewayFactory = Callable[["DynamoTable", Settings, "Clock"], "CardGateway"]
_card_gateways: dict[ProviderName, CardGatewayFactory] = {}


def use_card_gateway(provider: ProviderName, factory: CardGatewayFactory | None) -> None:
    """Build the process-wide services with `factory`'s gateway for `provider` from now on (None:
    without it). The local stack wires its sandbox provider here; it ships outside the layer.
    """
    if factory is None:
        _card_gateways.pop(provider, None)
    else:
        _card_gateways[provider] = factory
    services.cache_clear()


def use_clock(clock: Clock | None) -> None:
    """Build the process-wide services with `clock` from now on (None: the system clock again)."""
    if clock is None:
        _injected.pop("clock", None)
    else:
        _injected["clock"] = clock
    services.cache_clear()


def use_pdf_renderer(renderer: InvoicePdfRenderer | None) -> None:
    """Build the process-wide services drawing PDFs with `renderer` from now on (None: fpdf2 again)."""
    if renderer is None:
        _injected.pop("pdf_renderer", None)
    else:
        _injected["pdf_renderer"] = renderer
    services.cache_clear()


def use_credit_note_reader(reader: CreditNoteReader | None) -> None:
    """Build the process-wide services reading credit notes from `reader` from now on (None: the
    billing table again).
    """
    if reader is None:
        _injected.pop("credit_notes", None)
    else:
        _injected["credit_notes"] = reader
    services.cache_clear()


def use_einvoice_parts(parts: EinvoiceParts | None) -> None:
    """Build the process-wide services writing and validating e-invoices with `parts` from now on
    (None: the real ones again)."""
    if parts is None:
        _injected.pop("einvoice_parts", None)
    else:
        _injected["einvoice_parts"] = parts
    services.cache_clear()


def use_host_resolver(resolver: HostResolver | None) -> None:
    """Build the process-wide services resolving webhook hosts with `resolver` from now on (None:
    the system's resolver again)."""
    if resolver is None:
        _injected.pop("host_resolver", None)
    else:
        _injected["host_resolver"] = resolver
    services.cache_clear()


def _given[T](value: T) -> T:
    return value


def reset() -> None:
    """Forget the built services and settings (tests that change the environment, the local stack)."""
    services.cache_clear()
    einvoice_validator.cache_clear()
    settings.cache_clear()

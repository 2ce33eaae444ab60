"""The interfaces the services need. Adapters implement them; tests may substitute fakes.

Each repository write is atomic: it commits every item it touches (the entity, its uniqueness
markers, its membership records) in one transaction, or nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from remit.domain.account import Account, ApiKey, KeyPointer
from remit.domain.billing_run import BillingRun, BillingRunError
from remit.domain.billing_template import BillingTemplate
from remit.domain.card_intents import CardIntent
from remit.domain.card_payments import (
    CardPaymentEvent,
    CheckoutRequest,
    CheckoutSession,
    OffSessionCharge,
    ProviderCredentials,
)
from remit.domain.charge import Charge
from remit.domain.customer import CardOnFile, Customer
from remit.domain.document_renders import RenderAttempt
from remit.domain.documents import EmailKind, InvoiceDocument, OutgoingEmail, RenderedEmail
from remit.domain.invoice import Invoice, InvoiceEvent
from remit.domain.logos import PreparedLogo
from remit.domain.organisation import Organisation
from remit.domain.outbox import OutboxMessage
from remit.domain.overview import OverviewReading, OverviewWindow
from remit.domain.pagination import Page
from remit.domain.payment import BalanceTransaction, Payment
from remit.domain.reminders import ReminderRun, ReminderStep
from remit.domain.roles import Role
from remit.domain.sessions import DashboardSession
from remit.domain.subscription import Subscription
from remit.domain.users import AccountMember, DashboardUser, PendingSignIn, SessionTokens, TotpSetup


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class AccountRepository(Protocol):
    def add(self, account: Account, key_digest: str, first_key: ApiKey | None = None) -> None:
        """Store a new account with the digest of its first API key."""
        ...

    def account_id_for_key(self, key_digest: str) -> str | None: ...

    def get(self, account_id: str) -> Account | None: ...

    def key_pointer(self, key_digest: str) -> KeyPointer | None:
        """The account of a key digest, its record's id (None for a key issued before records),
        whether it is read-only and when its use was last recorded; None for an unknown key.
        """
        ...

    def record_key_use(self, key_digest: str, pointer: KeyPointer, now: datetime) -> None:
        """Record `now` as the key's last use (on its pointer and its record), unless a use within
        `KEY_USE_RESOLUTION` is already recorded or the key was revoked meanwhile (nothing then).
        """
        ...

    def add_key(self, api_key: ApiKey) -> None: ...

    def adopt_key(self, api_key: ApiKey) -> None:
        """Give a key issued before records its record; idempotent."""
        ...

    def get_key(self, account_id: str, key_id: str) -> ApiKey | None: ...

    def list_keys(self, account_id: str, limit: int, cursor: str | None) -> Page[ApiKey]: ...

    def rename_key(self, account_id: str, key_id: str, name: str) -> None: ...

    def remove_key(self, api_key: ApiKey) -> None:
        """Delete the key's pointer and record together: the key authenticates no more."""
        ...


class MemberRepository(Protocol):
    """The dashboard users each account lists, with their roles (written on invite, on first
    sign-in, on a role change, on removal).

    `change_role` and `mark_removing` commit only if the member still has the role it was read
    with and is not being removed, and, when `keep_owner` names another member, only if that
    member is still an owner not being removed (one transaction): two owners taking each other's
    ownership at once can never leave the account without one. `ConcurrentUpdate` otherwise.
    """

    def add_member(self, member: AccountMember) -> bool:
        """Record the member; False when already recorded (nothing changed)."""
        ...

    def get_member(self, account_id: str, member_id: str) -> AccountMember | None: ...

    def list_members(self, account_id: str, limit: int, cursor: str | None) -> Page[AccountMember]: ...

    def all_members(self, account_id: str) -> list[AccountMember]:
        """Every member of the account (an account has few people)."""
        ...

    def change_role(self, member: AccountMember, role: Role, keep_owner: str | None) -> None: ...

    def mark_removing(self, member: AccountMember, keep_owner: str | None) -> None: ...

    def remove_member(self, account_id: str, member_id: str) -> None: ...


class OrganisationRepository(Protocol):
    def add(self, organisation: Organisation) -> None:
        """Store a new organisation and its membership in the account."""
        ...

    def get(self, organisation_id: str) -> Organisation | None: ...

    def owner_of(self, organisation_id: str) -> str | None:
        """The account id that owns the organisation, or None when there is no such organisation."""
        ...

    def list_for_account(self, account_id: str, limit: int, cursor: str | None) -> Page[Organisation]: ...

    def save(self, organisation: Organisation) -> Organisation:
        """Write the organisation if nobody changed it since it was read (its `version`).

        Returns it with the new version; raises `ConcurrentUpdate` otherwise.
        """
        ...


class CustomerRepository(Protocol):
    def add(self, customer: Customer) -> None:
        """Store a new customer and claim its external ids (`Conflict` if one is taken)."""
        ...

    def get(self, organisation_id: str, customer_id: str) -> Customer | None: ...

    def find_by_external_id(self, organisation_id: str, external_id: str) -> Customer | None: ...

    def list(self, organisation_id: str, limit: int, cursor: str | None) -> Page[Customer]: ...

    def search_by_name(
        self, organisation_id: str, prefix: str, limit: int, cursor: str | None
    ) -> Page[Customer]:
        """Customers whose name starts with `prefix`, case and accents aside, in name order."""
        ...

    def save(
        self, customer: Customer, claimed_external_ids: set[str], released_external_ids: set[str]
    ) -> Customer:
        """Write the customer if unchanged since read, claiming new external ids and releasing old ones.

        Raises `ConcurrentUpdate` if the customer changed, `Conflict` if an external id is taken.
        """
        ...

    def delete(self, customer: Customer) -> None:
        """Remove the customer and its external ids if unchanged since read and never invoiced.

        Raises `ConcurrentUpdate` otherwise (the service checks for issued invoices before).
        """
        ...


class LogoStore(Protocol):
    def put_logo(self, organisation_id: str, logo: PreparedLogo) -> str:
        """Store the logo and return the key it is kept under (the same logo, the same key). Stored
        logos are never deleted: issued documents keep showing theirs.
        """
        ...

    def get_logo(self, key: str) -> tuple[bytes, str] | None:
        """The image bytes and content type, or None when there is no such logo."""
        ...


class LogoImages(Protocol):
    def prepare(self, content: bytes, content_type: str) -> PreparedLogo:
        """The upload as the logo to store: pixels drawn from it (PNG, or JPEG for a JPEG), fitted into
        `LOGO_BOX`. Raises `UnusableLogo`, saying why, for bytes that are not an image of
        `content_type`, an image over `MAX_UPLOAD_PIXELS`, or an SVG that cannot be drawn safely.
        """
        ...


class BillingTransaction(Protocol):
    """Writes staged for one atomic commit (see the DynamoDB adapter for the conditions each carries)."""

    def insert_invoice(self, invoice: Invoice) -> None: ...
    def update_invoice(self, invoice: Invoice, *, as_read: Invoice) -> Invoice:
        """Write `invoice` if still at `as_read`'s version (the overview counts the difference)."""
        ...

    def delete_invoice(self, invoice: Invoice) -> None: ...
    def claim_number(self, invoice: Invoice, token: str) -> None: ...
    def advance_numbering(self, sequence: int) -> None: ...
    def adjust_customer(
        self,
        customer_id: str,
        now: datetime,
        *,
        balances: Mapping[str, int] | None = None,
        as_read: Customer | None = None,
        issued_invoices: int = 0,
        expected_version: int | None = None,
        card_on_file: CardOnFile | None = None,
        next_charges_billing: date | None = None,
    ) -> None:
        """One update of the customer; `balances` (all currencies) only if still as `as_read` had them."""
        ...

    def insert_balance_transaction(self, transaction: BalanceTransaction) -> None: ...
    def insert_charge(self, charge: Charge) -> None: ...
    def update_charge(self, charge: Charge, expected_status: str) -> None: ...
    def delete_charge(self, charge: Charge) -> None: ...
    def insert_payment(self, payment: Payment, request: str | None = None) -> None: ...
    def insert_outbox(self, message: OutboxMessage) -> None: ...
    def insert_event(self, event: InvoiceEvent) -> None: ...
    def delete_events(self, invoice_id: str, event_ids: list[str]) -> None: ...
    def claim_webhook_event(self, event_id: str, event_type: str, now: datetime) -> None: ...
    def save_card_intent(self, intent: CardIntent) -> CardIntent: ...
    def mark_payment_refunded(self, payment_id: str) -> None: ...
    def commit(self) -> None: ...


class BillingStore(Protocol):
    def transaction(self, organisation_id: str) -> BillingTransaction: ...

    def read_for_billing(
        self, organisation_id: str, invoice_id: str | None = None, customer_id: str | None = None
    ) -> tuple[Organisation | None, Invoice | None, Customer | None]: ...

    def get_invoice(self, organisation_id: str, invoice_id: str) -> Invoice | None: ...

    def find_hosted(self, token: str) -> tuple[str, str] | None: ...

    def get_customers(self, organisation_id: str, customer_ids: list[str]) -> list[Customer]: ...

    def get_template(self, organisation_id: str, template_id: str) -> BillingTemplate | None: ...

    def list_templates(
        self, organisation_id: str, limit: int, cursor: str | None
    ) -> Page[BillingTemplate]: ...

    def save_template(
        self, organisation_id: str, template: BillingTemplate, new: bool
    ) -> BillingTemplate: ...

    def delete_template(self, organisation_id: str, template_id: str) -> bool: ...

    def list_invoices(
        self,
        organisation_id: str,
        limit: int,
        cursor: str | None,
        status: str | None,
        customer_id: str | None,
        *,
        newest_first: bool = False,
    ) -> Page[Invoice]: ...

    def list_events(self, organisation_id: str, invoice_id: str) -> list[InvoiceEvent]: ...

    def list_charges(
        self,
        organisation_id: str,
        customer_id: str,
        limit: int,
        cursor: str | None,
        status: str | None = None,
    ) -> Page[Charge]: ...

    def open_charges(self, organisation_id: str, customer_id: str) -> list[Charge]: ...

    def get_charges(self, organisation_id: str, customer_id: str, charge_ids: list[str]) -> list[Charge]: ...

    def get_payment(self, organisation_id: str, payment_id: str) -> Payment | None: ...

    def payment_of_request(self, organisation_id: str, request: str) -> Payment | None:
        """The payment recorded by the request `request` (see `BillingTransaction.insert_payment`)."""
        ...

    def list_payments(
        self,
        organisation_id: str,
        limit: int,
        cursor: str | None,
        invoice_id: str | None,
        customer_id: str | None,
    ) -> Page[Payment]: ...

    def list_balance_transactions(
        self, organisation_id: str, customer_id: str, limit: int, cursor: str | None
    ) -> Page[BalanceTransaction]: ...

    def read_overview(self, organisation_id: str, window: OverviewWindow) -> OverviewReading:
        """The organisation's overview counters for `window` and its oldest overdue open invoices, in
        a number of reads that does not grow with its invoices (see `OverviewReading`)."""
        ...


class CardPaymentReading(Protocol):
    """What applying one card event starts from, read together."""

    @property
    def organisation_exists(self) -> bool: ...
    @property
    def invoice(self) -> Invoice | None: ...
    @property
    def intent(self) -> CardIntent | None: ...
    @property
    def already_applied(self) -> bool: ...


class CardPaymentStore(Protocol):
    def read(
        self,
        organisation_id: str,
        invoice_id: str | None,
        payment_intent_id: str | None,
        event_id: str | None,
    ) -> CardPaymentReading:
        """The organisation's existence, the invoice, the intent's state and the event's marker, in one
        strongly consistent round trip (what is not asked for reads as absent).
        """
        ...


class InvoicePdfRenderer(Protocol):
    def render(self, document: InvoiceDocument, logo: tuple[bytes, str] | None) -> bytes:
        """The invoice as a PDF (A4): branding, parties, lines, totals, instructions, PAID/VOID mark."""
        ...


class EmailRenderer(Protocol):
    def render(
        self,
        kind: EmailKind,
        document: InvoiceDocument,
        payment: Payment | None = None,
        reminder: ReminderStep | None = None,
    ) -> RenderedEmail:
        """Subject, HTML and plain-text body of an invoice email, void notice, payment receipt or reminder."""
        ...


class HostedPageRenderer(Protocol):
    def invoice_page(self, document: InvoiceDocument, notice: str | None = None) -> str:
        """The public hosted invoice page (HTML), with an optional notice (e.g. a declined card)."""
        ...

    def not_found_page(self) -> str: ...


class Mailer(Protocol):
    def send(self, email: OutgoingEmail) -> str:
        """Send the email; returns the provider's message id. Raises on failure (the caller retries)."""
        ...


class DocumentStore(Protocol):
    def put_pdf(self, organisation_id: str, invoice_id: str, revision: str, content: bytes) -> None: ...

    def get_pdf(self, organisation_id: str, invoice_id: str, revision: str) -> bytes | None: ...

    def put_render_attempt(
        self, organisation_id: str, invoice_id: str, revision: str, attempt: RenderAttempt
    ) -> None:
        """Record the latest render of the revision's PDF (started, or failed)."""
        ...

    def get_render_attempt(
        self, organisation_id: str, invoice_id: str, revision: str
    ) -> RenderAttempt | None: ...


class PaymentProviderSecrets(Protocol):
    """The organisation's provider credentials in a secret store (never the table)."""

    def put(self, organisation_id: str, credentials: ProviderCredentials) -> None: ...

    def get(self, organisation_id: str) -> ProviderCredentials | None: ...

    def delete(self, organisation_id: str) -> None: ...


class CardGateway(Protocol):
    """A card provider's API, called with the organisation's own credentials."""

    def create_checkout(
        self, credentials: ProviderCredentials, request: CheckoutRequest
    ) -> CheckoutSession: ...

    def charge_off_session(self, credentials: ProviderCredentials, charge: OffSessionCharge) -> str:
        """Start an off-session charge of a saved card; returns the payment intent id (result by webhook)."""
        ...

    def verify_event(
        self, credentials: ProviderCredentials, payload: bytes, signature: str | None
    ) -> CardPaymentEvent | None:
        """The verified event (signature and 300 s tolerance), None for event types Remit ignores.

        Raises `InvalidSignature` for a bad, stale or missing signature.
        """
        ...


class WorkQueue(Protocol):
    def send(self, messages: Sequence[Mapping[str, Any]]) -> None:
        """Queue every message (JSON objects) for the billing worker, or raise: none is dropped."""
        ...


class RecurringTransaction(BillingTransaction, Protocol):
    """A billing transaction that also claims periods and run items and moves subscriptions."""

    def claim_period(self, subscription_id: str, period_start: date, invoice_id: str) -> None: ...
    def claim_charges_cycle(self, customer_id: str, day: date, invoice_id: str | None) -> None: ...
    def claim_run_item(self, run_id: str, item_id: str) -> None: ...
    def save_subscription(self, subscription: Subscription) -> Subscription: ...
    def schedule_charges_billing(self, customer: Customer, next_day: date, now: datetime) -> None: ...
    def insert_run(self, run: BillingRun) -> None: ...
    def count_on_run(
        self,
        run_id: str,
        *,
        invoice_id: str | None = None,
        item_done: bool = False,
        skipped: bool = False,
        error: BillingRunError | None = None,
    ) -> None: ...


class RecurringStore(Protocol):
    """Subscriptions, billing runs and the due index (see the DynamoDB adapter for the layout)."""

    def transaction(self, organisation_id: str) -> RecurringTransaction: ...
    def read_subscription(
        self,
        organisation_id: str,
        subscription_id: str,
        customer_id: str | None = None,
        with_customer: bool = True,
    ) -> tuple[Organisation | None, Subscription | None, Customer | None]: ...
    def list_subscriptions(
        self, organisation_id: str, limit: int, cursor: str | None
    ) -> Page[Subscription]: ...
    def get_run(self, organisation_id: str, run_id: str, invoice_ids: bool = True) -> BillingRun | None: ...
    def list_runs(self, organisation_id: str, limit: int, cursor: str | None) -> Page[BillingRun]: ...
    def run_items_done(self, organisation_id: str, run_id: str, item_ids: list[str]) -> set[str]: ...
    def cycle_runs(self, organisation_id: str, day: date) -> list[BillingRun]: ...
    def record_cycle_run(self, run: BillingRun, part: int) -> bool: ...
    def mark_run_completed(self, organisation_id: str, run_id: str, now: datetime) -> bool: ...
    def due_entries(self, through: date) -> Iterator[tuple[date, str, str, str]]: ...
    def organisations(self, organisation_ids: list[str]) -> dict[str, Organisation]: ...


class ReminderTransaction(BillingTransaction, Protocol):
    """A billing transaction that also claims reminder steps and counts the reminders run."""

    def claim_reminder(self, invoice_id: str, step: str) -> None: ...
    def claim_run_invoice(self, day: date, invoice_id: str) -> None: ...
    def count_on_run(self, day: date, sent: bool, reason: str | None) -> None: ...


class ReminderStore(Protocol):
    """The reminder index, the invoices it points to and the runs' summaries."""

    def transaction(self, organisation_id: str) -> ReminderTransaction: ...
    def due_reminders(self, through: date) -> Iterator[tuple[date, str, str, str]]: ...
    def read(
        self, organisation_id: str, invoice_id: str, customer_id: str
    ) -> tuple[Organisation | None, Invoice | None, Customer | None]: ...
    def record_run(self, run: ReminderRun) -> None: ...
    def get_run(self, organisation_id: str, day: date) -> ReminderRun | None: ...
    def organisations(self, organisation_ids: list[str]) -> dict[str, Organisation]: ...


class UserDirectory(Protocol):
    """The dashboard's users (Amazon Cognito in AWS, moto's in the local stack and the tests).

    `sign_in` raises `SignInRefused` for a wrong email or password and `SignInNeedsMoreSteps` when
    the directory asks for more (TOTP, a new password); `refresh` and `user_of` raise
    `Unauthenticated` for a token the directory no longer honours.
    """

    def sign_in(self, email: str, password: str) -> SessionTokens: ...

    def refresh(self, email: str, refresh_token: str) -> SessionTokens: ...

    def user_of(self, access_token: str) -> DashboardUser: ...

    def sign_out(self, access_token: str) -> None: ...

    def create_user(self, email: str, account_id: str, password: str) -> None: ...

    def invite(self, email: str, account_id: str, temporary_password: str | None) -> None:
        """Create a user of `account_id` who must set a new password at first sign-in: the
        directory emails a temporary password it makes, or `temporary_password` is set and nothing
        is sent. `InvalidInput` (field `email`) for an email already taken or refused.
        """
        ...

    def respond(self, email: str, challenge: str, session: str, answers: Mapping[str, str]) -> SessionTokens:
        """Answer a sign-in step (`NEW_PASSWORD` or `SOFTWARE_TOKEN_MFA_CODE` in `answers`).

        Raises `SignInNeedsMoreSteps` for yet another step, `SignInRefused` for a wrong code or an
        expired step, `InvalidInput` (field `new_password`) for a password the policy refuses.
        """
        ...

    def remove(self, email: str) -> None:
        """Sign the user out everywhere (refresh tokens revoked) and delete them. Idempotent."""
        ...

    def start_totp(self, access_token: str, email: str) -> TotpSetup:
        """A new software-token secret for the signed-in user (not in use until confirmed)."""
        ...

    def confirm_totp(self, access_token: str, code: str) -> None:
        """Check a code of the new secret and make TOTP the user's sign-in step.

        `InvalidInput` (field `code`) for a wrong code.
        """
        ...

    def totp_enabled(self, access_token: str) -> bool: ...


class SessionStore(Protocol):
    """Dashboard sessions and failed sign-in counters (DynamoDB's `SessionsTable`, expired by TTL).

    `get` returns None for an unknown or expired session; `failed_sign_ins` counts the failures of
    one email digest in the window that starts at `window_start`.
    """

    def add(self, session: DashboardSession) -> None: ...

    def get(self, session_digest: str, now: datetime) -> DashboardSession | None: ...

    def replace_tokens(self, session_digest: str, tokens: SessionTokens) -> None: ...

    def remove(self, session_digest: str) -> None: ...

    def count_failed_sign_in(
        self, email_digest: str, window_start: datetime, window_end: datetime
    ) -> int: ...

    def failed_sign_ins(self, email_digest: str, window_start: datetime) -> int: ...

    def remove_sessions_of(self, email_digest: str) -> int:
        """End every session of the email (the user was removed); returns how many ended."""
        ...

    def add_pending(self, pending: PendingSignIn) -> None:
        """Keep a sign-in waiting for its next step (replacing one of the same digest)."""
        ...

    def get_pending(self, step_digest: str, now: datetime) -> PendingSignIn | None: ...

    def remove_pending(self, step_digest: str) -> None: ...

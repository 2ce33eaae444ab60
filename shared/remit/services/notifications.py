"""Delivering the outbox: the emails owed by committed state changes, each sent once (invariant 9).

An outbox message is written in the same transaction as the change that owes it (sending,
voiding, a payment), so a rolled-back change owes nothing and a committed one always owes its
email. Delivery has two halves, so that mail is sent in parallel rather than one shard at a time:

* the notifications function hands every new message (from the table's stream) to the send
  queue with `queue_for_sending`, and on a schedule `sweep` hands it the messages still owed a
  while later (a failed first delivery, a worker that died, a stream record whose retries ran
  out). Queuing is cheap and may repeat: a message queued twice is still sent once;
* the send worker, as many at once as the queue's event source mapping allows, calls `deliver`
  for each queued message: it renders (or fetches) the PDF and sends the email.

Exactly once, and its one window. `deliver` claims the message with a conditional write before
sending, so no two workers send it at the same time, and a sent message is never claimed again.
A claim is a lease (`CLAIM_LEASE`) longer than the function's timeout: it can only run out once
the invocation holding it has ended. The one way to send twice is for that invocation to end
(crash, timeout, lost connection) after the mail service accepted the email and before `mark_sent`
is recorded: the message is then still `sending`, and once the lease runs out the sweep sends it
again. Nothing can close that window: the provider's accept and our write are two systems.
A message the send queue delivers twice, or the sweep queues again, is claimed once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from remit.domain.credit_notes import CreditNote
from remit.domain.documents import Attachment, CreditNoteDocument, OutgoingEmail, document_locale
from remit.domain.errors import DocumentUnavailable, UnrenderableText
from remit.domain.outbox import OutboxMessage
from remit.domain.owed_email import OwedEmail
from remit.domain.payment import Payment
from remit.domain.portal import EMAILED_LINK_LIFETIME
from remit.domain.reminders import step_of
from remit.observability import logger
from remit.ports.billing import BillingStore
from remit.ports.clock import Clock
from remit.ports.credit_notes import CreditNoteReader
from remit.ports.mail import EmailRenderer, Mailer
from remit.ports.queues import WorkQueue
from remit.services.documents import DocumentService
from remit.services.retry import back_off

# Longer than the notifications function's timeout (template.yaml), so a claim only runs out
# after the invocation that holds it has ended.
CLAIM_LEASE = timedelta(minutes=5)
# The stream queues a new message at once; the sweep leaves younger ones to it.
SWEEP_MIN_AGE = timedelta(minutes=1)
# A mail service that is down for longer than this is not "briefly down": stop and alert.
GIVE_UP_AFTER = timedelta(hours=24)
# Messages one sweep queues at most, unless configured (REMIT_OUTBOX_SWEEP_LIMIT, the template's
# OutboxSweepLimit): at one SQS call per ten, well inside the function's timeout. The next sweep
# takes the rest.
SWEEP_LIMIT = 10_000
# Owed messages read from the index at once: a sweep holds one page (per index shard) in memory.
SWEEP_PAGE = 500
# Tries at recording an accepted email as sent before leaving it to the lease (see `_record_sent`).
RECORD_SENT_ATTEMPTS = 5
_ERROR_LENGTH = 1000

DeliveryOutcome = Literal["sent", "skipped", "given_up"]


class OutboxRepository(Protocol):
    """The outbox's delivery state (the DynamoDB adapter says which condition each step carries)."""

    def get(self, organisation_id: str, message_id: str) -> OutboxMessage | None: ...

    def claim(
        self, organisation_id: str, message_id: str, now: datetime, lease: timedelta
    ) -> OutboxMessage | None:
        """The message, now `sending` and held by the caller until `now + lease`; None when it is
        unknown, already sent or failed, or held by a live claim of another worker."""
        ...

    def mark_sent(self, message: OutboxMessage, provider_message_id: str, now: datetime) -> bool: ...

    def release(self, message: OutboxMessage, error: str) -> bool: ...

    def give_up(self, message: OutboxMessage, error: str) -> bool: ...

    def owed(
        self, created_before: datetime, limit: int, after: str | None = None
    ) -> tuple[list[OutboxMessage], str | None]:
        """Up to `limit` owed messages created before `created_before`, oldest first, from the cursor
        `after`; and the cursor of the next page (None: none left)."""
        ...


class UndeliverableMessage(Exception):
    """The message can never be sent as it stands (its invoice or payment is gone, say)."""


@dataclass(frozen=True)
class SweepReport:
    """What one sweep did: the owed messages it handed to the send queue."""

    queued: int = 0


class NotificationService:
    def __init__(
        self,
        outbox: OutboxRepository,
        billing: BillingStore,
        email_renderer: Callable[[], EmailRenderer],
        documents: DocumentService,
        mailer: Mailer,
        clock: Clock,
        send_queue: WorkQueue,
        credit_notes: CreditNoteReader,
        sweep_limit: int = SWEEP_LIMIT,
    ) -> None:
        self._outbox = outbox
        self._billing = billing
        # A factory: Jinja2 is imported only when an email is actually rendered.
        self._email_renderer = email_renderer
        # The PDFs customers see everywhere: stored per revision, rendered when missing.
        self._documents = documents
        self._mailer = mailer
        self._clock = clock
        self._send_queue = send_queue
        self._sweep_limit = sweep_limit
        self._credit_notes = credit_notes

    def queue_for_sending(self, owed: Sequence[OwedEmail]) -> None:
        """Hand each owed email to the send queue, whose workers deliver it (`deliver`).

        Idempotent in effect: queuing a message again (a retried stream batch, a sweep) costs one
        more queue message and sends nothing more, since `deliver` claims before sending. Writes
        nothing to the table. Raises what the queue raised when it refused a message after its
        retries; the caller's trigger retries the whole batch (and the sweep queues it later).
        """
        self._send_queue.send(
            [{"organisation_id": email.organisation_id, "message_id": email.message_id} for email in owed]
        )

    def deliver(self, organisation_id: str, message_id: str) -> DeliveryOutcome:
        """Send the owed email `message_id` unless it has been sent or someone else is sending it.

        Idempotent: however often and however concurrently it is called for one message, the email
        is sent once (see the module's docstring for the one window where a crash sends it twice).
        Returns "sent", "skipped" (nothing to do now) or "given_up" (the message can never be sent,
        or has failed for `GIVE_UP_AFTER`: it is marked `failed` and left for a human).

        Raises what the mail service (or reading the invoice) raised after handing the message back
        as `pending` with the error recorded, so that the caller's trigger retries it; the sweep
        retries it as well.
        """
        message = self._outbox.claim(organisation_id, message_id, self._clock.now(), CLAIM_LEASE)
        if message is None:
            return "skipped"
        try:
            provider_message_id = self._mailer.send(self._email(message))
        except UndeliverableMessage as error:
            self._give_up(message, str(error))
            return "given_up"
        except Exception as error:
            reason = f"{type(error).__name__}: {error}"[:_ERROR_LENGTH]
            if self._clock.now() - message.created_at >= GIVE_UP_AFTER:
                self._give_up(message, reason)
                return "given_up"
            self._outbox.release(message, reason)
            raise
        if not self._record_sent(message, provider_message_id):
            # Only if this invocation outlived its lease: another worker may send the email again.
            logger.warning(
                "Sent an email whose claim had run out",
                extra={"outbox_message_id": message.id, "provider_message_id": provider_message_id},
            )
        return "sent"

    def _record_sent(self, message: OutboxMessage, provider_message_id: str) -> bool:
        """`mark_sent`, retried while it fails (a throttle, a timeout): the email has gone, and raising
        would leave the message `sending` for the sweep to send again once its lease runs out.

        A retry after an attempt that landed finds the claim spent and answers False; so does giving
        up after `RECORD_SENT_ATTEMPTS` (logged: that email may be sent twice).
        """
        for number in range(RECORD_SENT_ATTEMPTS):
            try:
                return self._outbox.mark_sent(message, provider_message_id, self._clock.now())
            except Exception:
                if number == RECORD_SENT_ATTEMPTS - 1:
                    logger.exception(
                        "Could not record a sent email; the sweep may send it again",
                        extra={"outbox_message_id": message.id, "provider_message_id": provider_message_id},
                    )
                    return False
                back_off(number)
        raise AssertionError("unreachable")

    def sweep(
        self,
        now: datetime | None = None,
        limit: int | None = None,
        time_is_up: Callable[[], bool] = lambda: False,
    ) -> SweepReport:
        """Queue for sending every owed message created more than `SWEEP_MIN_AGE` before `now`,
        oldest first, at most `limit` of them (by default the sweep limit it was built with; the
        schedule calls again for the rest), reading the
        owed messages a page (`SWEEP_PAGE`) at a time.

        These are messages whose first delivery failed, whose worker died while sending, or whose
        stream record was never queued. A message still waiting in the send queue may be queued
        again: it is sent once all the same (see `queue_for_sending`). Nothing is queued once
        `time_is_up()`. Raises what the queue raised; what was queued before stays queued.
        """
        created_before = (now or self._clock.now()) - SWEEP_MIN_AGE
        limit = self._sweep_limit if limit is None else limit
        queued = 0
        cursor: str | None = None
        while queued < limit:
            page, cursor = self._outbox.owed(created_before, min(SWEEP_PAGE, limit - queued), after=cursor)
            # Ten at a time: one SendMessageBatch each, and the deadline checked between them.
            for start in range(0, len(page), 10):
                if time_is_up():
                    return SweepReport(queued=queued)
                batch = page[start : start + 10]
                self.queue_for_sending([OwedEmail(message.organisation_id, message.id) for message in batch])
                queued += len(batch)
            if cursor is None:
                break
        return SweepReport(queued=queued)

    def _give_up(self, message: OutboxMessage, reason: str) -> None:
        self._outbox.give_up(message, reason[:_ERROR_LENGTH])
        logger.error(
            "Gave up on an owed email",
            extra={"outbox_message_id": message.id, "organisation_id": message.organisation_id},
        )

    def _email(self, message: OutboxMessage) -> OutgoingEmail:
        """The email a message owes, rendered from the invoice as it stands now."""
        if message.kind == "portal_sign_in":
            return self._portal_sign_in(message)
        organisation, invoice, _ = self._billing.read_for_billing(
            message.organisation_id, invoice_id=message.invoice_id
        )
        if organisation is None or invoice is None:
            raise UndeliverableMessage(f"invoice {message.invoice_id} or its organisation no longer exists")
        if invoice.status == "draft":
            raise UndeliverableMessage(f"invoice {invoice.id} is a draft")
        payment = self._payment(message) if message.kind == "payment_receipt" else None
        credit_note = self._credit_note(message) if message.kind == "credit_note" else None
        document = self._documents.document(invoice, organisation)
        reminder = step_of(message.reminder) if message.kind == "reminder" and message.reminder else None
        credit_note_document: CreditNoteDocument | None = None
        if credit_note is not None:
            credit_note_document = self._documents.credit_note_document(credit_note, invoice, organisation)
        rendered = self._email_renderer().render(
            message.kind, document, payment, reminder, credit_note=credit_note_document
        )
        attachments = []
        if credit_note is not None:
            try:
                file_name, pdf = self._documents.credit_note_pdf_of(credit_note, invoice, organisation)
            except (UnrenderableText, DocumentUnavailable):
                # As for invoices: the email (and the link to the invoice's page) still goes out.
                logger.warning(
                    "Credit note email sent without its PDF, which could not be drawn",
                    extra={"outbox_message_id": message.id, "credit_note_id": credit_note.id},
                )
            else:
                attachments.append(
                    Attachment(filename=file_name, content_type="application/pdf", content=pdf)
                )
        if message.kind in ("invoice", "reminder"):
            try:
                _, pdf = self._documents.pdf_of(invoice, organisation)
            except (UnrenderableText, DocumentUnavailable):
                # The email (its text and the hosted page's link) still reaches the customer; the
                # refused or failed PDF is logged, counted and alarmed where it failed (docs/documents.md).
                logger.warning(
                    "Invoice email sent without its PDF, which could not be drawn",
                    extra={"outbox_message_id": message.id, "invoice_id": invoice.id},
                )
            else:
                attachments.append(
                    Attachment(filename=f"{document.number}.pdf", content_type="application/pdf", content=pdf)
                )
        return OutgoingEmail(
            sender_name=organisation.name,
            reply_to=organisation.email,
            to=message.to,
            subject=rendered.subject,
            html=rendered.html,
            text=rendered.text,
            attachments=attachments,
        )

    def _portal_sign_in(self, message: OutboxMessage) -> OutgoingEmail:
        """A portal sign-in link, in the customer's language and the organisation's colour."""
        organisation, _, customer = self._billing.read_for_billing(
            message.organisation_id, customer_id=message.customer_id
        )
        if organisation is None or customer is None or not message.portal_link:
            raise UndeliverableMessage(f"customer {message.customer_id} or its organisation no longer exists")
        rendered = self._email_renderer().render_portal_sign_in(
            document_locale(customer.preferred_locale, organisation.locale),
            organisation.name,
            organisation.branding.brand_colour,
            message.portal_link,
            int(EMAILED_LINK_LIFETIME.total_seconds() // 60),
        )
        return OutgoingEmail(
            sender_name=organisation.name,
            reply_to=organisation.email,
            to=message.to,
            subject=rendered.subject,
            html=rendered.html,
            text=rendered.text,
            attachments=[],
        )

    def _credit_note(self, message: OutboxMessage) -> CreditNote:
        credit_note_id = message.credit_note_id
        credit_note = (
            self._credit_notes.get(message.organisation_id, credit_note_id) if credit_note_id else None
        )
        if credit_note is None or credit_note.invoice_id != message.invoice_id:
            raise UndeliverableMessage(f"credit note {message.credit_note_id} no longer exists")
        return credit_note

    def _payment(self, message: OutboxMessage) -> Payment:
        # A consistent read by key: the payment was committed with the message, an index may lag.
        payment_id = message.payment_id
        payment = self._billing.get_payment(message.organisation_id, payment_id) if payment_id else None
        if payment is None or payment.invoice_id != message.invoice_id:
            raise UndeliverableMessage(f"payment {message.payment_id} no longer exists")
        return payment

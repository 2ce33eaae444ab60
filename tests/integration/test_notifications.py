"""Mail follows commits (invariant 9): owed emails are queued for sending, delivered once whatever
the redeliveries, retried until sent, and never sent for a change that was rolled back. Real
DynamoDB, SQS and SES (moto); fake renderers.
"""

from __future__ import annotations

import copy
import io
import json
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from local.aws_emulation import sent_emails
from local.cloudformation import load_template
from local.dev_outbox import sent_email
from local.queue_worker import QueueMapping
from local.stream_worker import StreamMapping
from remit.adapters.dynamodb import DynamoTable
from remit.adapters.dynamodb_billing import DynamoBillingStore
from remit.adapters.dynamodb_outbox import DynamoOutboxRepository
from remit.adapters.s3_logos import S3LogoStore
from remit.adapters.ses_mailer import SesMailer, mime_message
from remit.domain.document_renders import RenderAttempt
from remit.domain.documents import (
    CreditNoteDocument,
    EmailKind,
    InvoiceDocument,
    OutgoingEmail,
    RenderedEmail,
)
from remit.domain.errors import ConcurrentUpdate, FieldProblem, UnrenderableText
from remit.domain.ids import new_id
from remit.domain.numbering import NumberSeries
from remit.domain.outbox import OutboxMessage
from remit.domain.owed_email import OwedEmail
from remit.domain.payment import Payment
from remit.domain.reminders import ReminderStep
from remit.ports.queues import WorkQueue
from remit.services.billing_context import BillingContext
from remit.services.documents import DocumentService
from remit.services.notifications import CLAIM_LEASE, GIVE_UP_AFTER, NotificationService
from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.billing_queue import LambdaContextStub
from tests.integration.conftest import LOGO_BUCKET, SettableClock
from tests.integration.credit_notes import MemoryCreditNoteReader, a_credit_note

EVENTS = Path(__file__).resolve().parents[2] / "events" / "notifications"
MAIL_FROM = "invoices@remit.test"


# ---------------------------------------------------------------------------------------------
# Fakes for the renderers (the real ones have their own tests) and a mailer that can fail.


class SubjectOnlyRenderer:
    def render(
        self,
        kind: EmailKind,
        document: InvoiceDocument,
        payment: Payment | None = None,
        reminder: ReminderStep | None = None,
        credit_note: CreditNoteDocument | None = None,
    ) -> RenderedEmail:
        paid = f" ({payment.amount} received)" if payment else ""
        step = f" ({reminder.describe()})" if reminder else ""
        credited = f" ({credit_note.number} credits {credit_note.total})" if credit_note else ""
        return RenderedEmail(
            subject=f"{kind}: {document.number} from {document.seller.name}{paid}{step}{credited}",
            html=f"<p>Invoice {document.number}</p>",
            text=f"Invoice {document.number}",
        )


class CountingPdfRenderer:
    def __init__(self) -> None:
        self.rendered = 0
        self.refuse = False  # as the real renderer refuses text no font can draw
        self.fail = False  # as a render that runs out of memory

    def render(self, document: InvoiceDocument, logo: tuple[bytes, str] | None) -> bytes:
        self.rendered += 1
        if self.refuse:
            raise UnrenderableText([FieldProblem("memo", "no font can draw U+E000 (unnamed)")])
        if self.fail:
            raise MemoryError("out of memory")
        return f"%PDF-1.7 {document.number} {document.status}".encode()


class CountingCreditNotePdfRenderer:
    def __init__(self) -> None:
        self.rendered = 0
        self.refuse = False

    def render(self, document: CreditNoteDocument, logo: tuple[bytes, str] | None) -> bytes:
        self.rendered += 1
        if self.refuse:
            raise UnrenderableText([FieldProblem("memo", "no font can draw U+E000 (unnamed)")])
        return f"%PDF-1.7 {document.number} {document.status}".encode()


class HostedPageRendererNotUsed:
    def invoice_page(self, document: InvoiceDocument, notice: str | None = None) -> str:
        raise AssertionError("emails never render the hosted page")

    def not_found_page(self) -> str:
        raise AssertionError("emails never render the hosted page")


class MemoryDocumentStore:
    def __init__(self) -> None:
        self.pdfs: dict[tuple[str, str, str], bytes] = {}
        self.attempts: dict[tuple[str, str, str], RenderAttempt] = {}

    def put_pdf(self, organisation_id: str, invoice_id: str, status: str, content: bytes) -> None:
        self.pdfs[(organisation_id, invoice_id, status)] = content

    def get_pdf(self, organisation_id: str, invoice_id: str, status: str) -> bytes | None:
        return self.pdfs.get((organisation_id, invoice_id, status))

    def put_render_attempt(
        self, organisation_id: str, invoice_id: str, status: str, attempt: RenderAttempt
    ) -> None:
        self.attempts[(organisation_id, invoice_id, status)] = attempt

    def get_render_attempt(self, organisation_id: str, invoice_id: str, status: str) -> RenderAttempt | None:
        return self.attempts.get((organisation_id, invoice_id, status))


class FlakyMailer:
    """Passes emails on to `mailer`, except while `down` or for recipients in `bouncing`; counts sends."""

    def __init__(self, mailer: Any) -> None:
        self._mailer = mailer
        self.down = False
        self.bouncing: set[str] = set()
        self.sent: list[OutgoingEmail] = []
        self.before_send: Callable[[], None] = lambda: None
        self._lock = threading.Lock()

    def send(self, email: OutgoingEmail) -> str:
        self.before_send()
        if self.down or self.bouncing & set(email.to):
            raise ConnectionError("SES endpoint unreachable")
        message_id: str = self._mailer.send(email)
        with self._lock:
            self.sent.append(email)
        return message_id


# ---------------------------------------------------------------------------------------------
# Wiring


class MemorySendQueue:
    """The send queue, held in memory: what the service queued, in order, until a test takes it."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.refusing = False
        self._lock = threading.Lock()

    def send(self, messages: Any) -> None:
        if self.refusing:
            raise RuntimeError("SQS refused 1 messages 5 times")
        with self._lock:
            self.messages += [dict(message) for message in messages]

    def take(self) -> list[dict[str, Any]]:
        with self._lock:
            taken, self.messages = self.messages, []
        return taken


class Outbox(SimpleNamespace):
    service: NotificationService
    repository: DynamoOutboxRepository
    store: DynamoBillingStore
    mailer: FlakyMailer
    pdfs: CountingPdfRenderer
    documents: MemoryDocumentStore
    queue: MemorySendQueue
    credit_notes: MemoryCreditNoteReader
    credit_note_pdfs: CountingCreditNotePdfRenderer


def notifications(clock: SettableClock, send_queue: WorkQueue | None = None) -> Outbox:
    """The notification service over the test's tables and SES, as bootstrap wires it, queuing
    owed emails in memory (or on `send_queue`)."""
    boto3.client("sesv2").create_email_identity(EmailIdentity=MAIL_FROM)
    table = DynamoTable(lambda: boto3.client("dynamodb"), os.environ["REMIT_BILLING_TABLE"])
    repository = DynamoOutboxRepository(table)
    store = DynamoBillingStore(table)
    mailer = FlakyMailer(SesMailer(lambda: boto3.client("sesv2"), MAIL_FROM))
    renderer, pdfs, documents = SubjectOnlyRenderer(), CountingPdfRenderer(), MemoryDocumentStore()
    credit_notes, credit_note_pdfs = MemoryCreditNoteReader(), CountingCreditNotePdfRenderer()
    from remit.bootstrap import services

    pdf_documents = DocumentService(
        BillingContext(store, services().organisations, clock),
        S3LogoStore(lambda: boto3.client("s3"), LOGO_BUCKET),
        documents,
        lambda: pdfs,
        lambda: HostedPageRendererNotUsed(),
        credit_notes,
        lambda: credit_note_pdfs,
    )
    queue = MemorySendQueue()
    service = NotificationService(
        repository, store, lambda: renderer, pdf_documents, mailer, clock, send_queue or queue, credit_notes
    )
    return Outbox(
        service=service,
        repository=repository,
        store=store,
        mailer=mailer,
        pdfs=pdfs,
        documents=documents,
        queue=queue,
        credit_notes=credit_notes,
        credit_note_pdfs=credit_note_pdfs,
    )


def send_queued(outbox: Outbox) -> SimpleNamespace:
    """What the send worker does with every message queued so far: `deliver` each, counting outcomes
    (a failure is counted, as the worker reports it for SQS to deliver again)."""
    counts = {"sent": 0, "skipped": 0, "failed": 0, "given_up": 0}
    for message in outbox.queue.take():
        try:
            counts[outbox.service.deliver(message["organisation_id"], message["message_id"])] += 1
        except Exception:
            counts["failed"] += 1
    return SimpleNamespace(**counts)


def sweep(outbox: Outbox, **options: Any) -> SimpleNamespace:
    """A sweep, then the send worker over what it queued: what the two did together."""
    outbox.service.sweep(**options)
    return send_queued(outbox)


def owe(
    outbox: Outbox,
    clock: SettableClock,
    org: str,
    invoice: str,
    kind: EmailKind = "invoice",
    to: list[str] | None = None,
    payment_id: str | None = None,
    credit_note_id: str | None = None,
) -> OutboxMessage:
    """An owed email, committed as the services commit it (in a billing transaction)."""
    message = OutboxMessage(
        id=new_id("msg", clock.now()),
        organisation_id=org,
        invoice_id=invoice,
        kind=kind,
        to=to or ["ap@globex.test"],
        payment_id=payment_id,
        credit_note_id=credit_note_id,
        created_at=clock.now(),
    )
    transaction = outbox.store.transaction(org)
    transaction.insert_outbox(message)
    transaction.commit()
    return message


def stored_item(org: str, message_id: str) -> dict[str, Any] | None:
    from remit.adapters.dynamodb import from_attributes

    response = boto3.client("dynamodb").get_item(
        TableName=os.environ["REMIT_BILLING_TABLE"],
        Key={"PK": {"S": f"ORG#{org}"}, "SK": {"S": f"OUTBOX#{message_id}"}},
        ConsistentRead=True,
    )
    return from_attributes(response["Item"]) if "Item" in response else None


def status_of(org: str, message_id: str) -> str | None:
    item = stored_item(org, message_id)
    return item["status"] if item else None


@pytest.fixture
def acme(api: ApiClient, clock: SettableClock) -> Billing:
    return Billing(api, email="billing@acme.test")


# ---------------------------------------------------------------------------------------------
# Delivery


def test_an_owed_invoice_email_is_sent_from_the_organisation_to_the_recipients_with_the_pdf(
    acme: Billing, clock: SettableClock
) -> None:
    # Given an open invoice and the email its sending owes to two recipients
    outbox = notifications(clock)
    invoice = acme.finalized()
    message = owe(outbox, clock, acme.org, invoice["id"], to=["ap@globex.test", "cfo@globex.test"])

    # When it is delivered
    outcome = outbox.service.deliver(acme.org, message.id)

    # Then SES sent one email, under the organisation's name, with the invoice's PDF
    assert outcome == "sent"
    [raw] = sent_emails()
    shown = sent_email(raw)
    assert shown["to"] == ["ap@globex.test", "cfo@globex.test"]
    assert shown["subject"] == f"invoice: {invoice['number']} from Acme Ltd"
    assert shown["text"].strip() == f"Invoice {invoice['number']}"
    assert shown["html"].strip() == f"<p>Invoice {invoice['number']}</p>"
    assert shown["attachments"] == [
        {"filename": f"{invoice['number']}.pdf", "content_type": "application/pdf"}
    ]
    assert "Acme Ltd <invoices@remit.test>" in raw
    assert "Reply-To: billing@acme.test" in raw
    # ...rendered once for the invoice's status and kept for the next email
    assert outbox.pdfs.rendered == 1
    assert outbox.documents.pdfs[(acme.org, invoice["id"], "open-0")].startswith(b"%PDF-1.7")
    # ...and the message is recorded as sent, out of the sweep's queue
    item = stored_item(acme.org, message.id)
    assert item is not None
    assert item["status"] == "sent"
    assert item["attempts"] == 1
    assert item["provider_message_id"]
    assert "GSI1PK" not in item
    assert "GSI1SK" not in item


def test_an_invoice_whose_pdf_cannot_be_drawn_is_emailed_without_it_and_the_refusal_logged(
    acme: Billing, clock: SettableClock, captured_logs: io.StringIO
) -> None:
    outbox = notifications(clock)
    outbox.pdfs.refuse = True
    invoice = acme.finalized()
    message = owe(outbox, clock, acme.org, invoice["id"])

    outcome = outbox.service.deliver(acme.org, message.id)

    assert outcome == "sent"
    [raw] = sent_emails()
    assert sent_email(raw)["attachments"] == []
    assert "Invoice email sent without its PDF" in captured_logs.getvalue()
    assert outbox.documents.pdfs == {}


def test_an_invoice_whose_pdf_failed_to_render_is_emailed_without_it_and_the_failure_remembered(
    acme: Billing, clock: SettableClock, captured_logs: io.StringIO
) -> None:
    # Given an owed invoice email whose PDF fails to render
    outbox = notifications(clock)
    outbox.pdfs.fail = True
    invoice = acme.finalized()
    message = owe(outbox, clock, acme.org, invoice["id"])

    # When it is delivered, and the email is owed again (a resend)
    outcome = outbox.service.deliver(acme.org, message.id)
    resent = owe(outbox, clock, acme.org, invoice["id"])
    outbox.service.deliver(acme.org, resent.id)

    # Then both go without the PDF, which was tried once (its failure is remembered and logged)
    assert outcome == "sent"
    assert [sent_email(raw)["attachments"] for raw in sent_emails()] == [[], []]
    assert outbox.pdfs.rendered == 1
    assert "Invoice PDF could not be rendered" in captured_logs.getvalue()


def test_a_sender_name_with_commas_accents_or_line_breaks_stays_one_display_name() -> None:
    import email
    import email.policy

    outgoing = OutgoingEmail(
        sender_name="Café Crème, Ltd\nBcc: victim@example.test",
        reply_to="billing@cafe.test",
        to=["ap@globex.test"],
        subject="Invoice CC-00001\r\nBcc: victim@example.test",
        html="<p>Ça va</p>",
        text="Ça va",
    )

    raw = mime_message(outgoing, MAIL_FROM).as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)

    assert raw.isascii()
    [sender] = parsed["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Café Crème, Ltd Bcc: victim@example.test", MAIL_FROM)
    assert parsed["Subject"] == "Invoice CC-00001 Bcc: victim@example.test"
    assert parsed["Bcc"] is None


def test_a_void_notice_has_no_attachment_and_a_stored_pdf_is_not_rendered_again(
    acme: Billing, clock: SettableClock
) -> None:
    outbox = notifications(clock)
    invoice = acme.finalized()
    first = owe(outbox, clock, acme.org, invoice["id"])
    void_notice = owe(outbox, clock, acme.org, invoice["id"], kind="void_notice")
    resent = owe(outbox, clock, acme.org, invoice["id"])

    for message in (first, void_notice, resent):
        outbox.service.deliver(acme.org, message.id)

    shown = [sent_email(raw) for raw in sent_emails()]
    assert [len(email["attachments"]) for email in shown] == [1, 0, 1]
    assert outbox.pdfs.rendered == 1


def test_a_payment_receipt_is_rendered_with_its_payment(acme: Billing, clock: SettableClock) -> None:
    outbox = notifications(clock)
    invoice = acme.finalized()
    assert acme.pay(invoice["id"], 500).status == 201
    [payment] = acme.api.get(f"{acme.base}/payments?invoice_id={invoice['id']}").json()["data"]
    receipt = owe(outbox, clock, acme.org, invoice["id"], kind="payment_receipt", payment_id=payment["id"])

    assert outbox.service.deliver(acme.org, receipt.id) == "sent"

    [email] = outbox.mailer.sent
    assert email.subject.endswith("(500 received)")
    assert email.attachments == []


def test_a_credit_note_email_is_sent_once_with_the_credit_notes_pdf(
    acme: Billing, clock: SettableClock
) -> None:
    # Given a credit note of an issued invoice, and the email its issue owes the billing recipients
    outbox = notifications(clock)
    invoice = acme.finalized()
    note = outbox.credit_notes.add(
        a_credit_note(
            organisation_id=acme.org,
            invoice_id=invoice["id"],
            invoice_number=invoice["number"],
            number="ACME-CN-00001",
        )
    )
    message = owe(outbox, clock, acme.org, invoice["id"], kind="credit_note", credit_note_id=note.id)

    # When it is delivered, and delivered again
    outcomes = [outbox.service.deliver(acme.org, message.id) for _ in range(2)]

    # Then one email went out, rendered with the credit note, carrying its PDF (not the invoice's)
    assert outcomes == ["sent", "skipped"]
    [raw] = sent_emails()
    shown = sent_email(raw)
    assert (
        shown["subject"] == f"credit_note: {invoice['number']} from Acme Ltd (ACME-CN-00001 credits 123000)"
    )
    assert shown["attachments"] == [{"filename": "ACME-CN-00001.pdf", "content_type": "application/pdf"}]
    assert outbox.credit_note_pdfs.rendered == 1
    assert outbox.pdfs.rendered == 0
    assert status_of(acme.org, message.id) == "sent"


def test_a_credit_note_whose_pdf_cannot_be_drawn_is_emailed_without_it(
    acme: Billing, clock: SettableClock
) -> None:
    outbox = notifications(clock)
    invoice = acme.finalized()
    note = outbox.credit_notes.add(a_credit_note(organisation_id=acme.org, invoice_id=invoice["id"]))
    outbox.credit_note_pdfs.refuse = True
    message = owe(outbox, clock, acme.org, invoice["id"], kind="credit_note", credit_note_id=note.id)

    assert outbox.service.deliver(acme.org, message.id) == "sent"

    [email] = outbox.mailer.sent
    assert email.attachments == []


@pytest.mark.parametrize("credit_note_of", ["unknown", "another invoice"])
def test_a_credit_note_email_whose_credit_note_is_not_the_invoices_is_given_up(
    acme: Billing, clock: SettableClock, credit_note_of: str
) -> None:
    # Given an email owed for a credit note that is gone, or that corrects another invoice
    outbox = notifications(clock)
    invoice, other = acme.finalized(), acme.finalized()
    note = outbox.credit_notes.add(a_credit_note(organisation_id=acme.org, invoice_id=other["id"]))
    credit_note_id = note.id if credit_note_of == "another invoice" else "cn_unknown"
    message = owe(outbox, clock, acme.org, invoice["id"], kind="credit_note", credit_note_id=credit_note_id)

    # Then it is never sent
    assert outbox.service.deliver(acme.org, message.id) == "given_up"
    assert sent_emails() == []
    item = stored_item(acme.org, message.id)
    assert item is not None
    assert "no longer exists" in item["last_error"]


def test_delivering_the_same_message_again_sends_nothing_more(acme: Billing, clock: SettableClock) -> None:
    outbox = notifications(clock)
    message = owe(outbox, clock, acme.org, acme.finalized()["id"])

    outcomes = [outbox.service.deliver(acme.org, message.id) for _ in range(3)]

    assert outcomes == ["sent", "skipped", "skipped"]
    assert len(sent_emails()) == 1


@pytest.mark.concurrency
def test_concurrent_deliveries_of_one_message_send_it_once(served_aws: None, clock: SettableClock) -> None:
    from tests.integration.conftest import new_account

    # Given an owed email, and eight workers handed it at the same moment (stream, retries, sweep)
    acme = Billing(new_account())
    outbox = notifications(clock)
    message = owe(outbox, clock, acme.org, acme.finalized()["id"])
    start = threading.Barrier(8)

    def deliver(_: int) -> str:
        start.wait()
        return outbox.service.deliver(acme.org, message.id)

    # When they all deliver it (each send is slow, so the others arrive while it is under way)
    outbox.mailer.before_send = lambda: threading.Event().wait(0.2)
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(deliver, range(8)))

    # Then exactly one sent it
    assert sorted(outcomes) == ["sent"] + ["skipped"] * 7
    assert len(outbox.mailer.sent) == 1


def test_while_the_mail_service_is_down_the_email_stays_owed_and_a_later_sweep_sends_it_once(
    acme: Billing, clock: SettableClock
) -> None:
    # Given an owed email and SES unreachable
    outbox = notifications(clock)
    message = owe(outbox, clock, acme.org, acme.finalized()["id"])
    outbox.mailer.down = True

    # When the stream's delivery fails, the error reaches the trigger (which retries)
    with pytest.raises(ConnectionError):
        outbox.service.deliver(acme.org, message.id)
    clock.advance(minutes=2)
    early_sweep = sweep(outbox)

    # Then the message is still owed, with the error recorded, and nothing was sent
    item = stored_item(acme.org, message.id)
    assert item is not None
    assert item["status"] == "pending"
    assert item["attempts"] == 2
    assert item["last_error"] == "ConnectionError: SES endpoint unreachable"
    assert item["GSI1PK"].startswith("OUTBOX_PENDING#")
    assert early_sweep.failed == 1
    assert sent_emails() == []

    # When SES is back, the next sweep sends it, and the one after has nothing left to do
    outbox.mailer.down = False
    clock.advance(minutes=5)
    assert sweep(outbox).sent == 1
    assert sweep(outbox).sent == 0
    assert outbox.service.deliver(acme.org, message.id) == "skipped"
    assert len(sent_emails()) == 1


def test_the_sweep_leaves_messages_younger_than_a_minute_to_the_stream(
    acme: Billing, clock: SettableClock
) -> None:
    outbox = notifications(clock)
    owe(outbox, clock, acme.org, acme.finalized()["id"])

    clock.advance(seconds=30)
    assert sweep(outbox).sent == 0
    clock.advance(seconds=31)
    assert sweep(outbox).sent == 1


def test_a_sweep_out_of_time_starts_no_delivery(acme: Billing, clock: SettableClock) -> None:
    outbox = notifications(clock)
    message = owe(outbox, clock, acme.org, acme.finalized()["id"])
    clock.advance(minutes=2)

    assert sweep(outbox, time_is_up=lambda: True).sent == 0
    assert status_of(acme.org, message.id) == "pending"


def test_a_sweep_queues_at_most_its_limit_oldest_first_and_the_next_takes_the_rest(
    acme: Billing, clock: SettableClock
) -> None:
    # Given five owed emails, a second apart
    outbox = notifications(clock)
    invoice = acme.finalized()["id"]
    owed = []
    for _ in range(5):
        owed.append(owe(outbox, clock, acme.org, invoice).id)
        clock.advance(seconds=1)
    clock.advance(minutes=2)

    # When sweeps of at most two run, each followed by the send worker
    rounds = [sweep(outbox, limit=2).sent for _ in range(4)]

    # Then each queued the oldest two still owed, and every email was sent once
    assert rounds == [2, 2, 1, 0]
    assert [email.to for email in outbox.mailer.sent] == [["ap@globex.test"]] * 5
    assert [status_of(acme.org, message) for message in owed] == ["sent"] * 5


def test_the_owed_messages_are_read_a_page_at_a_time_oldest_first_across_the_index_shards(
    acme: Billing, clock: SettableClock
) -> None:
    # Given seven owed emails (spread over the index's shards by their ids)
    outbox = notifications(clock)
    invoice = acme.finalized()["id"]
    owed = []
    for _ in range(7):
        owed.append(owe(outbox, clock, acme.org, invoice).id)
        clock.advance(seconds=1)

    # When they are read three at a time, each page from the cursor of the one before
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        page, cursor = outbox.repository.owed(clock.now(), 3, after=cursor)
        pages.append([message.id for message in page])
        if cursor is None:
            break

    # Then every message came once, oldest first, and the last page said it was the last
    assert [len(page) for page in pages] == [3, 3, 1]
    assert [message for page in pages for message in page] == owed


def test_a_message_whose_worker_died_mid_send_is_sent_once_its_claim_has_run_out(
    acme: Billing, clock: SettableClock
) -> None:
    # Given a worker that claimed the message and died before sending
    outbox = notifications(clock)
    message = owe(outbox, clock, acme.org, acme.finalized()["id"])
    assert outbox.repository.claim(acme.org, message.id, clock.now(), CLAIM_LEASE) is not None

    # Then nobody else sends it while the claim holds
    clock.advance(minutes=2)
    assert outbox.service.deliver(acme.org, message.id) == "skipped"
    assert sweep(outbox).sent == 0

    # But the sweep does once it has run out
    clock.advance(seconds=CLAIM_LEASE.total_seconds())
    assert sweep(outbox).sent == 1
    assert len(sent_emails()) == 1


def test_a_late_worker_cannot_overwrite_the_outcome_of_the_claim_that_replaced_its_own(
    acme: Billing, clock: SettableClock
) -> None:
    outbox = notifications(clock)
    message = owe(outbox, clock, acme.org, acme.finalized()["id"])
    stale = outbox.repository.claim(acme.org, message.id, clock.now(), CLAIM_LEASE)
    clock.advance(seconds=CLAIM_LEASE.total_seconds() + 1)
    assert outbox.service.deliver(acme.org, message.id) == "sent"
    assert stale is not None

    assert outbox.repository.release(stale, "timed out") is False
    assert outbox.repository.mark_sent(stale, "late", clock.now()) is False
    item = stored_item(acme.org, message.id)
    assert item is not None
    assert item["status"] == "sent"
    assert item["provider_message_id"] != "late"


def test_an_email_owed_by_a_rolled_back_change_is_never_sent(acme: Billing, clock: SettableClock) -> None:
    # Given a change whose transaction also owes an email, but whose other write fails its condition
    outbox = notifications(clock)
    invoice = acme.finalized()
    message = OutboxMessage(
        id=new_id("msg", clock.now()),
        organisation_id=acme.org,
        invoice_id=invoice["id"],
        kind="void_notice",
        to=["ap@globex.test"],
        created_at=clock.now(),
    )
    transaction = outbox.store.transaction(acme.org)
    transaction.insert_outbox(message)
    # The series was read at version 998; it is not (the invoice's finalization wrote it): the condition fails
    transaction.save_series(NumberSeries(next_number=1000, last_number_used=999, version=998))
    with pytest.raises(ConcurrentUpdate):
        transaction.commit()

    # When the notifications function is asked to deliver it anyway, now and later
    now = outbox.service.deliver(acme.org, message.id)
    clock.advance(minutes=10)
    later = sweep(outbox)

    # Then no email owed by it exists and none was sent
    assert now == "skipped"
    assert later.sent == 0
    assert stored_item(acme.org, message.id) is None
    assert sent_emails() == []


def test_an_email_whose_invoice_is_gone_is_given_up_and_left_out_of_the_sweep(
    acme: Billing, clock: SettableClock
) -> None:
    outbox = notifications(clock)
    message = owe(outbox, clock, acme.org, "inv_does_not_exist")

    assert outbox.service.deliver(acme.org, message.id) == "given_up"

    item = stored_item(acme.org, message.id)
    assert item is not None
    assert item["status"] == "failed"
    assert "no longer exists" in item["last_error"]
    assert "GSI1PK" not in item
    clock.advance(minutes=10)
    assert sweep(outbox).failed == 0
    assert sent_emails() == []


def test_an_email_failing_for_a_day_is_given_up(acme: Billing, clock: SettableClock) -> None:
    outbox = notifications(clock)
    message = owe(outbox, clock, acme.org, acme.finalized()["id"])
    outbox.mailer.down = True

    clock.advance(seconds=GIVE_UP_AFTER.total_seconds())
    assert sweep(outbox).given_up == 1

    item = stored_item(acme.org, message.id)
    assert item is not None
    assert item["status"] == "failed"
    assert item["last_error"] == "ConnectionError: SES endpoint unreachable"


# ---------------------------------------------------------------------------------------------
# The handler, with the sample events


def sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return loaded


def stream_event(*messages: OutboxMessage) -> dict[str, Any]:
    """The sample stream INSERT, once per message, with the message's ids and a sequence of its own."""
    template = json.dumps(sample("outbox_inserted")["Records"][0])
    records = []
    for number, message in enumerate(messages):
        text = (
            template.replace("ORG_ID", message.organisation_id)
            .replace("INVOICE_ID", message.invoice_id)
            .replace("MESSAGE_ID", message.id)
        )
        record = json.loads(text)
        record["dynamodb"]["NewImage"]["to"] = {"L": [{"S": address} for address in message.to]}
        record["dynamodb"]["SequenceNumber"] = str(1000 + number)
        records.append(record)
    return {"Records": records}


class NotificationsContext:
    """The Lambda context of the notifications function, two minutes from its timeout."""

    function_name = "remit-notifications"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:remit-notifications"
    aws_request_id = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 120_000


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> Callable[[NotificationService, dict[str, Any]], Any]:
    """The notifications function (stream and sweep), over the given service."""
    from notifications import app

    def invoke(service: NotificationService, event: dict[str, Any]) -> Any:
        monkeypatch.setattr(app, "services", lambda: SimpleNamespace(notifications=service))
        return app.lambda_handler(event, NotificationsContext())

    return invoke


@pytest.fixture
def sender(monkeypatch: pytest.MonkeyPatch) -> Callable[[NotificationService, dict[str, Any]], Any]:
    """The send worker (fed by the send queue), over the given service."""
    from notifications import sender as send_worker

    def invoke(service: NotificationService, event: dict[str, Any]) -> Any:
        monkeypatch.setattr(send_worker, "services", lambda: SimpleNamespace(notifications=service))
        return send_worker.lambda_handler(event, LambdaContextStub(function_name="remit-send-worker"))

    return invoke


def queued_event(*owed: OwedEmail | OutboxMessage) -> dict[str, Any]:
    """The sample send queue message, once per owed email, each with a message id of its own."""
    template = json.dumps(sample("owed_email")["Records"][0])
    records = []
    for number, email in enumerate(owed):
        organisation, message_id = (
            (email.organisation_id, email.message_id)
            if isinstance(email, OwedEmail)
            else (email.organisation_id, email.id)
        )
        record = json.loads(template.replace("ORG_ID", organisation).replace("MESSAGE_ID", message_id))
        record["messageId"] = f"sqs-{number}"
        records.append(record)
    return {"Records": records}


def test_the_sample_stream_event_queues_the_owed_email_and_the_send_worker_sends_it(
    acme: Billing, clock: SettableClock, handler: Callable[..., Any], sender: Callable[..., Any]
) -> None:
    outbox = notifications(clock)
    message = owe(outbox, clock, acme.org, acme.finalized()["id"])

    # When the stream's record reaches the notifications function, it only queues the email
    response = handler(outbox.service, stream_event(message))
    assert response == {"batchItemFailures": []}
    queued = outbox.queue.take()
    assert queued == [{"organisation_id": acme.org, "message_id": message.id}]
    assert sent_emails() == []

    # Then the send worker, given the queued message, sends it
    response = sender(outbox.service, queued_event(OwedEmail(**queued[0])))
    assert response == {"batchItemFailures": []}
    assert [sent_email(raw)["to"] for raw in sent_emails()] == [["ap@globex.test"]]


def test_a_message_that_fails_is_reported_as_a_batch_item_failure_and_the_others_are_sent(
    acme: Billing, clock: SettableClock, sender: Callable[..., Any]
) -> None:
    outbox = notifications(clock)
    invoice = acme.finalized()["id"]
    delivered = owe(outbox, clock, acme.org, invoice)
    bouncing = owe(outbox, clock, acme.org, invoice, to=["full-mailbox@globex.test"])
    outbox.mailer.bouncing = {"full-mailbox@globex.test"}

    response = sender(outbox.service, queued_event(delivered, bouncing))

    assert response == {"batchItemFailures": [{"itemIdentifier": "sqs-1"}]}
    assert len(sent_emails()) == 1
    assert status_of(acme.org, delivered.id) == "sent"
    assert status_of(acme.org, bouncing.id) == "pending"


def test_a_message_delivered_twice_in_one_batch_and_again_later_is_sent_once(
    acme: Billing, clock: SettableClock, sender: Callable[..., Any]
) -> None:
    outbox = notifications(clock)
    message = owe(outbox, clock, acme.org, acme.finalized()["id"])

    first = sender(outbox.service, queued_event(message, message))
    again = sender(outbox.service, queued_event(message))

    assert first == again == {"batchItemFailures": []}
    assert len(sent_emails()) == 1
    assert status_of(acme.org, message.id) == "sent"


def test_a_stream_batch_the_send_queue_refuses_is_reported_failed_and_its_retry_queues_it(
    acme: Billing, clock: SettableClock, handler: Callable[..., Any]
) -> None:
    # Given two owed emails and a send queue that refuses them
    outbox = notifications(clock)
    invoice = acme.finalized()["id"]
    first, second = owe(outbox, clock, acme.org, invoice), owe(outbox, clock, acme.org, invoice)
    outbox.queue.refusing = True

    # When the stream's batch reaches the function, every owed record is reported as failed
    response = handler(outbox.service, stream_event(first, second))
    assert response == {"batchItemFailures": [{"itemIdentifier": "1000"}, {"itemIdentifier": "1001"}]}

    # Then Lambda's retry queues both, and they are sent once each
    outbox.queue.refusing = False
    assert handler(outbox.service, stream_event(first, second)) == {"batchItemFailures": []}
    assert send_queued(outbox).sent == 2
    assert len(sent_emails()) == 2


def test_the_sample_sweep_event_queues_what_is_owed(
    acme: Billing, clock: SettableClock, handler: Callable[..., Any]
) -> None:
    outbox = notifications(clock)
    message = owe(outbox, clock, acme.org, acme.finalized()["id"])
    clock.advance(minutes=2)

    report = handler(outbox.service, sample("sweep"))

    assert report == {"queued": 1}
    assert outbox.queue.messages == [{"organisation_id": acme.org, "message_id": message.id}]
    assert send_queued(outbox).sent == 1


@pytest.mark.concurrency
def test_a_message_queued_many_times_and_taken_by_parallel_workers_is_sent_once(
    served_aws: None, clock: SettableClock
) -> None:
    from remit.adapters.sqs_work_queue import SqsWorkQueue
    from tests.integration.conftest import new_account

    # Given an owed email queued eight times on the send queue (stream retries, sweeps)
    acme = Billing(new_account())
    outbox = notifications(
        clock, SqsWorkQueue(lambda: boto3.client("sqs"), lambda: os.environ["REMIT_SEND_QUEUE_URL"])
    )
    service = outbox.service
    message = owe(outbox, clock, acme.org, acme.finalized()["id"])
    service.queue_for_sending([OwedEmail(acme.org, message.id)] * 8)
    outbox.mailer.before_send = lambda: threading.Event().wait(0.2)
    start = threading.Barrier(4)

    def work(_: int) -> list[str]:
        # What one send worker does: receive a batch, deliver each message, delete what succeeded.
        sqs, url = boto3.client("sqs"), os.environ["REMIT_SEND_QUEUE_URL"]
        outcomes: list[str] = []
        start.wait()
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, VisibilityTimeout=30).get(
            "Messages", []
        ):
            for received in batch:
                body = json.loads(received["Body"])
                outcomes.append(service.deliver(body["organisation_id"], body["message_id"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=received["ReceiptHandle"])
        return outcomes

    # When four workers take them at once
    with ThreadPoolExecutor(4) as pool:
        outcomes = [outcome for found in pool.map(work, range(4)) for outcome in found]

    # Then the eight deliveries sent one email
    assert sorted(outcomes) == ["sent"] + ["skipped"] * 7
    assert len(outbox.mailer.sent) == 1
    assert status_of(acme.org, message.id) == "sent"


class WorkerDied(BaseException):
    """The send worker's process ended here (a timeout, out of memory): no `except Exception` sees it."""


def test_a_worker_dying_between_the_send_and_its_record_sends_again_only_once_its_claim_has_run_out(
    acme: Billing, clock: SettableClock, sender: Callable[..., Any]
) -> None:
    # Given a send worker whose process dies just after SES accepted the email
    outbox = notifications(clock)
    message = owe(outbox, clock, acme.org, acme.finalized()["id"])
    accept = outbox.mailer.send

    def accept_then_die(email: OutgoingEmail) -> str:
        accept(email)
        raise WorkerDied

    outbox.mailer.send = accept_then_die  # type: ignore[method-assign]
    with pytest.raises(WorkerDied):
        sender(outbox.service, queued_event(message))
    outbox.mailer.send = accept  # type: ignore[method-assign]

    # When SQS delivers the message again while the claim holds, and sweeps run
    clock.advance(minutes=2)
    assert sender(outbox.service, queued_event(message)) == {"batchItemFailures": []}
    assert sweep(outbox).sent == 0
    assert status_of(acme.org, message.id) == "sending"
    assert len(sent_emails()) == 1

    # Then only once the claim has run out is it sent again (the one window: two systems), once
    clock.advance(seconds=CLAIM_LEASE.total_seconds())
    assert sweep(outbox).sent == 1
    assert sender(outbox.service, queued_event(message)) == {"batchItemFailures": []}
    assert sweep(outbox).sent == 0
    assert len(sent_emails()) == 2
    assert status_of(acme.org, message.id) == "sent"


def test_claims_and_their_outcomes_in_the_stream_trigger_nothing(
    acme: Billing, clock: SettableClock, handler: Callable[..., Any]
) -> None:
    # Given the stream records of a failed attempt: the claim (pending -> sending), then the hand-back
    outbox = notifications(clock)
    message = owe(outbox, clock, acme.org, acme.finalized()["id"])
    inserted = stream_event(message)["Records"][0]
    claimed = copy.deepcopy(inserted)
    claimed["eventName"] = "MODIFY"
    claimed["dynamodb"]["OldImage"] = copy.deepcopy(inserted["dynamodb"]["NewImage"])
    claimed["dynamodb"]["NewImage"]["status"] = {"S": "sending"}
    released = copy.deepcopy(claimed)
    released["dynamodb"]["OldImage"], released["dynamodb"]["NewImage"] = (
        claimed["dynamodb"]["NewImage"],
        inserted["dynamodb"]["NewImage"],
    )

    # When the function receives them
    response = handler(outbox.service, {"Records": [claimed, released]})

    # Then it queues nothing (the failed attempt is retried by the send queue and the sweep instead)
    assert response == {"batchItemFailures": []}
    assert outbox.queue.messages == []
    assert sent_emails() == []
    # ...and the template's filter would not even have passed them on, while the insert and a
    # re-queue by hand (failed -> pending) do pass
    mapping = StreamMapping.from_template()
    requeued = copy.deepcopy(released)
    requeued["dynamodb"]["OldImage"]["status"] = {"S": "failed"}
    customer = copy.deepcopy(inserted)
    customer["dynamodb"]["NewImage"]["entity"] = {"S": "customer"}
    assert [mapping.accepts(record) for record in (inserted, claimed, released, requeued, customer)] == [
        True,
        False,
        False,
        True,
        False,
    ]


# ---------------------------------------------------------------------------------------------
# The send queue and its worker, as the template deploys them


def test_a_send_worker_ends_before_its_claim_runs_out_and_its_message_comes_back_after() -> None:
    # A worker cut off mid-send leaves a claim that lapses before SQS shows its message again, so the
    # redelivery sends the email rather than skipping it for a claim nobody holds any more.
    resources = load_template()["Resources"]
    timeout = resources["SendWorkerFunction"]["Properties"]["Timeout"]
    visibility = resources["SendQueue"]["Properties"]["VisibilityTimeout"]

    assert timeout < CLAIM_LEASE.total_seconds() < visibility


def test_emails_a_second_are_set_by_parameters_that_the_local_stack_reads_too() -> None:
    template = load_template()
    events = template["Resources"]["SendWorkerFunction"]["Properties"]["Events"]
    mapping = events["OwedEmails"]["Properties"]

    assert mapping["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "SendMaximumConcurrency"}
    assert mapping["BatchSize"] == {"Ref": "SendBatchSize"}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    for name in ("SendMaximumConcurrency", "SendBatchSize", "SendReservedConcurrency"):
        assert "Default" in template["Parameters"][name]
        assert template["Parameters"][name]["Description"]
    assert QueueMapping.from_template("SendWorkerFunction", "OwedEmails") == QueueMapping(
        batch_size=template["Parameters"]["SendBatchSize"]["Default"], report_batch_item_failures=True
    )

"""One card payment of several invoices (the portal's "pay these invoices"), applied from its webhook.

Guarantees:

* The payment is applied at most once: the event's marker (`WEBHOOK#<event id>`) commits in the same
  transaction as its effect, and the payment intent's state (`CardIntent`, keyed by the intent) makes
  the second success of one intent (checkout session, then payment intent) write only its marker.
* One transaction pays each invoice, in the order the checkout named them, what it still has due
  (at most) with a card payment of its own (its timeline, `invoice.paid` when it is, the receipt owed
  through the outbox), and credits what is left to the customer's balance in the invoices' one
  currency with its ledger entry; any concurrent change makes it re-read and retry.
* An event whose invoices are not all of one customer and in the event's currency is ignored
  (logged, nothing written). A failure changes nothing on the invoices (the customer is sent back
  to pay again). A refund reported by the provider (made in its dashboard) takes back the payment's
  credit first, then refunds each invoice's card payment and reopens the invoice, the invoice paid
  last first; Remit's own refunds (credit notes) are not counted twice. A refund reported before
  the success is remembered, and the success then pays only the rest.
"""

from __future__ import annotations

from datetime import datetime

from remit.domain.card_intents import (
    REFUNDABLE,
    CardIntent,
    EventAlreadyApplied,
    InvoiceHolding,
    divide_refund_of_several,
)
from remit.domain.card_payments import MAX_INVOICES_PER_PAYMENT, CardPaymentEvent
from remit.domain.credit import Credit, refund_from_credit
from remit.domain.customer import Customer
from remit.domain.errors import NotFound
from remit.domain.ids import new_id
from remit.domain.invoice import Invoice
from remit.domain.payment import Payment
from remit.domain.refunds import refundable, with_refund
from remit.domain.saved_cards import SavedCard, with_card_added
from remit.observability import logger
from remit.ports.billing import BillingTransaction
from remit.ports.cards import CardPaymentStore
from remit.services.billing_context import BillingContext, today_in


class InvoicesCardPayment:
    def __init__(self, context: BillingContext, card_payments: CardPaymentStore) -> None:
        self._context = context
        self._billing = context.billing
        self._card_payments = card_payments

    def apply(self, organisation_id: str, event: CardPaymentEvent, card: SavedCard | None) -> bool:
        """Apply one verified event naming several invoices (one attempt: the caller retries on
        conflicts). True when applied (its marker written), False when ignored (nothing written).
        Raises `EventAlreadyApplied` for an event id applied before."""
        if len(event.invoice_ids) > MAX_INVOICES_PER_PAYMENT or any(
            not 0 < len(invoice_id) <= 100 for invoice_id in event.invoice_ids
        ):
            log_ignored_card_event(organisation_id, event, "the invoice ids are not Remit's")
            return False
        reading = self._card_payments.read(organisation_id, None, event.payment_intent_id, event.event_id)
        if not reading.organisation_exists:
            raise NotFound("organisation", organisation_id)
        if reading.already_applied:
            raise EventAlreadyApplied(event.event_id)
        invoices = [
            self._billing.get_invoice(organisation_id, invoice_id) for invoice_id in event.invoice_ids
        ]
        found = [invoice for invoice in invoices if invoice is not None and invoice.status != "draft"]
        customers = {invoice.customer_id for invoice in found}
        currencies = {invoice.currency for invoice in found}
        if len(found) != len(invoices) or len(customers) != 1 or currencies != {event.currency.upper()}:
            log_ignored_card_event(
                organisation_id, event, "the invoices are not all of one customer in its currency"
            )
            return False
        if event.kind == "succeeded" and event.amount <= 0:
            log_ignored_card_event(organisation_id, event, "a payment of nothing")
            return False
        now = self._context.clock.now()
        transaction = self._billing.transaction(organisation_id)
        transaction.claim_webhook_event(event.event_id, event.kind, now)
        intent = reading.intent
        if intent is not None and intent.invoice_id != found[0].id:
            log_ignored_card_event(organisation_id, event, "the payment intent belongs to other invoices")
            return False
        if event.kind == "refunded":
            self._refunded(
                transaction,
                found,
                intent or CardIntent.first_seen(event.payment_intent_id, found[0], now),
                event,
                now,
            )
        elif event.kind != "succeeded":
            # Nothing was applied before the payment succeeds: the customer is sent back to pay again.
            logger.warning(
                "A failed card payment of several invoices changes no invoice",
                extra={"provider_event_id": event.event_id, "event_kind": event.kind},
            )
        elif intent is not None and intent.succeeded:
            logger.info("Card payment already recorded", extra={"provider_event_id": event.event_id})
        else:
            self._paid(transaction, found, event, now, card, intent)
        transaction.commit()
        return True

    def _paid(
        self,
        transaction: BillingTransaction,
        invoices: list[Invoice],
        event: CardPaymentEvent,
        now: datetime,
        card: SavedCard | None,
        before: CardIntent | None,
    ) -> None:
        # A refund the provider reported before the success (`before`) is not paid onto any invoice.
        refunded = min(before.refunded, event.amount) if before is not None else 0
        remaining, first_payment, applied = event.amount - refunded, None, 0
        for invoice in invoices:
            share = min(remaining, invoice.amount_due) if invoice.status == "open" else 0
            if share <= 0:
                continue
            payment = Payment(
                id=new_id("pay", now),
                invoice_id=invoice.id,
                customer_id=invoice.customer_id,
                amount=share,
                currency=invoice.currency,
                method="card",
                status="succeeded",
                provider_payment_id=event.payment_intent_id,
                received_on=today_in(invoice.timezone, now),
                created_at=now,
            )
            paid, _ = invoice.record_payment(share, now)
            saved = transaction.update_invoice(paid, as_read=invoice)
            transaction.insert_payment(payment)
            recorded: dict[str, str | int | None] = {
                "payment_id": payment.id,
                "amount": share,
                "method": "card",
            }
            transaction.insert_event(
                self._context.event(invoice.id, "invoice.payment_recorded", now, **recorded)
            )
            if paid.status == "paid":
                transaction.insert_event(self._context.event(invoice.id, "invoice.paid", now))
            transaction.insert_outbox(
                self._context.outbox_message("payment_receipt", saved, invoice.recipients, now, payment.id)
            )
            remaining -= share
            applied += share
            first_payment = first_payment or payment
        first = invoices[0]
        customer = self._context.customer_of(first)
        if customer is not None:
            self._credit(transaction, customer, first, Credit(first.currency, remaining), now, card)
        transaction.save_card_intent(
            (before or CardIntent.first_seen(event.payment_intent_id, first, now)).model_copy(
                update={
                    "status": "refunded" if refunded >= event.amount else "succeeded",
                    # Without any invoice left to pay, the whole payment is credit: its intent is
                    # still marked succeeded, so a second event of it changes nothing.
                    "payment_id": first_payment.id if first_payment else f"credit-{event.payment_intent_id}",
                    "amount": event.amount,
                    "applied": applied,
                    "credited": remaining,
                    "updated_at": now,
                }
            )
        )

    def _refunded(
        self,
        transaction: BillingTransaction,
        invoices: list[Invoice],
        intent: CardIntent,
        event: CardPaymentEvent,
        now: datetime,
    ) -> None:
        """A refund of the payment reported by the provider (its dashboard, or Remit's own refunds,
        which moved their invoice and payment already and are not counted again): the payment's
        credit is taken back first, then each invoice's card payment is refunded and the invoice
        reopened, the invoice paid last first (`divide_refund_of_several`)."""
        # The event carries the total refunded so far, Remit's own refunds included.
        after = intent.with_refunds(max(0, event.amount - intent.refunded_by_remit), now)
        if after is None:
            return  # only the marker is written
        if not intent.succeeded:
            transaction.save_card_intent(after)  # the success, when it comes, pays only the rest
            return
        # The invoices this payment paid, each with its card payment, in the order it paid them.
        paid = [
            (invoice, payment)
            for invoice in invoices
            if (payment := self._card_payment_of(invoice, intent.payment_intent_id)) is not None
        ]
        holdings = [
            InvoiceHolding(
                invoice.id, refundable(payment), invoice.amount_paid if invoice.status in REFUNDABLE else 0
            )
            for invoice, payment in paid
        ]
        divided = divide_refund_of_several(after.refunded_since(intent), intent.credited, holdings)
        by_id = {invoice.id: (invoice, payment) for invoice, payment in paid}
        for share in divided.shares:
            invoice, payment = by_id[share.invoice_id]
            transaction.update_payment(with_refund(payment, share.from_payment), as_read=payment)
            if share.reopened:
                transaction.update_invoice(invoice.refund(share.reopened, now), as_read=invoice)
            transaction.insert_event(
                self._context.event(
                    invoice.id,
                    "invoice.payment_refunded",
                    now,
                    payment_id=payment.id,
                    amount=share.from_payment,
                )
            )
        reopened = sum(share.reopened for share in divided.shares)
        after.applied = max(0, intent.applied - reopened)
        after.credited = max(0, intent.credited - divided.from_credit)
        first = invoices[0]
        customer = self._context.customer_of(first)
        if customer is not None and divided.from_credit:
            wanted = Credit(first.currency, -divided.from_credit)
            credit = refund_from_credit(wanted, customer.balances)
            if credit != wanted:
                logger.warning(
                    "Refunded credit was already spent; the balance goes to 0",
                    extra={"invoice_id": first.id, "customer_id": customer.id, "currency": first.currency},
                )
            numbers = ", ".join(invoice.number or invoice.id for invoice in invoices)
            self._context.stage_payment_credit(
                transaction,
                customer,
                credit,
                now,
                f"Card refund of the payment of invoices {numbers}",
                first.id,
            )
        transaction.save_card_intent(after)

    def _card_payment_of(self, invoice: Invoice, payment_intent_id: str) -> Payment | None:
        """The card payment of `payment_intent_id` on the invoice, if it has one (an invoice holds few
        payments: their pages are read until it is found)."""
        cursor: str | None = None
        while True:
            page = self._billing.list_payments(invoice.organisation_id, 100, cursor, invoice.id, None)
            for payment in page.items:
                if payment.provider_payment_id == payment_intent_id and payment.method == "card":
                    return payment
            cursor = page.next_cursor
            if cursor is None:
                return None

    def _credit(
        self,
        transaction: BillingTransaction,
        customer: Customer,
        first: Invoice,
        excess: Credit,
        now: datetime,
        card: SavedCard | None,
    ) -> None:
        cards = with_card_added(customer.saved_cards, card) if card is not None else None
        self._context.stage_payment_credit(
            transaction,
            customer,
            excess,
            now,
            "Card payment beyond what the invoices paid together owed" if excess.amount else None,
            first.id,
            saved_cards=None if cards == customer.saved_cards else cards,
        )


def log_ignored_card_event(organisation_id: str, event: CardPaymentEvent, reason: str) -> None:
    """Log a verified card event Remit does not apply (nothing is written for it), and why."""
    logger.warning(
        "Card event ignored",
        extra={
            "reason": reason,
            "provider_event_id": event.event_id,
            "event_kind": event.kind,
            "organisation_id": organisation_id,
            "event_organisation_id": event.organisation_id,
            "invoice_id": event.invoice_id,
            "invoice_ids": event.invoice_ids,
        },
    )

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
  to pay again); a refund of such a payment is left to a credit note (logged).
"""

from __future__ import annotations

from datetime import datetime

from remit.domain.card_intents import CardIntent, EventAlreadyApplied
from remit.domain.card_payments import MAX_INVOICES_PER_PAYMENT, CardPaymentEvent
from remit.domain.credit import Credit
from remit.domain.customer import Customer
from remit.domain.errors import NotFound
from remit.domain.ids import new_id
from remit.domain.invoice import Invoice
from remit.domain.payment import Payment
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
            _ignored(organisation_id, event, "the invoice ids are not Remit's")
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
            _ignored(organisation_id, event, "the invoices are not all of one customer in its currency")
            return False
        if event.kind == "succeeded" and event.amount <= 0:
            _ignored(organisation_id, event, "a payment of nothing")
            return False
        now = self._context.clock.now()
        transaction = self._billing.transaction(organisation_id)
        transaction.claim_webhook_event(event.event_id, event.kind, now)
        intent = reading.intent
        if event.kind != "succeeded":
            logger.warning(
                "A card event about a payment of several invoices changes no invoice",
                extra={"provider_event_id": event.event_id, "event_kind": event.kind},
            )
        elif intent is not None and intent.succeeded:
            logger.info("Card payment already recorded", extra={"provider_event_id": event.event_id})
        else:
            self._paid(transaction, found, event, now, card)
        transaction.commit()
        return True

    def _paid(
        self,
        transaction: BillingTransaction,
        invoices: list[Invoice],
        event: CardPaymentEvent,
        now: datetime,
        card: SavedCard | None,
    ) -> None:
        remaining, first_payment, applied = event.amount, None, 0
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
            CardIntent(
                payment_intent_id=event.payment_intent_id,
                invoice_id=first.id,
                customer_id=first.customer_id,
                currency=first.currency,
                status="succeeded",
                # Without any invoice left to pay, the whole payment is credit: its intent is still
                # marked succeeded, so a second event of it changes nothing.
                payment_id=first_payment.id if first_payment else f"credit-{event.payment_intent_id}",
                amount=event.amount,
                applied=applied,
                credited=remaining,
                updated_at=now,
            )
        )

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


def _ignored(organisation_id: str, event: CardPaymentEvent, reason: str) -> None:
    logger.warning(
        "Card event ignored",
        extra={
            "reason": reason,
            "provider_event_id": event.event_id,
            "event_kind": event.kind,
            "organisation_id": organisation_id,
            "invoice_ids": event.invoice_ids,
        },
    )

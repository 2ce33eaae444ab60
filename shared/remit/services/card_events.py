"""Card-payment events from the provider's webhooks, applied to invoices at most once each.

Guarantees:

* Only verified events act: the organisation's webhook secret checks the signature and its age
  (`InvalidSignature` otherwise, and nothing is read or written beyond the secret). An unknown
  organisation and one without a card provider are refused exactly as a bad signature is, without
  reading the table: nothing tells a stranger which organisations exist or have a provider.
* Each event id is applied at most once, concurrent duplicates included: its marker
  (`WEBHOOK#<event id>`, written only if new) commits in the same transaction as its effect, so a
  duplicate's transaction is cancelled and it is answered "already applied".
* Events may arrive in any order: the payment intent's state (`CardIntent`) keeps the success's
  amount and the total refunded, and each event moves the invoice by the difference between the
  net amount it should now hold and what it held. A success after a failure is recorded (the
  failed payment stays as history); a second success of one intent (checkout session and payment
  intent events) changes nothing; a refund before the success is remembered and the success is
  then recorded as refunded; a failure after the success is ignored.
* One transaction writes the marker, the intent, the payment, the invoice (conditioned on its
  version), the timeline, the credit balance of the invoice's currency and its ledger entry, the
  card saved for auto-pay and the receipt owed through the outbox; a concurrent update makes it
  re-read and retry.
* A card setup's event (`card_saved`) is applied by `SavedCardService`, a payment of several
  invoices (metadata `invoice_ids`) by `InvoicesCardPayment`, each at most once per event id alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from remit.domain.card_intents import CardIntent, EventAlreadyApplied
from remit.domain.card_payments import CardPaymentEvent, ProviderCredentials, ProviderName
from remit.domain.credit import Credit, refund_from_credit
from remit.domain.errors import Conflict, InvalidSignature, NotFound
from remit.domain.ids import new_id
from remit.domain.invoice import Invoice
from remit.domain.payment import Payment
from remit.domain.refunds import with_refund
from remit.domain.saved_cards import CardDetails, SavedCard, with_card_added
from remit.observability import logger
from remit.ports.billing import BillingTransaction
from remit.ports.cards import CardGateway, CardPaymentStore, PaymentProviderSecrets
from remit.services.billing_context import BillingContext, today_in
from remit.services.invoices_card_payment import InvoicesCardPayment, log_ignored_card_event
from remit.services.refunds import RefundService
from remit.services.retry import retry_on_conflict
from remit.services.saved_cards import SavedCardService

CardEventOutcome = Literal["applied", "already_applied", "ignored"]


@dataclass
class _Settlement:
    """How one event moves the invoice and the customer's credit balance."""

    invoice: Invoice
    credit: Credit | None = None  # in the invoice's currency
    ledger_description: str | None = None
    events: list[tuple[str, dict[str, str | int | None]]] = field(default_factory=list)


class CardEventService:
    def __init__(
        self,
        context: BillingContext,
        card_payments: CardPaymentStore,
        secrets: PaymentProviderSecrets,
        gateways: Mapping[ProviderName, Callable[[], CardGateway]],
        *,
        refunds: RefundService | None = None,
        saved_cards: SavedCardService | None = None,
    ) -> None:
        # Card setups (a card saved without a payment) are applied there.
        self._saved_cards = saved_cards
        # One payment of several invoices (the portal's) is applied there.
        self._invoices_payment = InvoicesCardPayment(context, card_payments)
        # Events about the refunds Remit asked for (credit notes) are applied there.
        self._refunds = refunds
        self._context = context
        self._billing = context.billing
        self._clock = context.clock
        self._card_payments = card_payments
        self._secrets = secrets
        # Factories: the stripe SDK is imported only once a webhook arrives.
        self._gateways = gateways

    def handle(self, organisation_id: str, payload: bytes, signature: str | None) -> CardEventOutcome:
        """Verify one webhook delivery with the organisation's webhook secret and apply its event.

        Returns "applied", "already_applied" (a duplicate, concurrent ones included) or "ignored" (an
        event type Remit does not act on, or one naming another organisation, no invoice, an unknown
        invoice or another currency: logged, nothing written). Raises `InvalidSignature`, always
        with the same detail, for a bad, stale or missing signature, an organisation without a
        provider and an unknown organisation; `NotFound` only for a verified event whose
        organisation is gone. Whenever it raises, nothing is written.
        """
        credentials = self._secrets.get(organisation_id)
        if credentials is None:
            raise InvalidSignature()
        gateway = self._gateways.get(credentials.provider)
        if gateway is None:
            raise InvalidSignature()
        event = gateway().verify_event(credentials, payload, signature)
        if event is None:
            return "ignored"
        if event.organisation_id == organisation_id and event.kind in ("succeeded", "card_saved"):
            event = self._with_card_details(credentials, gateway(), event)
        if event.kind == "card_saved":
            return self._card_saved(organisation_id, event)
        if event.organisation_id == organisation_id and not event.invoice_id and event.invoice_ids:
            return self._for_invoices(organisation_id, event)
        if event.organisation_id != organisation_id or not event.invoice_id:
            log_ignored_card_event(
                organisation_id, event, "the payment names another organisation or no invoice"
            )
            return "ignored"
        try:
            if event.kind == "refund":
                if self._refunds is None or not self._refunds.apply_event(organisation_id, event):
                    return "ignored"
                return "applied"
            return retry_on_conflict(lambda: self._apply(organisation_id, event))
        except EventAlreadyApplied:
            logger.info("Card event already applied", extra={"provider_event_id": event.event_id})
            return "already_applied"

    def _with_card_details(
        self, credentials: ProviderCredentials, gateway: CardGateway, event: CardPaymentEvent
    ) -> CardPaymentEvent:
        """The event with its card's brand, digits and expiry, asked of the provider when the event
        names a card to save without them (a card is saved without them if the provider refuses)."""
        if event.card is not None or not (event.payment_method_id and event.provider_customer_id):
            return event
        try:
            details = gateway.card_details(credentials, event.payment_method_id)
        except Conflict:
            logger.warning("The provider did not describe the card", extra={"event": event.event_id})
            details = CardDetails()
        return event.model_copy(update={"card": details})

    def _for_invoices(self, organisation_id: str, event: CardPaymentEvent) -> CardEventOutcome:
        now = self._clock.now()
        card = None
        if event.kind == "succeeded" and event.provider_customer_id and event.payment_method_id:
            card = SavedCard(
                id=new_id("card", now),
                created_at=now,
                provider_customer_id=event.provider_customer_id,
                payment_method_id=event.payment_method_id,
                **(event.card or CardDetails()).model_dump(),
            )
        try:
            applied = retry_on_conflict(lambda: self._invoices_payment.apply(organisation_id, event, card))
        except EventAlreadyApplied:
            logger.info("Card event already applied", extra={"provider_event_id": event.event_id})
            return "already_applied"
        return "applied" if applied else "ignored"

    def _card_saved(self, organisation_id: str, event: CardPaymentEvent) -> CardEventOutcome:
        if self._saved_cards is None or event.organisation_id != organisation_id:
            log_ignored_card_event(organisation_id, event, "the card setup names another organisation")
            return "ignored"
        try:
            saved = self._saved_cards.apply_card_saved(organisation_id, event, event.card or CardDetails())
        except EventAlreadyApplied:
            logger.info("Card event already applied", extra={"provider_event_id": event.event_id})
            return "already_applied"
        if not saved:
            log_ignored_card_event(organisation_id, event, "no such customer in the organisation")
            return "ignored"
        return "applied"

    # --- one attempt ------------------------------------------------------------------------

    def _apply(self, organisation_id: str, event: CardPaymentEvent) -> CardEventOutcome:
        reading = self._card_payments.read(
            organisation_id, event.invoice_id, event.payment_intent_id, event.event_id
        )
        if not reading.organisation_exists:
            raise NotFound("organisation", organisation_id)
        if reading.already_applied:
            raise EventAlreadyApplied(event.event_id)
        invoice = reading.invoice
        if invoice is None or invoice.status == "draft":
            log_ignored_card_event(organisation_id, event, "no such finalized invoice in the organisation")
            return "ignored"
        if event.currency.upper() != invoice.currency or event.amount < 0:
            log_ignored_card_event(organisation_id, event, "the amount is not in the invoice's currency")
            return "ignored"
        if reading.intent is not None and reading.intent.invoice_id != invoice.id:
            log_ignored_card_event(organisation_id, event, "the payment intent belongs to another invoice")
            return "ignored"
        now = self._clock.now()
        intent = reading.intent or CardIntent.first_seen(event.payment_intent_id, invoice, now)
        transaction = self._billing.transaction(organisation_id)
        transaction.claim_webhook_event(event.event_id, event.kind, now)
        if event.kind == "succeeded":
            self._succeeded(transaction, invoice, intent, event, now)
        elif event.kind == "failed":
            self._failed(transaction, invoice, intent, event, now)
        else:
            self._refunded(transaction, invoice, intent, event, now)
        transaction.commit()
        return "applied"

    def _succeeded(
        self,
        transaction: BillingTransaction,
        invoice: Invoice,
        intent: CardIntent,
        event: CardPaymentEvent,
        now: datetime,
    ) -> None:
        card = None
        if event.provider_customer_id and event.payment_method_id:
            card = SavedCard(
                id=new_id("card", now),
                created_at=now,
                provider_customer_id=event.provider_customer_id,
                payment_method_id=event.payment_method_id,
                **(event.card or CardDetails()).model_dump(),
            )
        if intent.succeeded:
            logger.info("Card payment already recorded", extra={"provider_event_id": event.event_id})
            if card is not None:
                # A checkout session names no card; its payment intent's event, arriving second, does.
                self._finish(transaction, invoice, intent, _Settlement(invoice), now, card)
            return
        fully_refunded = intent.refunded >= event.amount
        refunded = min(intent.refunded, event.amount)
        payment = Payment(
            id=new_id("pay", now),
            invoice_id=invoice.id,
            customer_id=invoice.customer_id,
            amount=event.amount,
            currency=invoice.currency,
            method="card",
            status="refunded" if fully_refunded else "partially_refunded" if refunded else "succeeded",
            amount_refunded=refunded,
            provider_payment_id=event.payment_intent_id,
            received_on=today_in(invoice.timezone, now),
            created_at=now,
        )
        after = intent.model_copy(
            update={
                "payment_id": payment.id,
                "amount": event.amount,
                "status": "refunded" if fully_refunded else "succeeded",
                "updated_at": now,
            }
        )
        settlement = self._settle(transaction, invoice, intent, after, now)
        settlement.events.insert(
            0,
            (
                "invoice.payment_recorded",
                {"payment_id": payment.id, "amount": payment.amount, "method": "card"},
            ),
        )
        if refunded:
            settlement.events.append(
                ("invoice.payment_refunded", {"payment_id": payment.id, "amount": refunded})
            )
        transaction.insert_payment(payment)
        if after.net > 0:
            transaction.insert_outbox(
                self._context.outbox_message(
                    "payment_receipt", settlement.invoice, invoice.recipients, now, payment.id
                )
            )
        self._finish(transaction, invoice, after, settlement, now, card)

    def _failed(
        self,
        transaction: BillingTransaction,
        invoice: Invoice,
        intent: CardIntent,
        event: CardPaymentEvent,
        now: datetime,
    ) -> None:
        if intent.succeeded:
            logger.info("Card failure after the success ignored", extra={"provider_event_id": event.event_id})
            return  # only the marker is written
        payment = Payment(
            id=new_id("pay", now),
            invoice_id=invoice.id,
            customer_id=invoice.customer_id,
            amount=event.amount,
            currency=invoice.currency,
            method="card",
            status="failed",
            reference=(event.failure_message or "")[:200] or None,
            provider_payment_id=event.payment_intent_id,
            received_on=today_in(invoice.timezone, now),
            created_at=now,
        )
        transaction.insert_payment(payment)
        after = intent.model_copy(
            update={"failed_payment_ids": [*intent.failed_payment_ids, payment.id], "updated_at": now}
        )
        data: dict[str, str | int | None] = {
            "payment_id": payment.id,
            "amount": payment.amount,
            "method": "card",
            "failure_message": event.failure_message,
        }
        self._finish(
            transaction, invoice, after, _Settlement(invoice, events=[("invoice.payment_failed", data)]), now
        )

    def _refunded(
        self,
        transaction: BillingTransaction,
        invoice: Invoice,
        intent: CardIntent,
        event: CardPaymentEvent,
        now: datetime,
    ) -> None:
        # The event carries the total refunded so far, Remit's own refunds (credit notes, which
        # moved the invoice and payment themselves) included: only the rest is applied here.
        after = intent.with_refunds(max(0, event.amount - intent.refunded_by_remit), now)
        if after is None:
            return  # only the marker is written
        if not intent.succeeded:
            self._finish(transaction, invoice, after, _Settlement(invoice), now)
            return
        settlement = self._settle(transaction, invoice, intent, after, now)
        payment_id = str(intent.payment_id)
        refunded_now = after.refunded_since(intent)
        payment = self._billing.get_payment(invoice.organisation_id, payment_id)
        if payment is not None:
            # Refunded outside Remit (the provider's dashboard): the payment holds that much less.
            transaction.update_payment(
                with_refund(payment, min(refunded_now, payment.amount - payment.amount_refunded)),
                as_read=payment,
            )
        settlement.events.insert(
            0, ("invoice.payment_refunded", {"payment_id": payment_id, "amount": refunded_now})
        )
        self._finish(transaction, invoice, after, settlement, now)

    # --- moving the amounts -----------------------------------------------------------------

    def _settle(
        self,
        transaction: BillingTransaction,
        invoice: Invoice,
        before: CardIntent,
        after: CardIntent,
        now: datetime,
    ) -> _Settlement:
        """Move the invoice and the credit balance by `after.net - before.net`, updating `after`'s
        record of where the net amount sits (`applied` to the invoice, `credited` to the balance).
        """
        change = after.net - before.net
        divided = before.divide(change, invoice)
        settlement = _Settlement(invoice, credit=divided.to_credit)
        after.applied, after.credited = divided.applied, divided.credited
        if divided.to_invoice > 0:
            paid, _ = invoice.record_payment(divided.to_invoice, now)
            settlement.invoice = transaction.update_invoice(paid, as_read=invoice)
            if paid.status == "paid":
                settlement.events.append(("invoice.paid", {}))
        elif divided.to_invoice < 0:
            refunded = invoice.refund(-divided.to_invoice, now)
            settlement.invoice = transaction.update_invoice(refunded, as_read=invoice)
        if change > 0:
            settlement.ledger_description = f"Card payment beyond what invoice {invoice.number} owed"
        elif change < 0:
            settlement.ledger_description = f"Card refund on invoice {invoice.number}"
        return settlement

    def _finish(
        self,
        transaction: BillingTransaction,
        invoice: Invoice,
        after: CardIntent,
        settlement: _Settlement,
        now: datetime,
        card: SavedCard | None = None,
    ) -> None:
        """Stage the timeline, the customer (balance and card in one update) and the intent's state."""
        for kind, data in settlement.events:
            transaction.insert_event(self._context.event(invoice.id, kind, now, **data))
        wanted = settlement.credit or Credit(invoice.currency, 0)
        customer = None
        if wanted.amount or card is not None:
            customer = self._context.customer_of(invoice)
        if customer is not None:
            credit = refund_from_credit(wanted, customer.balances)
            if credit != wanted:
                logger.warning(
                    "Refunded credit was already spent; the balance goes to 0",
                    extra={"invoice_id": invoice.id, "customer_id": customer.id, "currency": credit.currency},
                )
            cards = with_card_added(customer.saved_cards, card) if card is not None else None
            self._context.stage_payment_credit(
                transaction,
                customer,
                credit,
                now,
                settlement.ledger_description,
                invoice.id,
                saved_cards=None if cards == customer.saved_cards else cards,
            )
        transaction.save_card_intent(after)

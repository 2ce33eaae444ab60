"""Card refunds: sent to the provider once committed, sent again by a sweep while the call failed,
confirmed or failed by the provider's webhook.

Guarantees:

* A card refund is written `pending` with its credit note (services/credit_notes.py) before the
  provider hears of it, so a crash between the commit and the call loses nothing: the sweep finds
  it (a sparse index of pending card refunds) and sends it again. The refund's id is the provider's
  idempotency key, so sending twice refunds once.
* The provider's outcome applies once: the refund is written only if still `pending`. `succeeded`
  leaves the money refunded; `failed` gives the payment back what the refund reserved and credits
  the amount to the customer's balance in the refund's currency (the customer is owed it), with a
  timeline event, in one transaction with the webhook event's marker.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta

from remit.domain.card_payments import CardPaymentEvent, CardRefundEvent, ProviderName
from remit.domain.credit import Credit
from remit.domain.errors import Conflict, DomainError
from remit.domain.refunds import (
    ProviderRefundRequest,
    ProviderRefundStatus,
    Refund,
    provider_refund_status,
    with_refund,
)
from remit.observability import logger
from remit.ports.cards import CardGateway, PaymentProviderSecrets
from remit.ports.clock import Clock
from remit.ports.credit_notes import CreditNoteStore
from remit.services.billing_context import BillingContext
from remit.services.retry import retry_on_conflict

# A pending refund younger than this is still being sent by the request that made it.
SWEEP_AFTER = timedelta(minutes=2)


class RefundService:
    def __init__(
        self,
        context: BillingContext,
        store: CreditNoteStore,
        secrets: PaymentProviderSecrets,
        gateways: Mapping[ProviderName, Callable[[], CardGateway]],
        clock: Clock,
        sweep_limit: int = 100,
    ) -> None:
        self._context = context
        self._billing = context.billing
        self._store = store
        self._secrets = secrets
        self._gateways = gateways
        self._clock = clock
        self._sweep_limit = sweep_limit

    def send(self, organisation_id: str, refunds: list[Refund]) -> None:
        """Ask the provider for each pending card refund (committed already). A call that fails is
        logged and left pending for the sweep; never raises."""
        for refund in refunds:
            try:
                self._send_one(organisation_id, refund)
            except Exception:
                logger.exception(
                    "Card refund not sent; the sweep will send it again",
                    extra={"organisation_id": organisation_id, "refund_id": refund.id},
                )

    def sweep(self) -> int:
        """Send again the card refunds still pending since before a short grace period, at most
        `sweep_limit` of them a run (the next run takes the rest). Returns how many were sent."""
        before = self._clock.now() - SWEEP_AFTER
        sent = 0
        for organisation_id, refund_id in self._store.pending_refunds(before, self._sweep_limit):
            refund = self._store.get_refund(organisation_id, refund_id)
            if refund is None or refund.status != "pending" or refund.provider_refund_id is not None:
                continue
            try:
                self._send_one(organisation_id, refund)
                sent += 1
            except Exception:
                logger.exception(
                    "Card refund not sent by the sweep",
                    extra={"organisation_id": organisation_id, "refund_id": refund_id},
                )
        return sent

    def _send_one(self, organisation_id: str, refund: Refund) -> None:
        credentials = self._secrets.get(organisation_id)
        if credentials is None or credentials.provider not in self._gateways:
            raise Conflict("The organisation has no card provider connected to refund through.")
        payment = self._billing.get_payment(organisation_id, refund.payment_id)
        if payment is None or not payment.provider_payment_id:
            raise Conflict(f"Payment {refund.payment_id} has no provider payment to refund.")
        answer = self._gateways[credentials.provider]().refund(
            credentials,
            ProviderRefundRequest(
                organisation_id=organisation_id,
                invoice_id=refund.invoice_id,
                refund_id=refund.id,
                payment_intent_id=payment.provider_payment_id,
                amount=refund.amount,
                currency=refund.currency,
            ),
        )
        self.apply_outcome(organisation_id, refund.id, answer.id, answer.status, answer.failure_reason)

    def apply_outcome(
        self,
        organisation_id: str,
        refund_id: str,
        provider_refund_id: str | None,
        status: ProviderRefundStatus,
        failure_reason: str | None = None,
        event_id: str | None = None,
    ) -> bool:
        """Record what the provider says of a refund: its id, and `succeeded` or `failed` (a failed
        refund gives the payment back what it reserved and credits the customer's balance). Applied
        once: only a `pending` refund moves; with `event_id`, the webhook event's marker commits with
        it (`EventAlreadyApplied` for a duplicate). Returns whether anything changed."""

        def attempt() -> bool:
            refund = self._store.get_refund(organisation_id, refund_id)
            if refund is None or refund.status != "pending":
                if event_id is not None:
                    self._claim_only(organisation_id, event_id)
                return False
            now = self._clock.now()
            if status == "pending" and refund.provider_refund_id == provider_refund_id:
                if event_id is not None:
                    self._claim_only(organisation_id, event_id)
                return False
            updated = refund.model_copy(
                update={
                    "status": status,
                    "provider_refund_id": provider_refund_id or refund.provider_refund_id,
                    "failure_reason": failure_reason if status == "failed" else None,
                    "updated_at": now,
                }
            )
            transaction = self._billing.transaction(organisation_id)
            if event_id is not None:
                transaction.claim_webhook_event(event_id, "refund", now)
            transaction.update_refund(updated, as_read=refund)
            payment = None
            if status != "pending":
                payment = self._billing.get_payment(organisation_id, refund.payment_id)
                if payment is None:
                    raise DomainError(f"Payment {refund.payment_id} of refund {refund.id} is gone.")
            if status == "succeeded" and payment is not None:
                # The amount was taken when the refund was made; the payment's version moves so that
                # its `payment.refunded` event is newer than the one of the pending refund.
                transaction.update_payment(payment, as_read=payment)
            elif status == "failed" and payment is not None:
                transaction.update_payment(with_refund(payment, -refund.amount), as_read=payment)
                if payment.provider_payment_id:
                    transaction.count_refund_by_remit(payment.provider_payment_id, -refund.amount)
                customer = self._billing.get_customers(organisation_id, [refund.customer_id])
                if customer:
                    self._context.stage_credit(
                        transaction,
                        customer[0],
                        Credit(refund.currency, refund.amount),
                        now,
                        "refund_failed",
                        f"Card refund {refund.id} failed: credited instead",
                        refund.invoice_id,
                    )
            if status != "pending":
                transaction.insert_event(
                    self._context.event(
                        refund.invoice_id,
                        f"invoice.refund_{status}",
                        now,
                        refund_id=refund.id,
                        payment_id=refund.payment_id,
                        amount=refund.amount,
                        failure_reason=failure_reason if status == "failed" else None,
                    )
                )
            transaction.commit()
            return True

        return retry_on_conflict(attempt)

    def _claim_only(self, organisation_id: str, event_id: str) -> None:
        transaction = self._billing.transaction(organisation_id)
        transaction.claim_webhook_event(event_id, "refund", self._clock.now())
        transaction.commit()

    def apply_event(self, organisation_id: str, event: CardPaymentEvent) -> bool:
        """Apply a verified provider event about one of Remit's refunds (its metadata names it).
        Raises `EventAlreadyApplied` for a duplicate."""
        if not isinstance(event, CardRefundEvent):
            return False
        return self.apply_outcome(
            organisation_id,
            event.refund_id,
            event.provider_refund_id,
            provider_refund_status(event.refund_status),
            event.failure_message,
            event_id=event.event_id,
        )


__all__ = ["RefundService"]

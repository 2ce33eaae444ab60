"""Refunds: money paid back on a payment, as a credit note's `refund_amount` asks.

A refund takes money back out of one payment: never more than the payment still holds (its amount
less what is refunded or being refunded), and only in the payment's currency. An offline payment's
refund is recorded as done (`succeeded` at once: the business paid it back by its own means); a
card payment's refund is `pending` until the provider's webhook confirms (`succeeded`) or refuses
it (`failed`), and a failed refund gives its amount back to what the payment holds. A payment's
`amount_refunded` counts its pending and succeeded refunds, so two refunds racing for the same
money cannot both be accepted. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from remit.domain.errors import Conflict, FieldProblem, InvalidInput
from remit.domain.payment import Payment, PaymentMethod
from remit.domain.values import CurrencyCode, Model

RefundStatus = Literal["pending", "succeeded", "failed"]
# Payments money can still be refunded from (a failed payment holds nothing).
REFUNDABLE_PAYMENT_STATUSES = ("succeeded", "partially_refunded")
# Payments one refund request draws on at most: each is two writes (the refund and the payment) of
# the credit note's one transaction, which DynamoDB caps at 100 actions.
MAX_PAYMENTS_REFUNDED = 40


class Refund(Model):
    """Money paid back on one payment of one invoice."""

    id: str  # re_…
    payment_id: str
    invoice_id: str
    customer_id: str
    credit_note_id: str | None = None  # the credit note whose `refund_amount` asked for it
    amount: int
    currency: CurrencyCode
    method: PaymentMethod  # the payment's: a card refund goes through the provider
    status: RefundStatus
    provider_refund_id: str | None = None  # the provider's id (`re_…` at Stripe), once known
    failure_reason: str | None = None
    created_at: datetime
    updated_at: datetime

    @property
    def through_provider(self) -> bool:
        return self.method == "card"


class RefundExceedsPayments(Conflict):
    """The money asked back is more than the invoice's payments still hold."""

    def __init__(self, wanted: int, available: int) -> None:
        super().__init__(
            f"The invoice's payments hold {available} that can be refunded; {wanted} was asked.",
            [FieldProblem("refund_amount", f"at most {available} can be refunded")],
        )
        self.wanted, self.available = wanted, available


def refundable(payment: Payment) -> int:
    """What can still be refunded from `payment`: its amount less its pending and done refunds."""
    if payment.status not in REFUNDABLE_PAYMENT_STATUSES:
        return 0
    return max(0, payment.amount - payment.amount_refunded)


def allocate_refund(payments: Iterable[Payment], amount: int) -> list[tuple[Payment, int]]:
    """Which payments `amount` is refunded from, and how much from each: the newest payment first
    (the money most recently received goes back first, as a person would refund it), each at most
    what it still holds. Raises `RefundExceedsPayments` when together they hold less than `amount`,
    and `InvalidInput` (on `refund_amount`) when it would draw on more than `MAX_PAYMENTS_REFUNDED`.
    """
    if amount <= 0:
        return []
    candidates = sorted(
        (p for p in payments if refundable(p) > 0), key=lambda p: (p.created_at, p.id), reverse=True
    )
    available = sum(refundable(p) for p in candidates)
    if available < amount:
        raise RefundExceedsPayments(amount, available)
    portions: list[tuple[Payment, int]] = []
    left = amount
    for payment in candidates:
        portion = min(left, refundable(payment))
        portions.append((payment, portion))
        left -= portion
        if left == 0:
            break
    if len(portions) > MAX_PAYMENTS_REFUNDED:
        within = sum(portion for _, portion in portions[:MAX_PAYMENTS_REFUNDED])
        raise InvalidInput.single(
            "refund_amount",
            f"this refund draws on {len(portions)} payments; one credit note refunds from at most "
            f"{MAX_PAYMENTS_REFUNDED} (at most {within} here): issue several credit notes",
        )
    return portions


def with_refund(payment: Payment, amount: int) -> Payment:
    """`payment` once `amount` more of it is refunded (or being refunded); a negative amount gives
    back what a failed refund had reserved. Its status follows: `refunded` when nothing is left,
    `partially_refunded` when some is, `succeeded` when none is refunded."""
    refunded = payment.amount_refunded + amount
    if refunded < 0 or refunded > payment.amount:
        raise ValueError(f"a payment of {payment.amount} cannot have {refunded} refunded")
    if payment.status not in (*REFUNDABLE_PAYMENT_STATUSES, "refunded"):
        raise ValueError(f"a {payment.status} payment holds nothing to refund")
    status = (
        "succeeded" if refunded == 0 else "refunded" if refunded == payment.amount else "partially_refunded"
    )
    return payment.model_copy(update={"amount_refunded": refunded, "status": status})


class ProviderRefundRequest(Model):
    """A card refund as Remit asks the provider for it (the refund's id is the idempotency key)."""

    organisation_id: str
    invoice_id: str
    refund_id: str
    payment_intent_id: str
    amount: int
    currency: CurrencyCode


ProviderRefundStatus = Literal["pending", "succeeded", "failed"]


class ProviderRefund(Model):
    """The provider's refund: its id and where it stands (its webhook says when it changes)."""

    id: str
    status: ProviderRefundStatus
    failure_reason: str | None = None


def provider_refund_status(status: str) -> ProviderRefundStatus:
    """A provider's refund status as Remit keeps it: Stripe's `succeeded` and `failed` (and `canceled`,
    which gives the money back as a failure does); anything else (`pending`, `requires_action`) pends."""
    if status == "succeeded":
        return "succeeded"
    if status in ("failed", "canceled"):
        return "failed"
    return "pending"

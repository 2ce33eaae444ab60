"""What Remit remembers of one card payment intent, so its events reach the right end state in any order.

A provider may deliver an intent's events duplicated and out of order: a failure after the success,
a refund before it. The intent's state keeps the largest amounts seen (a success's amount, the total
refunded), and the effect of each event is the difference between the net amount the invoice should
hold now and what it held before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import Field

from remit.domain.credit import Credit
from remit.domain.errors import Conflict
from remit.domain.invoice import Invoice
from remit.domain.settlement import settle
from remit.domain.values import Model

CardIntentStatus = Literal["failed", "succeeded", "refunded", "refunded_before_success"]
# Invoices a card payment can reopen by a refund; a void one already returned its payments as credit.
REFUNDABLE = ("open", "paid", "uncollectible")


class EventAlreadyApplied(Conflict):
    """The provider event's id was applied before (its marker exists): nothing more to do."""

    def __init__(self, event_id: str) -> None:
        super().__init__(f"Event {event_id} was already applied.")
        self.event_id = event_id


class CardIntent(Model):
    """One payment intent as its events so far left it."""

    payment_intent_id: str
    invoice_id: str
    customer_id: str
    currency: str
    status: CardIntentStatus
    payment_id: str | None = None  # the succeeded (or since refunded) card payment, once seen
    amount: int = 0  # what the success paid (0 before it arrives)
    refunded: int = 0  # the total refunded so far (a refund may arrive before the success)
    # What Remit's own refunds (credit notes) took, pending or done: the provider's `charge.refunded`
    # counts them in its total, but the credit note already moved the invoice and payment for them.
    refunded_by_remit: int = 0
    applied: int = 0  # of the net amount, what the invoice holds as paid
    credited: int = 0  # of the net amount, what went to the customer's credit balance
    failed_payment_ids: list[str] = Field(default_factory=list)
    updated_at: datetime
    version: int = 0

    @classmethod
    def first_seen(cls, payment_intent_id: str, invoice: Invoice, now: datetime) -> CardIntent:
        """The intent as its first event finds it: nothing paid yet (a payment of several invoices
        is kept on the first of them)."""
        return cls(
            payment_intent_id=payment_intent_id,
            invoice_id=invoice.id,
            customer_id=invoice.customer_id,
            currency=invoice.currency,
            status="failed",
            updated_at=now,
        )

    @property
    def succeeded(self) -> bool:
        return self.payment_id is not None

    @property
    def net(self) -> int:
        """What the customer has paid and kept paid: the success less the refunds, never below 0."""
        return max(0, self.amount - self.refunded) if self.succeeded else 0

    def with_refunds(self, total_refunded: int, now: datetime) -> CardIntent | None:
        """The intent once the provider reports `total_refunded` so far; None when that adds nothing.

        The largest total seen wins, whatever the order of the events. Before the success arrives the
        refund is remembered (`refunded_before_success`); after it, refunding all it paid makes it
        `refunded`.
        """
        total = max(self.refunded, total_refunded)
        if total == self.refunded:
            return None
        if not self.succeeded:
            status: CardIntentStatus = "refunded_before_success"
        else:
            status = "refunded" if total >= self.amount else self.status
        return self.model_copy(update={"refunded": total, "status": status, "updated_at": now})

    def refunded_since(self, before: CardIntent) -> int:
        """What refunds took off the payment since the intent was `before`: never more than it paid."""
        return min(self.refunded, self.amount) - min(before.refunded, before.amount)

    def divide(self, change: int, invoice: Invoice) -> NetChange:
        """Where a change of this intent's net amount goes, the intent being as it was before it.

        More paid (`change > 0`) pays what the invoice still owes while it is open; the rest is
        credit. Less paid (a refund, `change < 0`) first reopens what the intent paid on the invoice
        (as long as the invoice can be refunded and holds that much paid), then takes back what it
        credited; beyond both, it takes back what was paid on the invoice before a void returned it
        as credit. Credit is always in the invoice's currency. Pure: the invoice is only looked at.
        """
        currency = invoice.currency
        if change > 0:
            settlement = settle(invoice.amount_due if invoice.status == "open" else 0, change, currency)
            return NetChange(
                to_invoice=settlement.applied,
                to_credit=settlement.excess,
                applied=self.applied + settlement.applied,
                credited=self.credited + settlement.excess.amount,
            )
        if change < 0:
            refund = -change
            reopen = min(refund, self.applied, invoice.amount_paid) if invoice.status in REFUNDABLE else 0
            remainder = refund - reopen
            from_credit = min(remainder, self.credited)
            # What is not on the invoice any more was credited (as excess, or when it was voided).
            return NetChange(
                to_invoice=-reopen,
                to_credit=Credit(currency, -remainder),
                applied=self.applied - reopen - (remainder - from_credit),
                credited=self.credited - from_credit,
            )
        return NetChange(
            to_invoice=0, to_credit=Credit(currency, 0), applied=self.applied, credited=self.credited
        )


@dataclass(frozen=True)
class NetChange:
    """How a change of a card payment's net amount divides between the invoice and the credit balance."""

    to_invoice: int  # paid onto the invoice (> 0), or reopened on it by a refund (< 0)
    to_credit: Credit  # added to the customer's credit balance (> 0), or taken back from it (< 0)
    applied: int  # the intent's share the invoice holds as paid, afterwards
    credited: int  # the intent's share on the credit balance, afterwards


@dataclass(frozen=True)
class InvoiceHolding:
    """What one invoice of a payment of several holds of it: the card payment that paid it."""

    invoice_id: str
    payment_left: int  # of that card payment, what is not refunded yet
    reopenable: int  # what a refund may reopen on the invoice (0 unless it can be refunded)


@dataclass(frozen=True)
class RefundedShare:
    """What a refund of a payment of several invoices takes from one invoice's card payment."""

    invoice_id: str
    from_payment: int  # the card payment's refunded amount grows by this much
    reopened: int  # of that, owed again on the invoice


@dataclass(frozen=True)
class SeveralRefund:
    """Where a refund of a payment of several invoices comes from."""

    shares: list[RefundedShare]
    from_credit: int  # taken back from the customer's credit balance


def divide_refund_of_several(refund: int, credited: int, holdings: list[InvoiceHolding]) -> SeveralRefund:
    """Where `refund` of a payment of several invoices comes from, the payment having credited
    `credited` beyond what the invoices owed and paid `holdings` (in the order it paid them).

    First what it credited (it was never owed on any invoice), then the invoices' card payments, the
    invoice paid last first, each at most what its payment still holds. An invoice reopens by its
    share while it can be refunded and holds that much paid; the share of one that cannot (voided:
    its payments went back as credit then) is taken from the credit balance, as is anything beyond
    the payments. Pure.
    """
    from_credit = min(max(refund, 0), credited)
    left = max(refund, 0) - from_credit
    shares: list[RefundedShare] = []
    for holding in reversed(holdings):
        take = min(left, holding.payment_left)
        if take <= 0:
            continue
        reopened = min(take, holding.reopenable)
        shares.append(RefundedShare(holding.invoice_id, take, reopened))
        from_credit += take - reopened
        left -= take
    return SeveralRefund(shares, from_credit + left)

"""What Remit remembers of one card payment intent, so its events reach the right end state in any order.

A provider may deliver an intent's events duplicated and out of order: a failure after the success,
a refund before it. The intent's state keeps the largest amounts seen (a success's amount, the total
refunded), and the effect of each event is the difference between the net amount the invoice should
hold now and what it held before.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from remit.domain.errors import Conflict
from remit.domain.values import Model

CardIntentStatus = Literal["failed", "succeeded", "refunded", "refunded_before_success"]


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
    applied: int = 0  # of the net amount, what the invoice holds as paid
    credited: int = 0  # of the net amount, what went to the customer's credit balance
    failed_payment_ids: list[str] = Field(default_factory=list)
    updated_at: datetime
    version: int = 0

    @property
    def succeeded(self) -> bool:
        return self.payment_id is not None

    @property
    def net(self) -> int:
        """What the customer has paid and kept paid: the success less the refunds, never below 0."""
        return max(0, self.amount - self.refunded) if self.succeeded else 0

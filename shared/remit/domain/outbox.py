"""The outbox: an email owed to a customer, written in the same transaction as the state change
that owes it (invariant 9), and delivered afterwards by the notifications function exactly once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from remit.domain.documents import EmailKind
from remit.domain.values import Model

OutboxStatus = Literal["pending", "sending", "sent", "failed"]


class OutboxMessage(Model):
    id: str
    organisation_id: str
    invoice_id: str
    kind: EmailKind
    # Recipients as they were when the state changed (the customer's billing recipients).
    to: list[str]
    payment_id: str | None = None
    # A `credit_note` email's credit note (its invoice is `invoice_id`).
    credit_note_id: str | None = None
    # A reminder's step (`before_3`, `after_15`): what the email says.
    reminder: str | None = None
    # A `portal_sign_in` email's customer and link (`invoice_id` is then empty). The link holds
    # its secret until the email is sent (then it is removed); it stops working after 15 minutes.
    customer_id: str | None = None
    portal_link: str | None = None
    status: OutboxStatus = "pending"
    attempts: int = 0
    # While `sending`: until when the claim holds; after it, a stuck claim may be taken over.
    claimed_until: datetime | None = None
    last_error: str | None = None
    provider_message_id: str | None = None
    created_at: datetime
    sent_at: datetime | None = None
    version: int = 0

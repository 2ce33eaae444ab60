"""An outbox message's stored item (`OUTBOX#…`)."""

from __future__ import annotations

from datetime import datetime

from remit.adapters.dynamodb import Item
from remit.adapters.items import StoredItem
from remit.domain.outbox import OutboxMessage


class OutboxItem(StoredItem):
    id: str
    organisation_id: str
    invoice_id: str
    kind: str
    to: list[str]
    payment_id: str | None = None
    credit_note_id: str | None = None
    reminder: str | None = None
    customer_id: str | None = None
    portal_link: str | None = None
    status: str = "pending"
    attempts: int = 0
    claimed_until: datetime | None = None
    last_error: str | None = None
    provider_message_id: str | None = None
    created_at: datetime
    sent_at: datetime | None = None
    # Storage only: the version a claim or an update is conditional on.
    version: int = 0

    @classmethod
    def of(cls, message: OutboxMessage) -> OutboxItem:
        return cls.copied_from(message)

    def attributes(self) -> Item:
        # Only portal sign-in emails name a customer and a link: other messages' items stay as they were.
        attributes = super().attributes()
        for name in ("customer_id", "portal_link"):
            if attributes.get(name) is None:
                attributes.pop(name, None)
        return attributes

    def message(self) -> OutboxMessage:
        return OutboxMessage.model_construct(**self.values())


def outbox_attributes(message: OutboxMessage) -> Item:
    """The attributes of the message's item (its keys aside)."""
    return OutboxItem.of(message).attributes()


def outbox_message_of(item: Item) -> OutboxMessage:
    """The message a stored item holds."""
    return OutboxItem.model_validate(item).message()

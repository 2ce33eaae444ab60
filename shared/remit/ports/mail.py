"""Emails: rendering them and sending them."""

from __future__ import annotations

from typing import Protocol

from remit.domain.documents import (
    CreditNoteDocument,
    EmailKind,
    InvoiceDocument,
    OutgoingEmail,
    RenderedEmail,
)
from remit.domain.payment import Payment
from remit.domain.reminders import ReminderStep


class EmailRenderer(Protocol):
    def render(
        self,
        kind: EmailKind,
        document: InvoiceDocument,
        payment: Payment | None = None,
        reminder: ReminderStep | None = None,
        credit_note: CreditNoteDocument | None = None,
    ) -> RenderedEmail:
        """Subject, HTML and plain-text body of an invoice email, void notice, payment receipt, reminder
        or credit note (which needs the `credit_note`: `ValueError` without).
        """
        ...

    def render_portal_sign_in(
        self, locale: str, seller: str, brand_colour: str | None, link: str, minutes: int
    ) -> RenderedEmail:
        """The email that carries a customer's one-time portal sign-in link, in `locale`."""
        ...


class Mailer(Protocol):
    def send(self, email: OutgoingEmail) -> str:
        """Send the email; returns the provider's message id. Raises on failure (the caller retries)."""
        ...

"""Card payments: the provider's API, the organisation's credentials, what applying an event reads."""

from __future__ import annotations

from typing import Protocol

from remit.domain.card_intents import CardIntent
from remit.domain.card_payments import (
    CardPaymentEvent,
    CardSetupRequest,
    CheckoutRequest,
    CheckoutSession,
    MultiInvoiceCheckoutRequest,
    OffSessionCharge,
    ProviderCredentials,
)
from remit.domain.invoice import Invoice
from remit.domain.refunds import ProviderRefund, ProviderRefundRequest
from remit.domain.saved_cards import CardDetails


class PaymentProviderSecrets(Protocol):
    """The organisation's provider credentials in a secret store (never the table)."""

    def put(self, organisation_id: str, credentials: ProviderCredentials) -> None: ...

    def get(self, organisation_id: str) -> ProviderCredentials | None: ...

    def delete(self, organisation_id: str) -> None: ...


class CardGateway(Protocol):
    """A card provider's API, called with the organisation's own credentials."""

    def create_checkout(
        self, credentials: ProviderCredentials, request: CheckoutRequest
    ) -> CheckoutSession: ...

    def create_invoices_checkout(
        self, credentials: ProviderCredentials, request: MultiInvoiceCheckoutRequest
    ) -> CheckoutSession:
        """One checkout for the sum due of several invoices; its metadata names them all (`invoice_ids`)."""
        ...

    def create_card_setup(
        self, credentials: ProviderCredentials, request: CardSetupRequest
    ) -> CheckoutSession:
        """A page saving a card for off-session use; the result arrives as a `card_saved` event
        whose metadata names the organisation and customer. Raises `Conflict` when refused."""
        ...

    def card_details(self, credentials: ProviderCredentials, payment_method_id: str) -> CardDetails:
        """Brand, last four digits and expiry of a saved card. Raises `Conflict` when refused."""
        ...

    def detach_card(self, credentials: ProviderCredentials, payment_method_id: str) -> None:
        """Forget the card at the provider (it can no longer be charged). Raises `Conflict` when refused."""
        ...

    def charge_off_session(self, credentials: ProviderCredentials, charge: OffSessionCharge) -> str:
        """Start an off-session charge of a saved card; returns the payment intent id (result by webhook)."""
        ...

    def refund(self, credentials: ProviderCredentials, request: ProviderRefundRequest) -> ProviderRefund:
        """Refund part of a card payment; the same `request.refund_id` never refunds twice (it is the
        provider's idempotency key). The outcome may come later, by webhook. Raises `Conflict` when
        the provider refuses the request."""
        ...

    def verify_event(
        self, credentials: ProviderCredentials, payload: bytes, signature: str | None
    ) -> CardPaymentEvent | None:
        """The verified event (signature and 300 s tolerance), None for event types Remit ignores.

        Raises `InvalidSignature` for a bad, stale or missing signature.
        """
        ...


class CardPaymentReading(Protocol):
    """What applying one card event starts from, read together."""

    @property
    def organisation_exists(self) -> bool: ...
    @property
    def invoice(self) -> Invoice | None: ...
    @property
    def intent(self) -> CardIntent | None: ...
    @property
    def already_applied(self) -> bool: ...


class CardPaymentStore(Protocol):
    def read(
        self,
        organisation_id: str,
        invoice_id: str | None,
        payment_intent_id: str | None,
        event_id: str | None,
    ) -> CardPaymentReading:
        """The organisation's existence, the invoice, the intent's state and the event's marker, in one
        strongly consistent round trip (what is not asked for reads as absent).
        """
        ...

"""Stripe as the card gateway: Checkout Sessions, off-session charges, refunds, and verified webhook
events.

Every call builds its own `StripeClient` with the organisation's key, so no key is ever global
and one warm Lambda serves many organisations. `api_base` points the SDK elsewhere (the tests'
fake Stripe server).
"""

from __future__ import annotations

from typing import Any

import stripe

from remit.domain.card_payments import (
    CardPaymentEvent,
    CardRefundEvent,
    CardSetupRequest,
    CheckoutRequest,
    CheckoutSession,
    MultiInvoiceCheckoutRequest,
    OffSessionCharge,
    ProviderCredentials,
)
from remit.domain.errors import Conflict, InvalidSignature
from remit.domain.refunds import ProviderRefund, ProviderRefundRequest, provider_refund_status
from remit.domain.saved_cards import CardDetails
from remit.request_bodies import UnreadableBody, read_json

STRIPE_API_BASE = "https://api.stripe.com"
# Stripe's own default, named here because invariant 6 depends on it.
SIGNATURE_TOLERANCE_SECONDS = 300


def verify_stripe_event(
    credentials: ProviderCredentials, payload: bytes, signature: str | None
) -> CardPaymentEvent | None:
    """A Stripe-format event verified by the SDK (signature, 300 s tolerance), as Remit applies it.

    Returns None for event types Remit ignores (and for a checkout that is not paid yet).
    Raises `InvalidSignature` for a missing, forged, tampered or stale signature, or a signed body
    that is not an event.
    """
    secret = credentials.webhook_secret.get_secret_value()
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature, secret, tolerance=SIGNATURE_TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError:
        raise InvalidSignature() from None
    except ValueError:  # not UTF-8
        raise InvalidSignature("The signed body is not a Stripe event.") from None
    # The signature checked, the body is read by Remit's own depth-bounded reader, not the SDK's
    # (recursive) parser and StripeObjects: plain dicts, and no body can exhaust the stack.
    try:
        event = read_json(payload)
    except UnreadableBody:
        raise InvalidSignature("The signed body is not a Stripe event.") from None
    if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
        raise InvalidSignature("The signed body is not a Stripe event.")
    return _card_event(event)


def _card_event(event: dict[str, Any]) -> CardPaymentEvent | None:
    kind = event.get("type")
    subject = event["data"].get("object") or {}
    event_id = str(event.get("id", ""))
    if kind == "setup_intent.succeeded":
        return _setup_event(event_id, subject)
    if kind == "checkout.session.completed":
        # A setup-mode session completes with its setup intent, whose own event saves the card.
        if subject.get("mode") == "setup" or subject.get("payment_status") != "paid":
            return None
        return _event(
            event_id,
            "succeeded",
            subject,
            payment_intent=subject.get("payment_intent") or subject.get("id"),
            amount=subject.get("amount_total"),
        )
    if kind == "payment_intent.succeeded":
        return _event(
            event_id,
            "succeeded",
            subject,
            payment_intent=subject.get("id"),
            amount=subject.get("amount_received") or subject.get("amount"),
            payment_method=subject.get("payment_method"),
        )
    if kind == "payment_intent.payment_failed":
        error = subject.get("last_payment_error") or {}
        return _event(
            event_id,
            "failed",
            subject,
            payment_intent=subject.get("id"),
            amount=subject.get("amount"),
            failure_message=error.get("message") or "The payment failed.",
            payment_method=_id_of(error.get("payment_method")) or subject.get("payment_method"),
        )
    if kind in REFUND_EVENTS:
        return _refund_event(event_id, subject)
    if kind == "charge.refunded":
        return _event(
            event_id,
            "refunded",
            subject,
            payment_intent=subject.get("payment_intent") or subject.get("id"),
            amount=subject.get("amount_refunded"),
        )
    return None


# Events about one refund (the object is the refund); Remit acts on those whose metadata names a
# refund of its own (a credit note's), and leaves the rest to `charge.refunded`.
REFUND_EVENTS = ("refund.created", "refund.updated", "refund.failed", "charge.refund.updated")


def _refund_event(event_id: str, subject: dict[str, Any]) -> CardPaymentEvent | None:
    metadata = subject.get("metadata") or {}
    if not metadata.get("refund_id"):
        return None
    return CardRefundEvent.model_validate(
        {
            "event_id": event_id,
            "kind": "refund",
            "organisation_id": metadata.get("organisation_id"),
            "invoice_id": metadata.get("invoice_id"),
            "payment_intent_id": _id_of(subject.get("payment_intent")) or "",
            "amount": int(subject.get("amount") or 0),
            "currency": str(subject.get("currency") or "").upper(),
            "failure_message": subject.get("failure_reason"),
            "refund_id": str(metadata["refund_id"]),
            "provider_refund_id": _id_of(subject.get("id")),
            "refund_status": str(subject.get("status") or ""),
        }
    )


def _setup_event(event_id: str, subject: dict[str, Any]) -> CardPaymentEvent | None:
    """A card saved by a setup Remit started (its metadata names the customer); None otherwise."""
    metadata = subject.get("metadata") or {}
    payment_method = _id_of(subject.get("payment_method"))
    if not metadata.get("customer_id") or payment_method is None:
        return None
    return CardPaymentEvent.model_validate(
        {
            "event_id": event_id,
            "kind": "card_saved",
            "organisation_id": metadata.get("organisation_id"),
            "invoice_id": None,
            "customer_id": metadata.get("customer_id"),
            "payment_intent_id": _id_of(subject.get("id")) or "",
            "amount": 0,
            "currency": "",
            "provider_customer_id": _id_of(subject.get("customer")),
            "payment_method_id": payment_method,
            "card": _card_of(subject.get("payment_method")),
        }
    )


def _card_of(payment_method: Any) -> CardDetails | None:
    """The card's details from an expanded payment method (the sandbox sends it so), else None."""
    card = payment_method.get("card") if isinstance(payment_method, dict) else None
    if not isinstance(card, dict):
        return None
    return CardDetails.model_validate(
        {
            "brand": str(card.get("brand") or "card")[:30],
            "last4": str(card.get("last4") or "")[:4] or None,
            "exp_month": card.get("exp_month"),
            "exp_year": card.get("exp_year"),
        }
    )


def _invoice_ids(metadata: dict[str, Any]) -> list[str]:
    value = metadata.get("invoice_ids")
    return [part for part in str(value).split(",") if part] if value else []


def _id_of(value: Any) -> str | None:
    """Stripe sends a related object either as its id or expanded."""
    if isinstance(value, dict):
        return str(value["id"]) if value.get("id") else None
    return str(value) if value else None


def _event(
    event_id: str,
    kind: str,
    subject: dict[str, Any],
    payment_intent: Any,
    amount: Any,
    failure_message: str | None = None,
    payment_method: Any = None,
) -> CardPaymentEvent:
    metadata = subject.get("metadata") or {}
    return CardPaymentEvent.model_validate(
        {
            "event_id": event_id,
            "kind": kind,
            "organisation_id": metadata.get("organisation_id"),
            "invoice_id": metadata.get("invoice_id"),
            "payment_intent_id": _id_of(payment_intent) or "",
            "amount": int(amount or 0),
            "currency": str(subject.get("currency") or "").upper(),
            "failure_message": failure_message,
            "provider_customer_id": _id_of(subject.get("customer")),
            "payment_method_id": _id_of(payment_method),
            "card": _card_of(payment_method),
            "invoice_ids": _invoice_ids(metadata),
        }
    )


class StripeGateway:
    """The `CardGateway` over Stripe's API, with the organisation's own secret key on each call."""

    def __init__(self, api_base: str = STRIPE_API_BASE) -> None:
        self._api_base = api_base or STRIPE_API_BASE

    def _client(self, credentials: ProviderCredentials) -> stripe.StripeClient:
        return stripe.StripeClient(
            credentials.secret_key.get_secret_value(),
            base_addresses={"api": self._api_base},
            max_network_retries=2,
        )

    def create_checkout(self, credentials: ProviderCredentials, request: CheckoutRequest) -> CheckoutSession:
        """A Checkout Session for the amount due; the same invoice and amount give back the same session.

        With `save_card`, the session runs against a Stripe customer and keeps the card for
        off-session charges. Raises `Conflict` when Stripe refuses the request.
        """
        client = self._client(credentials)
        metadata = {"organisation_id": request.organisation_id, "invoice_id": request.invoice_id}
        idempotency_key = f"checkout-{request.invoice_id}-{request.amount}"
        params = _payment_params(request, f"Invoice {request.invoice_number}", metadata)
        params["client_reference_id"] = request.invoice_id
        try:
            customer = request.provider_customer_id
            if request.save_card:
                if customer is None:
                    created = client.v1.customers.create(
                        {
                            **({"email": request.customer_email} if request.customer_email else {}),
                            "metadata": {"organisation_id": request.organisation_id},
                        },
                        {"idempotency_key": f"customer-{request.invoice_id}"},
                    )
                    customer = created.id
                params["payment_intent_data"]["setup_future_usage"] = "off_session"
        except stripe.StripeError as error:
            raise Conflict(
                f"The card provider refused the checkout: {_reason(error)}", code="provider_refused"
            ) from None
        return _payment_session(client, params, customer, request.customer_email, idempotency_key)

    def create_invoices_checkout(
        self, credentials: ProviderCredentials, request: MultiInvoiceCheckoutRequest
    ) -> CheckoutSession:
        """A Checkout Session for the sum due of several invoices, one line each; the metadata names
        them all (`invoice_ids`, comma-separated). The same invoices and amount give back the same
        session. Raises `Conflict` when Stripe refuses the request."""
        client = self._client(credentials)
        metadata = {
            "organisation_id": request.organisation_id,
            "customer_id": request.customer_id,
            "invoice_ids": ",".join(request.invoice_ids),
        }
        params = _payment_params(request, "Invoices " + ", ".join(request.invoice_numbers), metadata)
        key = f"checkout-{'-'.join(sorted(request.invoice_ids))}-{request.amount}"
        return _payment_session(
            client, params, request.provider_customer_id, request.customer_email, key[:255]
        )

    def create_card_setup(
        self, credentials: ProviderCredentials, request: CardSetupRequest
    ) -> CheckoutSession:
        """A setup-mode Checkout Session against the customer's Stripe customer (created when it has
        none); `setup_intent.succeeded` then saves the card. Raises `Conflict` when Stripe refuses."""
        client = self._client(credentials)
        metadata = {"organisation_id": request.organisation_id, "customer_id": request.customer_id}
        try:
            customer = request.provider_customer_id
            if customer is None:
                created = client.v1.customers.create(
                    {
                        **({"email": request.customer_email} if request.customer_email else {}),
                        "metadata": metadata,
                    },
                    {"idempotency_key": f"customer-{request.organisation_id}-{request.customer_id}"},
                )
                customer = created.id
            params: dict[str, Any] = {
                "mode": "setup",
                "currency": request.currency.lower(),
                "customer": customer,
                "metadata": metadata,
                "setup_intent_data": {"metadata": metadata},
                "success_url": f"{request.return_url}",
                "cancel_url": f"{request.return_url}",
            }
            session = client.v1.checkout.sessions.create(params)  # type: ignore[arg-type]
        except stripe.StripeError as error:
            raise Conflict(
                f"The card provider refused the card setup: {_reason(error)}", code="provider_refused"
            ) from None
        if not session.url:
            raise Conflict("The card provider answered without a setup page.", code="provider_refused")
        return CheckoutSession(id=session.id, url=session.url)

    def card_details(self, credentials: ProviderCredentials, payment_method_id: str) -> CardDetails:
        """The card of a PaymentMethod. Raises `Conflict` when Stripe refuses."""
        # Asked while a webhook is applied: no retries, a card is saved without its details instead.
        client = stripe.StripeClient(
            credentials.secret_key.get_secret_value(),
            base_addresses={"api": self._api_base},
            max_network_retries=0,
        )
        try:
            method = client.v1.payment_methods.retrieve(payment_method_id)
        except stripe.StripeError as error:
            raise Conflict(f"The card provider did not describe the card: {_reason(error)}") from None
        return _card_of(method.to_dict()) or CardDetails()

    def detach_card(self, credentials: ProviderCredentials, payment_method_id: str) -> None:
        """Detach the PaymentMethod from its customer. Raises `Conflict` when Stripe refuses."""
        try:
            self._client(credentials).v1.payment_methods.detach(payment_method_id)
        except stripe.StripeError as error:
            raise Conflict(f"The card provider did not remove the card: {_reason(error)}") from None

    def charge_off_session(self, credentials: ProviderCredentials, charge: OffSessionCharge) -> str:
        """Confirm a PaymentIntent against the saved card; the outcome arrives by webhook.

        A card declined on the spot still returns its payment intent id (Stripe sends
        `payment_intent.payment_failed`). Raises `Conflict` when Stripe refuses the request itself.
        """
        client = self._client(credentials)
        params: dict[str, Any] = {
            "amount": charge.amount,
            "currency": charge.currency.lower(),
            "customer": charge.provider_customer_id,
            "payment_method": charge.payment_method_id,
            "off_session": True,
            "confirm": True,
            "metadata": {"organisation_id": charge.organisation_id, "invoice_id": charge.invoice_id},
        }
        try:
            intent = client.v1.payment_intents.create(params, {"idempotency_key": charge.idempotency_key})  # type: ignore[arg-type]
        except stripe.CardError as error:
            declined = getattr(error.error, "payment_intent", None) if error.error else None
            intent_id = getattr(declined, "id", None)
            if intent_id:
                return str(intent_id)
            raise Conflict(f"The card was refused: {_reason(error)}") from None
        except stripe.StripeError as error:
            raise Conflict(f"The card provider refused the charge: {_reason(error)}") from None
        return str(intent.id)

    def refund(self, credentials: ProviderCredentials, request: ProviderRefundRequest) -> ProviderRefund:
        """A Refund of part of the payment intent, keyed by Remit's refund id (a retry refunds once).

        Raises `Conflict` when Stripe refuses it; a network failure raises the SDK's error, and the
        refund stays pending for the sweep.
        """
        client = self._client(credentials)
        params: dict[str, Any] = {
            "payment_intent": request.payment_intent_id,
            "amount": request.amount,
            "metadata": {
                "organisation_id": request.organisation_id,
                "invoice_id": request.invoice_id,
                "refund_id": request.refund_id,
            },
        }
        try:
            refund = client.v1.refunds.create(params, {"idempotency_key": request.refund_id})  # type: ignore[arg-type]
        except (stripe.InvalidRequestError, stripe.CardError) as error:
            raise Conflict(f"The card provider refused the refund: {_reason(error)}") from None
        return ProviderRefund(
            id=str(refund.id),
            status=provider_refund_status(str(refund.status or "")),
            failure_reason=getattr(refund, "failure_reason", None),
        )

    def verify_event(
        self, credentials: ProviderCredentials, payload: bytes, signature: str | None
    ) -> CardPaymentEvent | None:
        return verify_stripe_event(credentials, payload, signature)


def _payment_params(
    request: CheckoutRequest | MultiInvoiceCheckoutRequest, name: str, metadata: dict[str, str]
) -> dict[str, Any]:
    """A payment-mode Checkout Session of one line, `name`, for the request's amount."""
    return {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": request.currency.lower(),
                    "unit_amount": request.amount,
                    "product_data": {"name": name},
                },
            }
        ],
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "success_url": request.success_url,
        "cancel_url": request.cancel_url,
    }


def _payment_session(
    client: stripe.StripeClient,
    params: dict[str, Any],
    customer: str | None,
    customer_email: str | None,
    idempotency_key: str,
) -> CheckoutSession:
    """The payment Checkout Session of `params`, against the Stripe `customer` when there is one,
    else prefilled with `customer_email`. Raises `Conflict` when Stripe refuses or answers no page."""
    if customer is not None:
        params["customer"] = customer
    elif customer_email:
        params["customer_email"] = customer_email
    try:
        session = client.v1.checkout.sessions.create(params, {"idempotency_key": idempotency_key})  # type: ignore[arg-type]
    except stripe.StripeError as error:
        raise Conflict(
            f"The card provider refused the checkout: {_reason(error)}", code="provider_refused"
        ) from None
    if not session.url:
        raise Conflict("The card provider answered without a checkout page.", code="provider_refused")
    return CheckoutSession(id=session.id, url=session.url)


def _reason(error: stripe.StripeError) -> str:
    # Stripe's user message never carries the key; the raw error might echo request details.
    return error.user_message or type(error).__name__

"""The sandbox card provider of the local stack: Stripe's shapes without Stripe's network.

A checkout session is an item in the billing table (`PK=SANDBOX#<session id>`) that the local
checkout page (`local/sandbox_checkout.py`) reads. Its outcome is posted to the organisation's
`/webhooks/stripe/<org id>` as a Stripe-format event, signed the way Stripe signs, so it takes
the same verified path as a real Stripe event. Only the local and test stages may connect it.

A test double, so it lives with the local stack, not in the product's layer: the local stack wires
it into Remit's services with `remit.bootstrap.use_card_gateway("sandbox", sandbox_gateway)`;
a deployed function has no sandbox gateway at all.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from remit.adapters.dynamodb import DynamoTable, to_attributes
from remit.adapters.stripe_gateway import verify_stripe_event
from remit.config import Settings
from remit.domain.card_payments import (
    CardPaymentEvent,
    CardSetupRequest,
    CheckoutRequest,
    CheckoutSession,
    MultiInvoiceCheckoutRequest,
    OffSessionCharge,
    ProviderCredentials,
)
from remit.domain.errors import ConcurrentUpdate
from remit.domain.refunds import ProviderRefund, ProviderRefundRequest
from remit.domain.saved_cards import CardDetails
from remit.observability import logger
from remit.ports.clock import Clock

SUCCEEDING_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"
DECLINE_MESSAGE = "Your card was declined."
CHECKOUT_PATH = "/_dev/sandbox/checkout/"


def sign_payload(payload: bytes, webhook_secret: str, timestamp: int) -> str:
    """A `Stripe-Signature` header for `payload`, as Stripe computes it (HMAC-SHA256 of `t.payload`)."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(webhook_secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def deliver_event(base_url: str, organisation_id: str, event: dict[str, Any], webhook_secret: str) -> int:
    """POST the signed event to the stack's own webhook endpoint; returns the HTTP status."""
    payload = json.dumps(event).encode()
    request = urllib.request.Request(  # noqa: S310 - the stack's own configured base URL
        f"{base_url.rstrip('/')}/webhooks/stripe/{organisation_id}",
        data=payload,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": sign_payload(payload, webhook_secret, int(time.time())),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        logger.warning("The sandbox webhook was refused", extra={"status": error.code, "type": event["type"]})
        return int(error.code)


def stripe_event(kind: str, subject: dict[str, Any]) -> dict[str, Any]:
    """A Stripe event envelope around `subject`."""
    return {
        "id": f"evt_sandbox_{secrets.token_hex(12)}",
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": subject},
    }


def payment_intent(
    intent_id: str,
    amount: int,
    currency: str,
    metadata: dict[str, str],
    customer: str | None,
    payment_method: str,
    declined: bool,
) -> dict[str, Any]:
    """A PaymentIntent object as Stripe sends it in `payment_intent.*` events."""
    intent: dict[str, Any] = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": 0 if declined else amount,
        "currency": currency.lower(),
        "customer": customer,
        "payment_method": None if declined else payment_method,
        "metadata": metadata,
        "status": "requires_payment_method" if declined else "succeeded",
    }
    if declined:
        intent["last_payment_error"] = {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": "generic_decline",
            "message": DECLINE_MESSAGE,
            "payment_method": {"id": payment_method, "object": "payment_method"},
        }
    return intent


def checkout_events(session: dict[str, Any], card_number: str) -> list[dict[str, Any]]:
    """The events Stripe would send for paying `session` with `card_number` (4242… paid, 0002 declined)."""
    declined = card_number == DECLINED_CARD
    metadata = dict(session["metadata"])
    intent_id = f"pi_sandbox_{secrets.token_hex(12)}"
    payment_method = f"pm_sandbox_{card_number[-4:]}"
    customer = session.get("provider_customer_id")
    intent = payment_intent(
        intent_id, session["amount"], session["currency"], metadata, customer, payment_method, declined
    )
    if declined:
        return [stripe_event("payment_intent.payment_failed", intent)]
    completed = {
        "id": session["session_id"],
        "object": "checkout.session",
        "mode": "payment",
        "payment_status": "paid",
        "status": "complete",
        "amount_total": session["amount"],
        "currency": session["currency"].lower(),
        "customer": customer,
        "payment_intent": intent_id,
        "metadata": metadata,
    }
    return [
        stripe_event("checkout.session.completed", completed),
        stripe_event("payment_intent.succeeded", intent),
    ]


def card_expiry(expiry: str) -> tuple[int, int]:
    """The month and year of an `MM/YY` (or `MM/YYYY`) expiry; 12/2034 when it is not one."""
    month, _, year = expiry.strip().partition("/")
    if month.strip().isdigit() and year.strip().isdigit() and 1 <= int(month) <= 12:
        full_year = int(year) + 2000 if int(year) < 100 else int(year)
        if 2000 <= full_year <= 2200:
            return int(month), full_year
    return 12, 2034


def sandbox_payment_method(card_number: str, expiry: str) -> dict[str, Any]:
    """A PaymentMethod as Stripe expands it: the card's brand, last four digits and expiry."""
    month, year = card_expiry(expiry)
    return {
        "id": f"pm_sandbox_{card_number[-4:]}_{secrets.token_hex(6)}",
        "object": "payment_method",
        "type": "card",
        "card": {"brand": "visa", "last4": card_number[-4:], "exp_month": month, "exp_year": year},
    }


def setup_events(session: dict[str, Any], card_number: str, expiry: str) -> list[dict[str, Any]]:
    """The event Stripe would send for a card setup of `session` (4242… saved, 0002 declined)."""
    declined = card_number == DECLINED_CARD
    payment_method = sandbox_payment_method(card_number, expiry)
    setup_intent: dict[str, Any] = {
        "id": f"seti_sandbox_{secrets.token_hex(12)}",
        "object": "setup_intent",
        "customer": session.get("provider_customer_id"),
        "metadata": dict(session["metadata"]),
        "usage": "off_session",
        "status": "requires_payment_method" if declined else "succeeded",
        "payment_method": None if declined else payment_method,
    }
    if declined:
        setup_intent["last_setup_error"] = {"code": "card_declined", "message": DECLINE_MESSAGE}
        return [stripe_event("setup_intent.setup_failed", setup_intent)]
    return [stripe_event("setup_intent.succeeded", setup_intent)]


def sandbox_gateway(table: DynamoTable, config: Settings, clock: Clock) -> SandboxGateway:
    """The sandbox gateway over Remit's billing table, as `remit.bootstrap.use_card_gateway` builds it."""
    return SandboxGateway(table, lambda: config.public_base_url, clock)


class SandboxGateway:
    """The `CardGateway` of the local stack. Sessions live in the billing table; results come by webhook."""

    def __init__(
        self,
        table: DynamoTable,
        public_base_url: Callable[[], str],
        clock: Clock,
        deliver: Callable[[str, str, dict[str, Any], str], int] = deliver_event,
    ) -> None:
        self._table = table
        self._public_base_url = public_base_url
        self._clock = clock
        self._deliver = deliver

    def create_checkout(self, credentials: ProviderCredentials, request: CheckoutRequest) -> CheckoutSession:
        """Remember a session for the local checkout page and answer its URL."""
        session_id = f"cs_sandbox_{secrets.token_urlsafe(24)}"
        customer = request.provider_customer_id
        if request.save_card and customer is None:
            customer = f"cus_sandbox_{secrets.token_hex(8)}"
        item = {
            "PK": f"SANDBOX#{session_id}",
            "SK": "SANDBOX",
            "entity": "sandbox_checkout",
            "session_id": session_id,
            "organisation_id": request.organisation_id,
            "invoice_id": request.invoice_id,
            "invoice_number": request.invoice_number,
            "amount": request.amount,
            "currency": request.currency,
            "metadata": {"organisation_id": request.organisation_id, "invoice_id": request.invoice_id},
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "customer_email": request.customer_email,
            "save_card": request.save_card,
            "provider_customer_id": customer,
            "created_at": self._clock.now().isoformat(),
        }
        self._table.client.put_item(TableName=self._table.name, Item=to_attributes(item))
        url = f"{self._public_base_url().rstrip('/')}{CHECKOUT_PATH}{session_id}"
        return CheckoutSession(id=session_id, url=url)

    def create_invoices_checkout(
        self, credentials: ProviderCredentials, request: MultiInvoiceCheckoutRequest
    ) -> CheckoutSession:
        """Remember a session paying several invoices; its metadata names them all (`invoice_ids`)."""
        metadata = {
            "organisation_id": request.organisation_id,
            "customer_id": request.customer_id,
            "invoice_ids": ",".join(request.invoice_ids),
        }
        return self._remember(
            {
                "mode": "payment",
                "organisation_id": request.organisation_id,
                "invoice_number": ", ".join(request.invoice_numbers),
                "amount": request.amount,
                "currency": request.currency,
                "metadata": metadata,
                "success_url": request.success_url,
                "cancel_url": request.cancel_url,
                "customer_email": request.customer_email,
                "save_card": False,
                "provider_customer_id": request.provider_customer_id,
            }
        )

    def create_card_setup(
        self, credentials: ProviderCredentials, request: CardSetupRequest
    ) -> CheckoutSession:
        """Remember a card setup for the local page; a card saved there arrives as
        `setup_intent.succeeded`."""
        return self._remember(
            {
                "mode": "setup",
                "organisation_id": request.organisation_id,
                "customer_id": request.customer_id,
                "currency": request.currency,
                "metadata": {"organisation_id": request.organisation_id, "customer_id": request.customer_id},
                "success_url": request.return_url,
                "cancel_url": request.return_url,
                "customer_email": request.customer_email,
                "provider_customer_id": request.provider_customer_id or f"cus_sandbox_{secrets.token_hex(8)}",
            }
        )

    def card_details(self, credentials: ProviderCredentials, payment_method_id: str) -> CardDetails:
        """A sandbox card's digits are in its id (`pm_sandbox_<last4>…`); its events carry the rest."""
        digits = payment_method_id.removeprefix("pm_sandbox_")[:4]
        return CardDetails(brand="visa", last4=digits if digits.isdigit() else None)

    def detach_card(self, credentials: ProviderCredentials, payment_method_id: str) -> None:
        """Sandbox cards live nowhere but in Remit: nothing to detach."""

    def _remember(self, fields: dict[str, Any]) -> CheckoutSession:
        session_id = f"cs_sandbox_{secrets.token_urlsafe(24)}"
        item = {
            "PK": f"SANDBOX#{session_id}",
            "SK": "SANDBOX",
            "entity": "sandbox_checkout",
            "session_id": session_id,
            **fields,
            "created_at": self._clock.now().isoformat(),
        }
        self._table.client.put_item(TableName=self._table.name, Item=to_attributes(item))
        url = f"{self._public_base_url().rstrip('/')}{CHECKOUT_PATH}{session_id}"
        return CheckoutSession(id=session_id, url=url)

    def session(self, session_id: str) -> dict[str, Any] | None:
        """A checkout session as `create_checkout` remembered it, or None."""
        if not session_id.startswith("cs_sandbox_") or len(session_id) > 100:
            return None
        return self._table.get(f"SANDBOX#{session_id}", "SANDBOX")

    def complete(self, session_id: str) -> bool:
        """Mark the session paid; False when it already was (a session is paid at most once)."""
        try:
            self._table.client.update_item(
                TableName=self._table.name,
                Key={"PK": {"S": f"SANDBOX#{session_id}"}, "SK": {"S": "SANDBOX"}},
                UpdateExpression="SET completed_at = :now",
                ConditionExpression="attribute_exists(PK) AND attribute_not_exists(completed_at)",
                ExpressionAttributeValues={":now": {"S": self._clock.now().isoformat()}},
            )
        except self._table.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def charge_off_session(self, credentials: ProviderCredentials, charge: OffSessionCharge) -> str:
        """Charge a card saved by a sandbox checkout: its outcome (4242 paid, 0002 declined) is posted as
        a signed webhook shortly after, once per idempotency key, as Stripe would send it.
        """
        intent_id, first = self._once(
            f"SANDBOX#{charge.organisation_id}#{charge.idempotency_key}",
            "SANDBOX_CHARGE",
            f"pi_sandbox_{secrets.token_hex(12)}",
        )
        if not first:
            return intent_id
        declined = charge.payment_method_id.endswith(DECLINED_CARD[-4:])
        metadata = {"organisation_id": charge.organisation_id, "invoice_id": charge.invoice_id}
        intent = payment_intent(
            intent_id,
            charge.amount,
            charge.currency,
            metadata,
            charge.provider_customer_id,
            charge.payment_method_id,
            declined,
        )
        event = stripe_event(
            "payment_intent.payment_failed" if declined else "payment_intent.succeeded", intent
        )
        # Like Stripe, the result comes later and from outside this request: the API function must not
        # wait on the stack that is running it.
        threading.Thread(
            target=self._deliver_later,
            args=(charge.organisation_id, event, credentials.webhook_secret.get_secret_value()),
            name="sandbox-webhook",
            daemon=True,
        ).start()
        return intent_id

    def refund(self, credentials: ProviderCredentials, request: ProviderRefundRequest) -> ProviderRefund:
        """Refund a sandbox card payment: once per refund id (as Stripe's idempotency key does), answered
        `pending`, its success posted shortly after as a signed `refund.updated` webhook."""
        refund_id, first = self._once(
            f"SANDBOX#{request.organisation_id}#{request.refund_id}",
            "SANDBOX_REFUND",
            f"re_sandbox_{secrets.token_hex(12)}",
        )
        if not first:
            return ProviderRefund(id=refund_id, status="pending")
        refunded = {
            "id": refund_id,
            "object": "refund",
            "amount": request.amount,
            "currency": request.currency.lower(),
            "payment_intent": request.payment_intent_id,
            "status": "succeeded",
            "metadata": {
                "organisation_id": request.organisation_id,
                "invoice_id": request.invoice_id,
                "refund_id": request.refund_id,
            },
        }
        threading.Thread(
            target=self._deliver_later,
            args=(
                request.organisation_id,
                stripe_event("refund.updated", refunded),
                credentials.webhook_secret.get_secret_value(),
            ),
            name="sandbox-webhook",
            daemon=True,
        ).start()
        return ProviderRefund(id=refund_id, status="pending")

    def _once(self, key: str, kind: str, provider_id: str) -> tuple[str, bool]:
        """The provider's id for the request `key` (an idempotency key, as Stripe keeps them): the
        one recorded by the first call, and whether this call is that first one."""
        item = {"PK": key, "SK": kind, "entity": kind.lower(), "provider_id": provider_id}
        try:
            self._table.client.put_item(
                TableName=self._table.name,
                Item=to_attributes(item),
                ConditionExpression="attribute_not_exists(PK)",
            )
        except self._table.client.exceptions.ConditionalCheckFailedException:
            existing = self._table.get(key, kind)
            if existing is None:
                raise ConcurrentUpdate() from None
            # Items a local stack's data kept from before name the id by its kind.
            recorded = existing.get("provider_id") or existing.get("payment_intent_id")
            return str(recorded or existing["provider_refund_id"]), False
        return provider_id, True

    def _deliver_later(self, organisation_id: str, event: dict[str, Any], webhook_secret: str) -> None:
        time.sleep(0.2)
        try:
            self._deliver(self._public_base_url(), organisation_id, event, webhook_secret)
        except Exception:
            logger.exception("Delivering the sandbox webhook failed")

    def verify_event(
        self, credentials: ProviderCredentials, payload: bytes, signature: str | None
    ) -> CardPaymentEvent | None:
        """Sandbox events are Stripe events: verified by the same code (signature, 300 s tolerance)."""
        return verify_stripe_event(credentials, payload, signature)

"""The Stripe adapter against a fake Stripe API on loopback, and webhook verification with real signatures."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from remit.adapters.stripe_gateway import StripeGateway
from remit.domain.card_payments import (
    CheckoutRequest,
    MultiInvoiceCheckoutRequest,
    OffSessionCharge,
    ProviderCredentials,
)
from remit.domain.errors import InvalidSignature
from tests.integration.fake_stripe import DECLINED_PAYMENT_METHOD, FakeStripe

SECRET_KEY = "sk_test_acme_0123456789"
WEBHOOK_SECRET = "whsec_acme_webhook_0123456789"
CREDENTIALS = ProviderCredentials(
    provider="stripe", secret_key=SecretStr(SECRET_KEY), webhook_secret=SecretStr(WEBHOOK_SECRET)
)
METADATA = {"organisation_id": "org_acme", "invoice_id": "inv_0001"}


@pytest.fixture
def stripe_api() -> Iterator[FakeStripe]:
    with FakeStripe() as fake:
        yield fake


def checkout_request(**fields: Any) -> CheckoutRequest:
    return CheckoutRequest.model_validate(
        {
            "organisation_id": "org_acme",
            "invoice_id": "inv_0001",
            "invoice_number": "ACME-00001",
            "amount": 11900,
            "currency": "EUR",
            "customer_email": "ap@globex.test",
            "success_url": "https://api.remit.test/i/tok?checkout=success",
            "cancel_url": "https://api.remit.test/i/tok?checkout=cancelled",
            "save_card": False,
            **fields,
        }
    )


def signed(payload: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    timestamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event(kind: str, subject: dict[str, Any], event_id: str = "evt_1") -> bytes:
    return json.dumps({"id": event_id, "object": "event", "type": kind, "data": {"object": subject}}).encode()


# Checkout


def test_a_checkout_asks_stripe_for_the_amount_due_in_the_currency_with_the_invoice_in_metadata(
    stripe_api: FakeStripe,
) -> None:
    session = StripeGateway(stripe_api.url).create_checkout(CREDENTIALS, checkout_request())

    assert session.id == "cs_test_1"
    assert session.url == "https://checkout.stripe.test/c/pay/cs_test_1"
    [sent] = stripe_api.to("/v1/checkout/sessions")
    form = sent.form
    assert sent.authorization == f"Bearer {SECRET_KEY}"
    assert sent.idempotency_key == "checkout-inv_0001-11900"
    assert form["mode"] == "payment"
    assert form["line_items[0][quantity]"] == "1"
    assert form["line_items[0][price_data][unit_amount]"] == "11900"
    assert form["line_items[0][price_data][currency]"] == "eur"
    assert form["line_items[0][price_data][product_data][name]"] == "Invoice ACME-00001"
    assert form["metadata[organisation_id]"] == "org_acme"
    assert form["metadata[invoice_id]"] == "inv_0001"
    assert form["payment_intent_data[metadata][organisation_id]"] == "org_acme"
    assert form["payment_intent_data[metadata][invoice_id]"] == "inv_0001"
    assert form["customer_email"] == "ap@globex.test"
    assert form["client_reference_id"] == "inv_0001"
    assert form["success_url"] == "https://api.remit.test/i/tok?checkout=success"
    assert form["cancel_url"] == "https://api.remit.test/i/tok?checkout=cancelled"
    assert "payment_intent_data[setup_future_usage]" not in form
    assert stripe_api.to("/v1/customers") == []


def test_a_checkout_of_several_invoices_asks_for_their_sum_on_one_line_naming_them_all(
    stripe_api: FakeStripe,
) -> None:
    # Given two open invoices of a customer known to Stripe
    request = MultiInvoiceCheckoutRequest(
        organisation_id="org_acme",
        customer_id="cus_globex",
        invoice_ids=["inv_0002", "inv_0001"],
        invoice_numbers=["ACME-00002", "ACME-00001"],
        amount=23800,
        currency="EUR",
        customer_email="ap@globex.test",
        success_url="https://api.remit.test/p/org_acme?checkout=success",
        cancel_url="https://api.remit.test/p/org_acme?checkout=cancelled",
        provider_customer_id="cus_stripe_1",
    )

    # When a checkout is asked for them
    session = StripeGateway(stripe_api.url).create_invoices_checkout(CREDENTIALS, request)

    # Then one session bills their sum on one line, against the Stripe customer, naming them all
    assert session.url
    [sent] = stripe_api.to("/v1/checkout/sessions")
    form = sent.form
    assert sent.idempotency_key == "checkout-inv_0001-inv_0002-23800"
    assert form["mode"] == "payment"
    assert form["line_items[0][price_data][unit_amount]"] == "23800"
    assert form["line_items[0][price_data][currency]"] == "eur"
    assert form["line_items[0][price_data][product_data][name]"] == "Invoices ACME-00002, ACME-00001"
    assert form["metadata[invoice_ids]"] == "inv_0002,inv_0001"
    assert form["payment_intent_data[metadata][customer_id]"] == "cus_globex"
    assert form["customer"] == "cus_stripe_1"
    assert "customer_email" not in form
    assert "client_reference_id" not in form


def test_asking_again_for_the_same_invoice_and_amount_gives_the_same_session(stripe_api: FakeStripe) -> None:
    gateway = StripeGateway(stripe_api.url)

    first = gateway.create_checkout(CREDENTIALS, checkout_request())
    again = gateway.create_checkout(CREDENTIALS, checkout_request())
    after_a_payment = gateway.create_checkout(CREDENTIALS, checkout_request(amount=5000))

    assert again == first
    assert after_a_payment != first
    keys = [r.idempotency_key for r in stripe_api.to("/v1/checkout/sessions")]
    assert keys == ["checkout-inv_0001-11900", "checkout-inv_0001-11900", "checkout-inv_0001-5000"]


def test_an_auto_pay_checkout_creates_a_stripe_customer_and_keeps_the_card(stripe_api: FakeStripe) -> None:
    StripeGateway(stripe_api.url).create_checkout(CREDENTIALS, checkout_request(save_card=True))

    [customer] = stripe_api.to("/v1/customers")
    assert customer.form["email"] == "ap@globex.test"
    assert customer.idempotency_key == "customer-inv_0001"
    [session] = stripe_api.to("/v1/checkout/sessions")
    assert session.form["customer"] == "cus_test_1"
    assert "customer_email" not in session.form
    assert session.form["payment_intent_data[setup_future_usage]"] == "off_session"


def test_a_known_stripe_customer_is_reused(stripe_api: FakeStripe) -> None:
    StripeGateway(stripe_api.url).create_checkout(
        CREDENTIALS, checkout_request(save_card=True, provider_customer_id="cus_known")
    )

    assert stripe_api.to("/v1/customers") == []
    [session] = stripe_api.to("/v1/checkout/sessions")
    assert session.form["customer"] == "cus_known"


# Off-session charges


def charge(**fields: Any) -> OffSessionCharge:
    return OffSessionCharge.model_validate(
        {
            "organisation_id": "org_acme",
            "invoice_id": "inv_0001",
            "amount": 11900,
            "currency": "EUR",
            "provider_customer_id": "cus_saved",
            "payment_method_id": "pm_saved",
            "idempotency_key": "inv_0001-11900-1",
            **fields,
        }
    )


def test_an_off_session_charge_confirms_a_payment_intent_on_the_saved_card(stripe_api: FakeStripe) -> None:
    intent_id = StripeGateway(stripe_api.url).charge_off_session(CREDENTIALS, charge())

    assert intent_id == "pi_test_1"
    [sent] = stripe_api.to("/v1/payment_intents")
    assert sent.idempotency_key == "inv_0001-11900-1"
    assert sent.form == {
        "amount": "11900",
        "currency": "eur",
        "customer": "cus_saved",
        "payment_method": "pm_saved",
        "off_session": "true",
        "confirm": "true",
        "metadata[organisation_id]": "org_acme",
        "metadata[invoice_id]": "inv_0001",
    }


def test_a_card_declined_on_the_spot_still_names_its_payment_intent(stripe_api: FakeStripe) -> None:
    intent_id = StripeGateway(stripe_api.url).charge_off_session(
        CREDENTIALS, charge(payment_method_id=DECLINED_PAYMENT_METHOD)
    )

    assert intent_id.startswith("pi_test_")


# Webhook events


def test_a_paid_checkout_is_a_success_with_its_metadata_amount_and_customer() -> None:
    payload = event(
        "checkout.session.completed",
        {
            "id": "cs_1",
            "object": "checkout.session",
            "payment_status": "paid",
            "amount_total": 11900,
            "currency": "eur",
            "payment_intent": "pi_1",
            "customer": "cus_1",
            "metadata": METADATA,
        },
    )

    verified = StripeGateway().verify_event(CREDENTIALS, payload, signed(payload))

    assert verified is not None
    assert verified.model_dump() == {
        "event_id": "evt_1",
        "kind": "succeeded",
        "organisation_id": "org_acme",
        "invoice_id": "inv_0001",
        "payment_intent_id": "pi_1",
        "amount": 11900,
        "currency": "EUR",
        "failure_message": None,
        "provider_customer_id": "cus_1",
        "payment_method_id": None,
        "card": None,
        "customer_id": None,
        "invoice_ids": [],
    }


def test_an_unpaid_checkout_and_other_event_types_are_ignored() -> None:
    unpaid = event("checkout.session.completed", {"payment_status": "unpaid", "metadata": METADATA})
    other = event("customer.created", {"id": "cus_1"})

    gateway = StripeGateway()
    assert gateway.verify_event(CREDENTIALS, unpaid, signed(unpaid)) is None
    assert gateway.verify_event(CREDENTIALS, other, signed(other)) is None


def test_payment_intent_events_carry_amount_card_and_failure_message() -> None:
    intent = {
        "id": "pi_1",
        "object": "payment_intent",
        "amount": 11900,
        "amount_received": 11900,
        "currency": "eur",
        "customer": "cus_1",
        "payment_method": "pm_1",
        "metadata": METADATA,
    }
    succeeded = event("payment_intent.succeeded", intent)
    failed = event(
        "payment_intent.payment_failed",
        {
            **intent,
            "amount_received": 0,
            "payment_method": None,
            "last_payment_error": {"message": "Your card was declined.", "payment_method": {"id": "pm_2"}},
        },
        event_id="evt_2",
    )

    gateway = StripeGateway()
    success = gateway.verify_event(CREDENTIALS, succeeded, signed(succeeded))
    failure = gateway.verify_event(CREDENTIALS, failed, signed(failed))

    assert success is not None
    assert (success.kind, success.amount, success.payment_method_id) == ("succeeded", 11900, "pm_1")
    assert failure is not None
    assert (failure.kind, failure.event_id, failure.amount) == ("failed", "evt_2", 11900)
    assert failure.failure_message == "Your card was declined."
    assert (failure.invoice_id, failure.payment_method_id) == ("inv_0001", "pm_2")


def test_a_refunded_charge_is_a_refund_of_its_payment_intent() -> None:
    payload = event(
        "charge.refunded",
        {
            "id": "ch_1",
            "object": "charge",
            "amount": 11900,
            "amount_refunded": 4000,
            "currency": "eur",
            "payment_intent": "pi_1",
            "metadata": METADATA,
        },
    )

    refund = StripeGateway().verify_event(CREDENTIALS, payload, signed(payload))

    assert refund is not None
    assert (refund.kind, refund.amount, refund.payment_intent_id) == ("refunded", 4000, "pi_1")
    assert (refund.organisation_id, refund.invoice_id) == ("org_acme", "inv_0001")


GOOD = event(
    "payment_intent.succeeded", {"id": "pi_1", "amount": 100, "currency": "eur", "metadata": METADATA}
)


def bad_delivery(case: str) -> tuple[bytes, str | None]:
    """The payload and signature of one kind of bad delivery, signed now (never at collection time)."""
    match case:
        case "forged":
            return GOOD, signed(GOOD, secret="whsec_someone_else_000000")
        case "stale":
            return GOOD, signed(GOOD, at=int(time.time()) - 301)
        case "tampered":
            return GOOD.replace(b'"amount": 100', b'"amount": 1'), signed(GOOD)
        case "missing":
            return GOOD, None
        case "malformed":
            return GOOD, "not-a-signature"
    raise AssertionError(f"unknown case {case}")


# Only the case's name is a parameter: signatures made at collection time would differ between
# xdist workers, and would be stale (so refused for the wrong reason) 300 s after collection.
@pytest.mark.parametrize("case", ["forged", "stale", "tampered", "missing", "malformed"])
def test_a_bad_signature_is_refused(case: str) -> None:
    payload, signature = bad_delivery(case)

    with pytest.raises(InvalidSignature):
        StripeGateway().verify_event(CREDENTIALS, payload, signature)


def test_a_signature_within_the_tolerance_is_accepted() -> None:
    assert StripeGateway().verify_event(CREDENTIALS, GOOD, signed(GOOD, at=int(time.time()) - 280))

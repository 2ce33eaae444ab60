"""Card-payment webhooks: verified, applied once each, in any order of arrival (invariant 6).

Events are Stripe-format, signed here with the organisation's webhook secret as Stripe signs them
(`t=<unix time>,v1=<HMAC-SHA256 of "<t>.<body>">`) and verified by the real Stripe gateway (the
stripe SDK); the credentials live in (mocked) Secrets Manager.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import io
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from pydantic import SecretStr

from remit.domain.card_payments import ProviderCredentials
from remit.services.card_events import CardEventService
from tests.integration.api_client import ApiClient, LambdaContext
from tests.integration.billing import Billing
from tests.integration.conftest import new_account

EVENTS = Path(__file__).resolve().parents[2] / "events" / "payment_webhooks"
SECRETS_PREFIX = "remit/test/payment-providers"
WEBHOOK_SECRET = "whsec_test_0123456789abcdefSECRETwebhook"
SECRET_KEY = "sk_test_51SECRETkeyNeverLoggedAnywhere0000"
INVOICE_TOTAL = 2380  # 2 x 1000 + 19 % tax


# --- wiring (until bootstrap has `card_events`) ------------------------------------------------


def card_event_service() -> CardEventService:
    from remit.adapters.dynamodb import DynamoTable
    from remit.adapters.dynamodb_billing import DynamoBillingStore
    from remit.adapters.dynamodb_card_payments import DynamoCardPaymentStore
    from remit.adapters.secrets_manager import SecretsManagerProviderSecrets
    from remit.adapters.stripe_gateway import StripeGateway
    from remit.bootstrap import SystemClock, services
    from remit.services.billing_context import BillingContext

    table = DynamoTable(lambda: boto3.client("dynamodb"), os.environ["REMIT_BILLING_TABLE"])
    context = BillingContext(DynamoBillingStore(table), services().organisations, SystemClock())
    return CardEventService(
        context,
        DynamoCardPaymentStore(table),
        SecretsManagerProviderSecrets(lambda: boto3.client("secretsmanager"), SECRETS_PREFIX),
        {"stripe": StripeGateway},
    )


def connect_stripe(organisation_id: str) -> None:
    from remit.adapters.secrets_manager import SecretsManagerProviderSecrets

    credentials = ProviderCredentials(
        provider="stripe", secret_key=SecretStr(SECRET_KEY), webhook_secret=SecretStr(WEBHOOK_SECRET)
    )
    secrets = SecretsManagerProviderSecrets(lambda: boto3.client("secretsmanager"), SECRETS_PREFIX)
    secrets.put(organisation_id, credentials)


# --- events -----------------------------------------------------------------------------------


def sign(body: bytes, secret: str = WEBHOOK_SECRET, at: float | None = None) -> str:
    timestamp = int(at if at is not None else time.time())
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def stripe_event(
    event_id: str,
    kind: str,
    organisation_id: str,
    invoice_id: str,
    amount: int = INVOICE_TOTAL,
    intent: str = "pi_1",
    **extra: Any,
) -> bytes:
    metadata = {"organisation_id": organisation_id, "invoice_id": invoice_id}
    subject: dict[str, Any]
    if kind == "checkout.session.completed":
        subject = {
            "id": f"cs_{intent}",
            "object": "checkout.session",
            "payment_status": "paid",
            "payment_intent": intent,
            "amount_total": amount,
        }
    elif kind == "payment_intent.succeeded":
        subject = {"id": intent, "object": "payment_intent", "amount": amount, "amount_received": amount}
    elif kind == "payment_intent.payment_failed":
        subject = {
            "id": intent,
            "object": "payment_intent",
            "amount": amount,
            "last_payment_error": {"message": "Your card was declined."},
        }
    else:
        subject = {
            "id": f"ch_{intent}",
            "object": "charge",
            "payment_intent": intent,
            "amount_refunded": amount,
        }
    subject.update({"currency": "eur", "metadata": metadata, **extra})
    event = {"id": event_id, "object": "event", "type": kind, "data": {"object": subject}}
    return json.dumps(event).encode()


class Shop:
    """An organisation with Stripe connected, a customer, and the table to read back."""

    def __init__(self, api: ApiClient) -> None:
        self.billing = Billing(api)
        self.org = self.billing.org
        connect_stripe(self.org)
        self.service = card_event_service()

    def invoice(self, unit_amount: int = 1000) -> dict[str, Any]:
        return self.billing.finalized(unit_amount=unit_amount)

    def deliver(self, body: bytes, signature: str | None = None) -> str:
        return self.service.handle(self.org, body, signature if signature is not None else sign(body))

    def payments(self, invoice_id: str) -> list[dict[str, Any]]:
        response = self.billing.api.get(f"{self.billing.base}/payments?invoice_id={invoice_id}")
        return list(response.json()["data"])

    def events(self, invoice_id: str) -> list[str]:
        response = self.billing.api.get(f"{self.billing.invoice(invoice_id)}/events")
        return [event["type"] for event in response.json()["data"]]

    def outbox(self) -> list[dict[str, Any]]:
        return items(self.org, "OUTBOX#")

    def customer(self) -> dict[str, Any]:
        return items(self.org, f"CUSTOMER#{self.billing.customer}")[0]


def items(organisation_id: str, prefix: str = "") -> list[dict[str, Any]]:
    from remit.adapters.dynamodb import from_attributes

    response = boto3.client("dynamodb").query(
        TableName=os.environ["REMIT_BILLING_TABLE"],
        KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
        ExpressionAttributeValues={":pk": {"S": f"ORG#{organisation_id}"}, ":prefix": {"S": prefix}},
        ConsistentRead=True,
    )
    return [from_attributes(item) for item in response["Items"]]


def whole_table() -> list[dict[str, Any]]:
    scanned = boto3.client("dynamodb").scan(TableName=os.environ["REMIT_BILLING_TABLE"], ConsistentRead=True)
    return sorted(scanned["Items"], key=lambda item: (item["PK"]["S"], item["SK"]["S"]))


def saved_card(customer: dict[str, Any]) -> tuple[str, str, bool]:
    """The customer's one saved card as stored: its provider customer, payment method and default."""
    [card] = customer["saved_cards"]
    return card["provider_customer_id"], card["payment_method_id"], card["default"]


@pytest.fixture
def shop(api: ApiClient) -> Shop:
    return Shop(api)


# --- the handler ------------------------------------------------------------------------------


def sample_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


def webhook_event(
    organisation_id: str, body: bytes, signature: str | None, name: str = "payment_intent_succeeded"
) -> dict[str, Any]:
    """The sample API Gateway event with this organisation, body and signature."""
    event = copy.deepcopy(sample_event(name))
    event["path"] = f"/webhooks/stripe/{organisation_id}"
    event["pathParameters"] = {"org_id": organisation_id}
    event["body"] = body.decode()
    for headers in (event["headers"], event["multiValueHeaders"]):
        headers.pop("Stripe-Signature")
    if signature is not None:
        event["headers"]["stripe-signature"] = signature  # header names are case-insensitive
        event["multiValueHeaders"]["stripe-signature"] = [signature]
    return event


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, Any]], dict[str, Any]]:
    from payment_webhooks import app

    monkeypatch.setattr(app, "card_event_service", card_event_service)

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = app.lambda_handler(event, LambdaContext(aws_request_id="req-webhook"))
        return result

    return invoke


# --- signatures -------------------------------------------------------------------------------


def bad_signature(case: str, body: bytes) -> str | None:
    """The `Stripe-Signature` of one kind of bad delivery of `body`, made when the test runs."""
    match case:
        case "forged":
            return sign(body, secret="whsec_forged_by_someone_else")
        case "stale":
            return sign(body, at=time.time() - 301)
        case "tampered":
            return sign(body.replace(b"2380", b"9999"))
        case "missing":
            return None
        case "garbled":
            return "t=abc,v1="
    raise AssertionError(f"unknown case {case}")


# Only the case's name is a parameter: a signature made at collection time would be stale 300 s
# later (so "forged" would be refused for the wrong reason) and would differ between xdist workers.
@pytest.mark.parametrize("case", ["forged", "stale", "tampered", "missing", "garbled"])
def test_a_bad_signature_is_refused_and_changes_nothing(
    shop: Shop, handler: Callable[[dict[str, Any]], dict[str, Any]], case: str
) -> None:
    invoice = shop.invoice()
    body = stripe_event("evt_bad", "payment_intent.succeeded", shop.org, invoice["id"])
    before = whole_table()

    response = handler(webhook_event(shop.org, body, bad_signature(case, body)))

    assert response["statusCode"] == 400
    assert response["headers"]["Content-Type"] == "application/problem+json"
    assert json.loads(response["body"])["status"] == 400
    assert whole_table() == before
    assert shop.billing.get(invoice["id"])["status"] == "open"
    assert shop.payments(invoice["id"]) == []


def test_a_body_that_is_not_json_is_400(
    shop: Shop, handler: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    before = whole_table()
    not_json = b"this is not an event"

    response = handler(webhook_event(shop.org, not_json, sign(not_json)))

    assert response["statusCode"] == 400
    assert whole_table() == before


def test_unknown_unconfigured_and_badly_signed_answer_alike_and_change_nothing(
    shop: Shop, api: ApiClient, handler: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    """A stranger cannot learn which organisations exist, or have a card provider, from the answers."""
    unconfigured = Billing(api)
    invoice = unconfigured.finalized()
    before = whole_table()
    answers = []
    for organisation in (shop.org, unconfigured.org, "org_unknown"):
        body = stripe_event("evt_1", "payment_intent.succeeded", organisation, invoice["id"])
        for signature in (sign(body, secret="whsec_guessed"), None):
            response = handler(webhook_event(organisation, body, signature))
            answers.append((response["statusCode"], response["headers"], response["body"]))
        if organisation != shop.org:  # for them, even a "valid" signature is one nothing can verify
            response = handler(webhook_event(organisation, body, sign(body)))
            answers.append((response["statusCode"], response["headers"], response["body"]))

    assert len(set(map(repr, answers))) == 1
    assert answers[0][0] == 400
    assert whole_table() == before
    assert unconfigured.get(invoice["id"])["status"] == "open"


# --- paying -----------------------------------------------------------------------------------


def test_the_sample_events_run_through_the_handler(
    shop: Shop, handler: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    invoice = shop.invoice()
    for name in (
        "payment_intent_payment_failed",
        "checkout_session_completed",
        "payment_intent_succeeded",
        "charge_refunded",
    ):
        sample = sample_event(name)
        body = sample["body"].replace("org_sample", shop.org).replace("inv_sample", invoice["id"]).encode()
        event = copy.deepcopy(sample) | {
            "path": f"/webhooks/stripe/{shop.org}",
            "pathParameters": {"org_id": shop.org},
            "body": body.decode(),
        }
        event["headers"]["Stripe-Signature"] = sign(body)

        response = handler(event)

        assert response["statusCode"] == 200, response["body"]
        assert json.loads(response["body"]) == {"received": True}
        if name == "payment_intent_succeeded":
            assert shop.billing.get(invoice["id"])["status"] == "paid"
            assert saved_card(shop.customer()) == ("cus_SampleStripeCustomer", "pm_1SampleCard", True)

    payments = shop.payments(invoice["id"])
    assert sorted((p["status"], p["method"], p["provider_payment_id"]) for p in payments) == [
        ("failed", "card", "pi_3SampleIntent"),
        ("refunded", "card", "pi_3SampleIntent"),
    ]
    assert shop.billing.get(invoice["id"])["status"] == "open"  # the refund reopened it


def test_a_card_payment_pays_the_invoice_and_owes_a_receipt(
    shop: Shop, handler: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    invoice = shop.invoice()
    body = stripe_event(
        "evt_paid",
        "payment_intent.succeeded",
        shop.org,
        invoice["id"],
        customer="cus_Stripe1",
        payment_method="pm_Card1",
    )
    base64_event = webhook_event(shop.org, body, sign(body))
    base64_event["body"] = base64.b64encode(body).decode()
    base64_event["isBase64Encoded"] = True

    response = handler(base64_event)

    assert response["statusCode"] == 200
    paid = shop.billing.get(invoice["id"])
    assert (paid["status"], paid["amount_paid"], paid["amount_due"]) == ("paid", INVOICE_TOTAL, 0)
    [payment] = shop.payments(invoice["id"])
    assert (payment["method"], payment["status"], payment["amount"]) == ("card", "succeeded", INVOICE_TOTAL)
    assert payment["provider_payment_id"] == "pi_1"
    [receipt] = shop.outbox()
    assert (receipt["kind"], receipt["payment_id"]) == ("payment_receipt", payment["id"])
    assert {"invoice.payment_recorded", "invoice.paid"} <= set(shop.events(invoice["id"]))
    assert saved_card(shop.customer()) == ("cus_Stripe1", "pm_Card1", True)


def test_a_partial_card_payment_leaves_the_invoice_open(shop: Shop) -> None:
    invoice = shop.invoice()

    shop.deliver(stripe_event("evt_part", "payment_intent.succeeded", shop.org, invoice["id"], amount=1000))

    partial = shop.billing.get(invoice["id"])
    assert (partial["status"], partial["amount_paid"], partial["amount_due"]) == ("open", 1000, 1380)
    assert "invoice.paid" not in shop.events(invoice["id"])


def test_a_card_overpayment_goes_to_the_credit_balance_with_a_ledger_entry(shop: Shop) -> None:
    invoice = shop.invoice()

    shop.deliver(stripe_event("evt_over", "payment_intent.succeeded", shop.org, invoice["id"], amount=3000))

    assert shop.billing.get(invoice["id"])["status"] == "paid"
    assert shop.billing.customer_balance() == 620
    ledger = shop.billing.api.get(
        f"{shop.billing.base}/customers/{shop.billing.customer}/balance_transactions"
    ).json()["data"]
    assert [(entry["type"], entry["amount"]) for entry in ledger] == [("overpayment", 620)]


def test_a_card_payment_on_a_void_invoice_goes_to_the_credit_balance(shop: Shop) -> None:
    invoice = shop.invoice()
    assert shop.billing.api.post(f"{shop.billing.invoice(invoice['id'])}/void").status == 200

    shop.deliver(stripe_event("evt_late", "payment_intent.succeeded", shop.org, invoice["id"]))

    assert shop.billing.get(invoice["id"])["status"] == "void"
    assert shop.billing.customer_balance() == INVOICE_TOTAL
    assert [p["status"] for p in shop.payments(invoice["id"])] == ["succeeded"]


# --- at most once -----------------------------------------------------------------------------


def test_the_same_event_delivered_twenty_times_concurrently_records_one_payment(served_aws: None) -> None:
    shop = Shop(new_account("Concurrent account"))
    invoice = shop.invoice()
    body = stripe_event("evt_dup", "payment_intent.succeeded", shop.org, invoice["id"])
    signature = sign(body)
    outcomes: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(20)

    def deliver() -> None:
        service = card_event_service()  # one per thread, as in separate Lambda environments
        start.wait()
        try:
            outcomes.append(service.handle(shop.org, body, signature))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=deliver) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(outcomes) == ["already_applied"] * 19 + ["applied"]
    assert len(shop.payments(invoice["id"])) == 1
    assert len(shop.outbox()) == 1
    assert shop.billing.get(invoice["id"])["amount_paid"] == INVOICE_TOTAL


def test_a_redelivered_event_is_answered_200_and_applied_once(
    shop: Shop, handler: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    invoice = shop.invoice()
    body = stripe_event("evt_again", "payment_intent.succeeded", shop.org, invoice["id"], amount=500)

    first = handler(webhook_event(shop.org, body, sign(body)))
    second = handler(webhook_event(shop.org, body, sign(body)))

    assert (first["statusCode"], second["statusCode"]) == (200, 200)
    assert shop.billing.get(invoice["id"])["amount_paid"] == 500
    assert len(shop.payments(invoice["id"])) == 1


# --- any order --------------------------------------------------------------------------------


def test_checkout_completed_and_payment_intent_succeeded_record_one_payment(shop: Shop) -> None:
    invoice = shop.invoice()

    outcomes = [
        shop.deliver(stripe_event("evt_cs", "checkout.session.completed", shop.org, invoice["id"])),
        shop.deliver(stripe_event("evt_pi", "payment_intent.succeeded", shop.org, invoice["id"])),
    ]

    assert outcomes == ["applied", "applied"]
    assert len(shop.payments(invoice["id"])) == 1
    assert len(shop.outbox()) == 1
    paid = shop.billing.get(invoice["id"])
    assert (paid["status"], paid["amount_paid"]) == ("paid", INVOICE_TOTAL)
    assert shop.billing.customer_balance() == 0


def test_a_success_after_a_failure_is_recorded_and_the_failure_kept(shop: Shop) -> None:
    invoice = shop.invoice()

    shop.deliver(stripe_event("evt_fail", "payment_intent.payment_failed", shop.org, invoice["id"]))
    assert shop.billing.get(invoice["id"])["status"] == "open"
    shop.deliver(stripe_event("evt_ok", "payment_intent.succeeded", shop.org, invoice["id"]))

    assert shop.billing.get(invoice["id"])["status"] == "paid"
    assert sorted(p["status"] for p in shop.payments(invoice["id"])) == ["failed", "succeeded"]
    assert "invoice.payment_failed" in shop.events(invoice["id"])


def test_a_failure_after_the_success_is_ignored(shop: Shop) -> None:
    invoice = shop.invoice()

    shop.deliver(stripe_event("evt_ok", "payment_intent.succeeded", shop.org, invoice["id"]))
    shop.deliver(stripe_event("evt_late_fail", "payment_intent.payment_failed", shop.org, invoice["id"]))

    assert shop.billing.get(invoice["id"])["status"] == "paid"
    assert [p["status"] for p in shop.payments(invoice["id"])] == ["succeeded"]


def test_a_refund_before_its_success_records_the_success_as_refunded(shop: Shop) -> None:
    invoice = shop.invoice()

    shop.deliver(stripe_event("evt_refund", "charge.refunded", shop.org, invoice["id"]))
    shop.deliver(stripe_event("evt_ok", "payment_intent.succeeded", shop.org, invoice["id"]))

    unchanged = shop.billing.get(invoice["id"])
    assert (unchanged["status"], unchanged["amount_paid"], unchanged["amount_due"]) == (
        "open",
        0,
        INVOICE_TOTAL,
    )
    [payment] = shop.payments(invoice["id"])
    assert (payment["status"], payment["amount"]) == ("refunded", INVOICE_TOTAL)
    assert shop.outbox() == []  # no receipt for money the customer got back
    assert shop.billing.customer_balance() == 0


def test_a_refund_reopens_a_paid_invoice(shop: Shop) -> None:
    invoice = shop.invoice()
    shop.deliver(stripe_event("evt_ok", "payment_intent.succeeded", shop.org, invoice["id"]))

    shop.deliver(stripe_event("evt_refund", "charge.refunded", shop.org, invoice["id"]))

    reopened = shop.billing.get(invoice["id"])
    assert (reopened["status"], reopened["amount_paid"], reopened["amount_due"]) == ("open", 0, INVOICE_TOTAL)
    assert [p["status"] for p in shop.payments(invoice["id"])] == ["refunded"]
    assert shop.events(invoice["id"])[-1] == "invoice.payment_refunded"


def test_partial_refunds_in_any_order_reopen_what_was_refunded_in_total(shop: Shop) -> None:
    invoice = shop.invoice()
    shop.deliver(stripe_event("evt_ok", "payment_intent.succeeded", shop.org, invoice["id"]))

    # Stripe's `amount_refunded` is the charge's running total: the later total arrives first.
    shop.deliver(stripe_event("evt_r2", "charge.refunded", shop.org, invoice["id"], amount=800))
    shop.deliver(stripe_event("evt_r1", "charge.refunded", shop.org, invoice["id"], amount=300))

    reopened = shop.billing.get(invoice["id"])
    assert (reopened["status"], reopened["amount_paid"], reopened["amount_due"]) == ("open", 1580, 800)
    payments = shop.payments(invoice["id"])
    assert [(p["status"], p["amount_refunded"]) for p in payments] == [("partially_refunded", 800)]


# --- isolation and secrets --------------------------------------------------------------------


def test_an_event_naming_another_organisations_invoice_is_ignored_and_logged(
    shop: Shop, other_api: ApiClient, captured_logs: io.StringIO
) -> None:
    victim = Billing(other_api)
    victims_invoice = victim.finalized()
    own_invoice = shop.invoice()
    before = whole_table()

    # Signed with the attacker's own secret, naming the other organisation (or its invoice).
    foreign = stripe_event("evt_foreign", "payment_intent.succeeded", victim.org, victims_invoice["id"])
    smuggled = stripe_event("evt_smuggled", "payment_intent.succeeded", shop.org, victims_invoice["id"])

    assert shop.deliver(foreign) == "ignored"
    assert shop.deliver(smuggled) == "ignored"

    assert whole_table() == before
    assert victim.get(victims_invoice["id"])["status"] == "open"
    assert shop.billing.get(own_invoice["id"])["status"] == "open"
    logged = [json.loads(line) for line in captured_logs.getvalue().splitlines()]
    ignored = [entry for entry in logged if entry["message"] == "Card event ignored"]
    assert {entry["provider_event_id"] for entry in ignored} == {"evt_foreign", "evt_smuggled"}


def test_secrets_never_appear_in_the_logs(
    shop: Shop, handler: Callable[[dict[str, Any]], dict[str, Any]], captured_logs: io.StringIO
) -> None:
    invoice = shop.invoice()
    body = stripe_event("evt_logged", "payment_intent.succeeded", shop.org, invoice["id"])
    forged = sign(body, secret="whsec_forged")

    responses = [
        handler(webhook_event(shop.org, body, sign(body))),
        handler(webhook_event(shop.org, body, sign(body))),
        handler(webhook_event(shop.org, body, forged)),
    ]

    assert [r["statusCode"] for r in responses] == [200, 200, 400]
    logs = captured_logs.getvalue()
    assert "Webhook received" in logs  # the capture works
    for secret in (WEBHOOK_SECRET, SECRET_KEY, forged, sign(body).split("v1=")[1]):
        assert secret not in logs
    for response in responses:
        assert WEBHOOK_SECRET not in response["body"]
        assert SECRET_KEY not in response["body"]


# --- the local stack --------------------------------------------------------------------------


def test_the_local_front_sends_stripe_webhooks_to_their_own_function(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    from local.api_gateway import ApiGateway
    from local.autosave import RequestGate
    from local.dev_routes import dev_routes
    from local.http_front import RequestRouter
    from local.http_messages import HttpRequest
    from local.lambda_runtime import LocalFunction
    from payment_webhooks import app

    monkeypatch.setattr(app, "card_event_service", card_event_service)
    api = LocalFunction("remit-api", "api.app.lambda_handler")
    webhooks = LocalFunction("remit-payment-webhooks", "payment_webhooks.app.lambda_handler")
    router = RequestRouter(
        ApiGateway(api, domain_name="127.0.0.1"),
        dev_routes(),
        RequestGate(),
        lambda: None,
        functions_by_prefix=[("/webhooks/stripe/", ApiGateway(webhooks, domain_name="127.0.0.1"))],
    )
    invoice = shop.invoice()
    body = stripe_event("evt_local", "payment_intent.succeeded", shop.org, invoice["id"])

    response = router.handle(
        HttpRequest(
            method="POST",
            path=f"/webhooks/stripe/{shop.org}",
            query="",
            headers=[("Content-Type", "application/json"), ("Stripe-Signature", sign(body))],
            body=body,
            source_ip="127.0.0.1",
        )
    )

    assert (response.status, json.loads(response.body)) == (200, {"received": True})
    assert shop.billing.get(invoice["id"])["status"] == "paid"

"""Card provider settings, the hosted page's checkout and "Attempt card", through the API function."""

from __future__ import annotations

import json
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.exceptions import ClientError
from pydantic import SecretStr

from local.sandbox_gateway import SandboxGateway, sign_payload
from remit.adapters.dynamodb import DynamoTable
from remit.adapters.items.event_data import decompress_data
from remit.adapters.stripe_gateway import verify_stripe_event
from remit.bootstrap import SystemClock
from remit.domain.card_payments import OffSessionCharge, ProviderCredentials
from tests.integration.api_client import ApiClient, ApiResponse
from tests.integration.billing import Billing
from tests.integration.billing_queue import run_cycle
from tests.integration.conftest import TABLES, reset_remit
from tests.integration.fake_stripe import FakeStripe

SECRET_KEY = "sk_test_acme_s3cr3t_0123456789"
WEBHOOK_SECRET = "whsec_acme_w3bh00k_0123456789"
STRIPE = {"provider": "stripe", "secret_key": SECRET_KEY, "webhook_secret": WEBHOOK_SECRET}
SECRETS_PREFIX = "remit/test/payment-providers"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(autouse=True)
def secrets_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMIT_SECRETS_PREFIX", SECRETS_PREFIX)


@pytest.fixture
def acme(api: ApiClient) -> Billing:
    return Billing(api)


def connect(billing: Billing, body: dict[str, Any] | None = None) -> ApiResponse:
    return billing.api.put(f"{billing.base}/payment_provider", json_body=body or STRIPE)


def stored_secret(org: str) -> dict[str, Any]:
    value = boto3.client("secretsmanager").get_secret_value(SecretId=f"{SECRETS_PREFIX}/{org}")
    return dict(json.loads(value["SecretString"]))


def table_contents() -> str:
    """Every item of the table as text, events' compressed data decompressed (a secret must not
    hide in it either)."""
    client = boto3.client("dynamodb")
    pages = client.get_paginator("scan").paginate(TableName=TABLES["BillingTable"])
    items = [item for page in pages for item in page["Items"]]

    def readable(value: Any) -> Any:
        if isinstance(value, bytes):
            try:
                return decompress_data(value)
            except ValueError:
                return value.decode("latin-1")  # bytes of another kind, as they are
        raise TypeError(f"{type(value).__name__} is not stored in the table")

    return json.dumps(items, default=readable)


def token_of(invoice: dict[str, Any]) -> str:
    return urlsplit(invoice["hosted_url"]).path.removeprefix("/i/")


def checkout(api: ApiClient, invoice: dict[str, Any]) -> ApiResponse:
    return api.post(f"/i/{token_of(invoice)}/checkout", raw_body="", headers=FORM, api_key=None)


# Provider settings


def test_connecting_stripe_keeps_the_keys_in_secrets_manager_and_turns_on_card_payments(
    acme: Billing, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    response = connect(acme)

    assert response.status == 200
    assert response.json()["payment_methods"]["card"] is True
    assert acme.api.get(acme.base).json()["payment_methods"]["card"] is True
    assert stored_secret(acme.org) == {**STRIPE}
    # Never in the table, never in an answer, never in the logs.
    every_answer = response.body.decode() + acme.api.get(acme.base).body.decode()
    logs = capsys.readouterr().out + caplog.text
    assert "Card provider connected" in logs  # the logs were captured
    for secret in (SECRET_KEY, WEBHOOK_SECRET):
        assert secret not in table_contents()
        assert secret not in every_answer
        assert secret not in logs


def test_refused_keys_are_not_echoed_or_logged(acme: Billing, capsys: pytest.CaptureFixture[str]) -> None:
    response = connect(acme, {**STRIPE, "secret_key": "pk_test_publishable_0123456789"})

    assert response.status == 422
    assert "pk_test_publishable_0123456789" not in response.body.decode()
    assert "pk_test_publishable_0123456789" not in capsys.readouterr().out


def test_connecting_again_replaces_the_keys(acme: Billing) -> None:
    connect(acme)

    response = connect(acme, {**STRIPE, "secret_key": "rk_test_restricted_0123456789"})

    assert response.status == 200
    assert stored_secret(acme.org)["secret_key"] == "rk_test_restricted_0123456789"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"provider": "stripe"}, ["secret_key", "webhook_secret"]),
        ({**STRIPE, "secret_key": "pk_live_0123456789abc"}, ["secret_key"]),
        ({**STRIPE, "webhook_secret": "sk_test_not_a_webhook_secret"}, ["webhook_secret"]),
        ({**STRIPE, "secret_key": "sk_1"}, ["secret_key"]),
        ({**STRIPE, "provider": "paypal"}, ["provider"]),
        ({"provider": "sandbox", "secret_key": SECRET_KEY}, ["secret_key"]),
        ({**STRIPE, "extra": 1}, ["extra"]),
    ],
)
def test_invalid_provider_settings_name_the_field(
    acme: Billing, body: dict[str, Any], fields: list[str]
) -> None:
    response = connect(acme, body)

    assert response.status == 422, response.body
    assert sorted(error["field"] for error in response.json()["errors"]) == fields
    assert acme.api.get(acme.base).json()["payment_methods"]["card"] is False


def test_the_sandbox_provider_connects_with_generated_secrets_in_the_test_stage(acme: Billing) -> None:
    response = connect(acme, {"provider": "sandbox"})

    assert response.status == 200
    assert response.json()["payment_methods"]["card"] is True
    secret = stored_secret(acme.org)
    assert secret["provider"] == "sandbox"
    assert secret["webhook_secret"].startswith("whsec_")
    assert secret["webhook_secret"] not in response.body.decode()


def test_the_sandbox_provider_is_refused_in_a_deployed_stage(
    monkeypatch: pytest.MonkeyPatch, acme: Billing
) -> None:
    monkeypatch.setenv("REMIT_STAGE", "prod")
    reset_remit()

    response = connect(acme, {"provider": "sandbox"})

    assert response.status == 422
    assert [error["field"] for error in response.json()["errors"]] == ["provider"]


def test_removing_the_provider_deletes_the_keys_and_turns_off_card_payments(acme: Billing) -> None:
    connect(acme)

    response = acme.api.delete(f"{acme.base}/payment_provider")

    assert response.status == 204
    assert acme.api.get(acme.base).json()["payment_methods"]["card"] is False
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        stored_secret(acme.org)
    assert acme.api.delete(f"{acme.base}/payment_provider").status == 204
    assert connect(acme).status == 200  # and it can be connected again at once


def test_another_account_cannot_connect_or_remove_the_provider(acme: Billing, other_api: ApiClient) -> None:
    connect(acme)

    put = other_api.put(f"{acme.base}/payment_provider", json_body=STRIPE)
    delete = other_api.delete(f"{acme.base}/payment_provider")

    assert (put.status, delete.status) == (404, 404)
    assert stored_secret(acme.org)["secret_key"] == SECRET_KEY
    assert acme.api.get(acme.base).json()["payment_methods"]["card"] is True


# Checkout from the hosted page


def test_pay_by_card_redirects_to_a_stripe_checkout_for_the_amount_due(
    stripe_api: FakeStripe, acme: Billing
) -> None:
    connect(acme)
    invoice = acme.finalized()
    acme.pay(invoice["id"], 1000)

    response = checkout(acme.api, invoice)

    assert response.status == 303
    assert response.headers["Location"] == "https://checkout.stripe.test/c/pay/cs_test_1"
    [sent] = stripe_api.to("/v1/checkout/sessions")
    assert sent.authorization == f"Bearer {SECRET_KEY}"
    assert sent.form["line_items[0][price_data][unit_amount]"] == str(invoice["amount_due"] - 1000)
    assert sent.form["line_items[0][price_data][currency]"] == "eur"
    assert sent.form["metadata[invoice_id]"] == invoice["id"]
    assert sent.form["payment_intent_data[metadata][organisation_id]"] == acme.org
    assert sent.form["success_url"] == f"{invoice['hosted_url']}?checkout=success"
    assert sent.form["cancel_url"] == f"{invoice['hosted_url']}?checkout=cancelled"
    assert sent.form["customer_email"] == "ap@globex.test"


def test_an_auto_pay_customer_keeps_the_card(stripe_api: FakeStripe, acme: Billing) -> None:
    connect(acme)
    acme.api.patch(f"{acme.base}/customers/{acme.customer}", {"auto_pay": True})
    invoice = acme.finalized()

    assert checkout(acme.api, invoice).status == 303

    [session] = stripe_api.to("/v1/checkout/sessions")
    assert session.form["payment_intent_data[setup_future_usage]"] == "off_session"
    assert session.form["customer"] == "cus_test_1"


def test_pay_by_card_is_refused_without_a_provider_or_anything_due(
    stripe_api: FakeStripe, acme: Billing
) -> None:
    invoice = acme.finalized()
    without_provider = checkout(acme.api, invoice)
    connect(acme)
    acme.pay(invoice["id"], invoice["amount_due"])
    once_paid = checkout(acme.api, invoice)
    unknown = acme.api.post("/i/" + "x" * 43 + "/checkout", raw_body="", headers=FORM, api_key=None)

    assert without_provider.status == 409
    assert without_provider.content_type.startswith("text/html")
    assert "does not accept card payments" in without_provider.body.decode()
    assert once_paid.status == 409
    assert "is paid" in once_paid.body.decode()
    assert unknown.status == 404
    assert stripe_api.requests == []


@pytest.mark.parametrize(
    ("outcome", "notice"),
    [
        ("success", "Thank you — your payment is being confirmed"),
        ("cancelled", "The card payment was cancelled"),
        ("declined", "Your card was declined."),
    ],
)
def test_the_hosted_page_tells_how_the_checkout_went(acme: Billing, outcome: str, notice: str) -> None:
    invoice = acme.finalized()

    page = acme.api.get(f"/i/{token_of(invoice)}?checkout={outcome}", api_key=None)

    assert page.status == 200
    assert notice in page.body.decode()


def test_the_hosted_pages_checkout_notice_is_in_the_customers_language(acme: Billing) -> None:
    acme.api.patch(f"{acme.base}/customers/{acme.customer}", {"preferred_locale": "de-DE"})
    invoice = acme.finalized()

    page = acme.api.get(f"/i/{token_of(invoice)}?checkout=declined", api_key=None)

    assert "Ihre Karte wurde abgelehnt." in page.body.decode()


# Attempt card (off-session)


def save_card(billing: Billing, payment_method: str = "pm_saved") -> None:
    boto3.client("dynamodb").update_item(
        TableName=TABLES["BillingTable"],
        Key={"PK": {"S": f"ORG#{billing.org}"}, "SK": {"S": f"CUSTOMER#{billing.customer}"}},
        UpdateExpression="SET card_on_file = :card",
        ExpressionAttributeValues={
            ":card": {
                "M": {"provider_customer_id": {"S": "cus_saved"}, "payment_method_id": {"S": payment_method}}
            }
        },
    )


def test_attempt_card_charges_the_saved_card_off_session(stripe_api: FakeStripe, acme: Billing) -> None:
    connect(acme)
    invoice = acme.finalized()
    save_card(acme)

    response = acme.api.post(f"{acme.invoice(invoice['id'])}/charge")

    assert response.status == 202
    assert (response.json()["id"], response.json()["status"]) == (invoice["id"], "open")
    [sent] = stripe_api.to("/v1/payment_intents")
    assert sent.idempotency_key == f"{invoice['id']}-{invoice['amount_due']}-1"
    assert sent.form["off_session"] == "true"
    assert sent.form["confirm"] == "true"
    assert (sent.form["customer"], sent.form["payment_method"]) == ("cus_saved", "pm_saved")
    assert sent.form["amount"] == str(invoice["amount_due"])
    assert sent.form["metadata[invoice_id]"] == invoice["id"]


def test_attempt_card_is_refused_without_a_saved_card_a_provider_or_an_open_invoice(
    stripe_api: FakeStripe, acme: Billing, other_api: ApiClient
) -> None:
    invoice = acme.finalized()
    charge = f"{acme.invoice(invoice['id'])}/charge"
    save_card(acme)
    without_provider = acme.api.post(charge)
    connect(acme)
    foreign = other_api.post(charge)
    acme.pay(invoice["id"], invoice["amount_due"])
    once_paid = acme.api.post(charge)
    other_invoice = acme.finalized()
    boto3.client("dynamodb").update_item(
        TableName=TABLES["BillingTable"],
        Key={"PK": {"S": f"ORG#{acme.org}"}, "SK": {"S": f"CUSTOMER#{acme.customer}"}},
        UpdateExpression="REMOVE card_on_file",
    )
    without_card = acme.api.post(f"{acme.invoice(other_invoice['id'])}/charge")

    assert without_provider.status == 409
    assert foreign.status == 404
    assert once_paid.status == 409
    assert without_card.status == 409
    assert "no saved card" in without_card.json()["detail"]
    assert stripe_api.to("/v1/payment_intents") == []


# The sandbox provider's off-session charge


def test_a_sandbox_off_session_charge_posts_one_signed_event_per_idempotency_key(aws: None) -> None:
    credentials = ProviderCredentials(
        provider="sandbox", secret_key=SecretStr("sk_sandbox_x"), webhook_secret=SecretStr(WEBHOOK_SECRET)
    )
    posted: list[tuple[str, dict[str, Any]]] = []
    delivered = threading.Event()

    def deliver(base_url: str, organisation_id: str, event: dict[str, Any], secret: str) -> int:
        payload = json.dumps(event).encode()
        verified = verify_stripe_event(credentials, payload, sign_payload(payload, secret, int(time.time())))
        posted.append((f"{base_url}/webhooks/stripe/{organisation_id}", event))
        assert verified is not None
        assert (verified.kind, verified.invoice_id, verified.amount) == ("failed", "inv_1", 500)
        delivered.set()
        return 200

    sandbox = SandboxGateway(
        DynamoTable(lambda: boto3.client("dynamodb"), TABLES["BillingTable"]),
        lambda: "http://127.0.0.1:3000",
        SystemClock(),
        deliver,
    )
    charge = OffSessionCharge(
        organisation_id="org_1",
        invoice_id="inv_1",
        amount=500,
        currency="EUR",
        provider_customer_id="cus_sandbox_1",
        payment_method_id="pm_sandbox_0002",
        idempotency_key="inv_1-500-1",
    )

    first = sandbox.charge_off_session(credentials, charge)
    assert delivered.wait(5)
    again = sandbox.charge_off_session(credentials, charge)
    time.sleep(0.5)

    assert first == again
    assert [(url, event["type"]) for url, event in posted] == [
        ("http://127.0.0.1:3000/webhooks/stripe/org_1", "payment_intent.payment_failed")
    ]


# Subscriptions collected automatically


def subscribe_charged_automatically(acme: Billing) -> None:
    body = {
        "customer_id": acme.customer,
        "line_items": [{"description": "Pro plan", "unit_amount": 4900}],
        "start_date": "2027-01-31",
        "collection": "charge_automatically",
    }
    subscription = acme.api.post(f"{acme.base}/subscriptions", body).json()
    assert acme.api.post(f"{acme.base}/subscriptions/{subscription['id']}/activate").status == 200


def test_the_cycle_charges_a_saved_card_instead_of_emailing_the_invoice(
    stripe_api: FakeStripe, acme: Billing
) -> None:
    connect(acme)
    save_card(acme)
    subscribe_charged_automatically(acme)

    run_cycle("2027-01-31")

    [invoice] = acme.api.get(f"{acme.base}/invoices").json()["data"]
    assert (invoice["status"], invoice["sent_at"]) == ("open", None)
    [sent] = stripe_api.to("/v1/payment_intents")
    assert sent.form["metadata[invoice_id]"] == invoice["id"]
    assert sent.form["off_session"] == "true"
    assert sent.idempotency_key == f"{invoice['id']}-{invoice['amount_due']}-1"


def test_without_a_saved_card_the_invoice_is_emailed(stripe_api: FakeStripe, acme: Billing) -> None:
    connect(acme)
    subscribe_charged_automatically(acme)

    run_cycle("2027-01-31")

    [invoice] = acme.api.get(f"{acme.base}/invoices").json()["data"]
    assert invoice["sent_at"] is not None
    assert stripe_api.to("/v1/payment_intents") == []


def test_the_sandbox_ships_with_the_local_stack_not_in_the_layer() -> None:
    import importlib.util

    assert importlib.util.find_spec("remit.adapters.sandbox_gateway") is None
    assert importlib.util.find_spec("local.sandbox_gateway") is not None

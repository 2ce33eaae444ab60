"""DynamoDB faults (throttling, transaction conflicts, timeouts before and after the write) injected
into each path that writes, through botocore's event hooks (`tests/integration/faults.py`).

Each path is driven as the platform drives it: the API answers at once (success after an internal
retry) or with a 5xx problem, and the client retries with the same `Idempotency-Key`. Then the end
state is checked: numbers gapless and unique, one payment per request, nothing lost.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import boto3
import pytest

from tests.integration.api_client import ApiClient, ApiResponse, LambdaContext
from tests.integration.billing import Billing
from tests.integration.faults import FAULTS, Calls, Fault, injected

RETRIES = 3


@pytest.fixture
def acme(api: ApiClient) -> Billing:
    return Billing(api, invoice_numbering={"prefix": "ACME-"})


def post_until_answered(api: ApiClient, path: str, body: Any, key: str, first: ApiResponse) -> ApiResponse:
    """The client's retries of a POST that answered a 5xx: the same body, the same Idempotency-Key."""
    response = first
    for _ in range(RETRIES):
        if response.status < 500:
            return response
        response = api.post(path, body, headers={"Idempotency-Key": key})
    return response


def assert_retryable_or_done(response: ApiResponse, done: int) -> None:
    """The first answer under a fault: done (after an internal retry), or a 503 the client retries."""
    if response.status == done:
        return
    assert response.status == 503, response.body
    problem = response.json()
    assert problem["type"].endswith("/service-unavailable")
    assert int(response.headers["Retry-After"]) >= 1


def numbers(acme: Billing) -> list[str]:
    invoices = acme.api.get(f"{acme.base}/invoices?limit=100").json()["data"]
    return sorted(invoice["number"] for invoice in invoices if invoice["number"])


# --- finalize ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", FAULTS)
def test_finalize_under_a_fault_ends_with_one_number_and_no_gap(acme: Billing, fault: Fault) -> None:
    # Given two drafts, the first finalized under a fault on its transaction
    first, second = acme.draft(), acme.draft()
    path, key = f"{acme.invoice(first['id'])}/finalize", str(uuid.uuid4())
    with injected(fault, Calls("TransactWriteItems")) as seen:
        response = acme.api.post(path, headers={"Idempotency-Key": key})
    assert seen["hit"] == 1

    # When the client retries as told, then finalizes the second draft
    assert_retryable_or_done(response, 200)
    answered = post_until_answered(acme.api, path, None, key, response)
    later = acme.api.post(f"{acme.invoice(second['id'])}/finalize")

    # Then the first has the first number, the second the next: no gap, no number twice
    assert answered.status == 200, answered.body
    assert answered.json()["number"] == "ACME-00001"
    assert later.json()["number"] == "ACME-00002"
    assert numbers(acme) == ["ACME-00001", "ACME-00002"]
    assert acme.api.get(acme.base).json()["invoice_numbering"]["next_number"] == 3


def test_finalizing_a_finalized_invoice_with_another_key_is_still_a_409(acme: Billing) -> None:
    draft = acme.draft()
    path = f"{acme.invoice(draft['id'])}/finalize"
    assert acme.api.post(path, headers={"Idempotency-Key": str(uuid.uuid4())}).status == 200

    again = acme.api.post(path, headers={"Idempotency-Key": str(uuid.uuid4())})

    assert again.status == 409


def test_finalize_answers_503_when_its_read_is_throttled(acme: Billing) -> None:
    draft = acme.draft()
    path = f"{acme.invoice(draft['id'])}/finalize"
    with injected("throttle", Calls("BatchGetItem", times=100)) as seen:
        response = acme.api.post(path)
    assert seen["hit"] >= 1
    assert_retryable_or_done(response, 200)
    assert acme.api.post(path).json()["number"] == "ACME-00001"


# --- record payment ---------------------------------------------------------------------------


@pytest.mark.parametrize("fault", FAULTS)
def test_a_payment_under_a_fault_is_recorded_once(acme: Billing, fault: Fault) -> None:
    # Given an open invoice of 2380, and a partial payment of 1000 recorded under a fault
    invoice = acme.finalized()
    path, key, body = (
        f"{acme.invoice(invoice['id'])}/payments",
        str(uuid.uuid4()),
        {
            "amount": 1000,
            "method": "bank_transfer",
        },
    )
    with injected(fault, Calls("TransactWriteItems")) as seen:
        response = acme.api.post(path, body, headers={"Idempotency-Key": key})
    assert seen["hit"] == 1

    # When the client retries as told
    assert_retryable_or_done(response, 201)
    answered = post_until_answered(acme.api, path, body, key, response)

    # Then one payment of 1000 is recorded, and the invoice shows it once
    assert answered.status == 201, answered.body
    payments = acme.api.get(f"{acme.base}/payments?invoice_id={invoice['id']}").json()["data"]
    assert [payment["amount"] for payment in payments] == [1000]
    assert answered.json()["id"] == payments[0]["id"]
    stored = acme.get(invoice["id"])
    assert stored["amount_paid"] == sum(payment["amount"] for payment in payments)
    assert stored["amount_due"] == invoice["amount_due"] - 1000


# --- the Stripe webhook -----------------------------------------------------------------------


def deliver_webhook(org: str, body: bytes) -> dict[str, Any]:
    """One delivery by Stripe (signed afresh, as each delivery is) to the webhook function."""
    from payment_webhooks import app
    from tests.integration.test_card_webhooks import sign, webhook_event

    event = webhook_event(org, body, sign(body))
    result: dict[str, Any] = app.lambda_handler(event, LambdaContext(aws_request_id="req-webhook"))
    return result


@pytest.mark.parametrize("fault", FAULTS)
def test_a_card_payment_event_under_a_fault_is_applied_once_after_redelivery(
    acme: Billing, fault: Fault, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.integration.conftest import reset_remit
    from tests.integration.test_card_webhooks import SECRETS_PREFIX, connect_stripe, stripe_event

    # Given an open invoice of an organisation with Stripe connected, and its payment's event
    monkeypatch.setenv("REMIT_SECRETS_PREFIX", SECRETS_PREFIX)
    reset_remit()
    connect_stripe(acme.org)
    invoice = acme.finalized()
    body = stripe_event("evt_paid", "payment_intent.succeeded", acme.org, invoice["id"], invoice["total"])

    # When it arrives under a fault on the transaction that applies it
    with injected(fault, Calls("TransactWriteItems")) as seen:
        first = deliver_webhook(acme.org, body)
    assert seen["hit"] == 1

    # Then it is applied (after an internal retry) or answered 503, and Stripe delivers it again
    assert first["statusCode"] in (200, 503), first
    if first["statusCode"] == 503:
        assert first["headers"]["Retry-After"]
    again = deliver_webhook(acme.org, body)
    assert again["statusCode"] == 200, again

    # ...and the invoice holds one payment: paid once, one receipt owed
    payments = acme.api.get(f"{acme.base}/payments?invoice_id={invoice['id']}").json()["data"]
    assert [(p["amount"], p["method"]) for p in payments] == [(invoice["total"], "card")]
    paid = acme.get(invoice["id"])
    assert (paid["status"], paid["amount_paid"]) == ("paid", invoice["total"])
    assert [m["kind"] for m in outbox_items(acme.org)].count("payment_receipt") == 1


def outbox_items(org: str) -> list[dict[str, Any]]:
    from remit.adapters.dynamodb import from_attributes

    response = boto3.client("dynamodb").query(
        TableName=os.environ["REMIT_BILLING_TABLE"],
        KeyConditionExpression="PK = :pk AND begins_with(SK, :outbox)",
        ExpressionAttributeValues={":pk": {"S": f"ORG#{org}"}, ":outbox": {"S": "OUTBOX#"}},
        ConsistentRead=True,
    )
    return [from_attributes(item) for item in response["Items"]]


def test_a_payment_in_full_whose_answer_was_lost_is_answered_again_on_retry(acme: Billing) -> None:
    # Given an open invoice paid in full by a request whose write landed but whose answer was lost
    invoice = acme.finalized()
    path, key = f"{acme.invoice(invoice['id'])}/payments", str(uuid.uuid4())
    body = {"amount": invoice["amount_due"], "method": "bank_transfer"}
    with injected("timeout_after", Calls("TransactWriteItems")):
        lost = acme.api.post(path, body, headers={"Idempotency-Key": key})
    assert lost.status == 503

    # When the client retries it: the same payment, not a 409 for a paid invoice
    retried = acme.api.post(path, body, headers={"Idempotency-Key": key})
    assert retried.status == 201, retried.body
    payments = acme.api.get(f"{acme.base}/payments?invoice_id={invoice['id']}").json()["data"]
    assert [p["id"] for p in payments] == [retried.json()["id"]]
    assert acme.get(invoice["id"])["status"] == "paid"
    # ...while another key is another request: refused, the invoice is paid
    other = acme.api.post(path, body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert other.status == 409

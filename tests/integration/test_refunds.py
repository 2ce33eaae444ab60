"""Card refunds asked by credit notes: sent to Stripe (a local fake of its API) after the commit,
keyed by the refund's id, sent again by the sweep after a failed call, confirmed or failed by the
provider's webhooks once each, and never counted a second time by `charge.refunded`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.api_client import ApiClient, LambdaContext
from tests.integration.conftest import SettableClock
from tests.integration.fake_stripe import FakeStripe
from tests.integration.test_card_webhooks import (
    Shop,
    items,
    sign,
    stripe_event,
)

INVOICE_TOTAL = 2380
EVENTS = Path(__file__).resolve().parents[2] / "events"


def scheduled_refund_sweep() -> Any:
    """The notifications function, invoked by its refund sweep's schedule (the sample event)."""
    from notifications import app

    event = json.loads((EVENTS / "notifications" / "refund_sweep.json").read_text())
    return app.lambda_handler(
        event, LambdaContext(aws_request_id="sweep", function_name="remit-notifications")
    )


class RefundingShop(Shop):
    """A shop whose webhooks reach the platform's own services (as the webhook function does)."""

    def deliver(self, body: bytes, signature: str | None = None) -> str:
        from remit.bootstrap import services

        return services().card_events.handle(self.org, body, signature or sign(body))

    def paid_by_card(self, intent: str = "pi_1") -> dict[str, Any]:
        invoice = self.invoice()
        assert (
            self.deliver(
                stripe_event(
                    f"evt_paid_{intent}", "payment_intent.succeeded", self.org, invoice["id"], intent=intent
                )
            )
            == "applied"
        )
        return invoice

    def credit(self, invoice_id: str, body: dict[str, Any]) -> Any:
        return self.billing.api.post(f"{self.billing.invoice(invoice_id)}/credit_notes", body)

    def refunds(self) -> list[dict[str, Any]]:
        return list(self.billing.api.get(f"{self.billing.base}/refunds").json()["data"])

    def refund_event(
        self, event_id: str, invoice_id: str, refund: dict[str, Any], status: str, **extra: Any
    ) -> bytes:
        import json

        subject = {
            "id": refund["provider_refund_id"] or "re_unknown",
            "object": "refund",
            "amount": refund["amount"],
            "currency": "eur",
            "payment_intent": "pi_1",
            "status": status,
            "metadata": {"organisation_id": self.org, "invoice_id": invoice_id, "refund_id": refund["id"]},
            **extra,
        }
        return json.dumps(
            {"id": event_id, "object": "event", "type": "refund.updated", "data": {"object": subject}}
        ).encode()


@pytest.fixture
def shop(api: ApiClient, stripe_api: FakeStripe) -> RefundingShop:
    return RefundingShop(api)


def test_a_card_refund_is_sent_to_stripe_keyed_by_the_refund_and_pending_until_confirmed(
    shop: RefundingShop, stripe_api: FakeStripe
) -> None:
    invoice = shop.paid_by_card()

    response = shop.credit(invoice["id"], {"amount": 1000, "refund_amount": 1000})

    assert response.status == 201, response.body
    (refund,) = shop.refunds()
    (sent,) = stripe_api.to("/v1/refunds")
    assert (refund["status"], refund["amount"], refund["method"]) == ("pending", 1000, "card")
    assert sent.idempotency_key == refund["id"]
    assert sent.form["payment_intent"] == "pi_1"
    assert sent.form["amount"] == "1000"
    assert sent.form["metadata[refund_id]"] == refund["id"]
    assert sent.form["metadata[invoice_id]"] == invoice["id"]
    assert refund["provider_refund_id"].startswith("re_test_")
    (payment,) = shop.payments(invoice["id"])
    assert (payment["status"], payment["amount_refunded"]) == ("partially_refunded", 1000)


def test_the_providers_webhook_confirms_a_refund_once(shop: RefundingShop) -> None:
    invoice = shop.paid_by_card()
    shop.credit(invoice["id"], {"amount": 1000, "refund_amount": 1000})
    (refund,) = shop.refunds()
    event = shop.refund_event("evt_refund_ok", invoice["id"], refund, "succeeded")

    outcomes = [shop.deliver(event), shop.deliver(event)]

    assert outcomes == ["applied", "already_applied"]
    (after,) = shop.refunds()
    assert after["status"] == "succeeded"
    assert shop.events(invoice["id"]).count("invoice.refund_succeeded") == 1


def test_a_failed_refund_gives_the_payment_back_and_credits_the_customer(shop: RefundingShop) -> None:
    invoice = shop.paid_by_card()
    shop.credit(invoice["id"], {"amount": 1000, "refund_amount": 1000})
    (refund,) = shop.refunds()

    outcome = shop.deliver(
        shop.refund_event(
            "evt_refund_failed", invoice["id"], refund, "failed", failure_reason="expired_or_canceled_card"
        )
    )

    assert outcome == "applied"
    (after,) = shop.refunds()
    assert (after["status"], after["failure_reason"]) == ("failed", "expired_or_canceled_card")
    (payment,) = shop.payments(invoice["id"])
    assert (payment["status"], payment["amount_refunded"]) == ("succeeded", 0)
    assert shop.billing.customer_balance() == 1000
    assert "invoice.refund_failed" in shop.events(invoice["id"])


@pytest.mark.parametrize("charge_refunded_first", [True, False])
def test_stripes_charge_refunded_does_not_count_remits_refund_a_second_time(
    shop: RefundingShop, charge_refunded_first: bool
) -> None:
    invoice = shop.paid_by_card()
    shop.credit(invoice["id"], {"amount": 1000, "refund_amount": 1000})
    (refund,) = shop.refunds()
    charge_refunded = stripe_event(
        "evt_charge_refunded", "charge.refunded", shop.org, invoice["id"], amount=1000
    )
    confirmed = shop.refund_event("evt_refund_ok", invoice["id"], refund, "succeeded")

    for event in [charge_refunded, confirmed] if charge_refunded_first else [confirmed, charge_refunded]:
        shop.deliver(event)

    after = shop.billing.get(invoice["id"])
    assert (after["status"], after["amount_paid"], after["amount_due"], after["credited_amount"]) == (
        "paid",
        INVOICE_TOTAL,
        0,
        1000,
    )
    (payment,) = shop.payments(invoice["id"])
    assert (payment["status"], payment["amount_refunded"]) == ("partially_refunded", 1000)
    assert shop.refunds()[0]["status"] == "succeeded"
    assert shop.billing.customer_balance() == 0


def test_a_refund_made_in_stripes_dashboard_beyond_remits_still_reopens_the_invoice(
    shop: RefundingShop,
) -> None:
    invoice = shop.paid_by_card()
    shop.credit(invoice["id"], {"amount": 1000, "refund_amount": 1000})

    # Stripe's total refunded: Remit's 1000 and 500 refunded by hand in Stripe's dashboard
    shop.deliver(stripe_event("evt_charge_refunded", "charge.refunded", shop.org, invoice["id"], amount=1500))

    after = shop.billing.get(invoice["id"])
    assert (after["status"], after["amount_paid"], after["amount_due"]) == ("open", INVOICE_TOTAL - 500, 500)


def test_a_crash_between_the_commit_and_the_provider_call_is_mended_by_the_sweep_sending_once(
    shop: RefundingShop, stripe_api: FakeStripe, clock: SettableClock
) -> None:
    from remit.bootstrap import services

    invoice = shop.paid_by_card()
    stripe_api.refunds_down = True
    response = shop.credit(invoice["id"], {"amount": 1000, "refund_amount": 1000})
    assert response.status == 201  # the credit note is issued; the refund waits
    (pending,) = shop.refunds()
    assert (pending["status"], pending["provider_refund_id"]) == ("pending", None)
    attempts_while_down = len(stripe_api.to("/v1/refunds"))
    stripe_api.refunds_down = False

    too_soon = services().refunds.sweep()
    clock.advance(minutes=5)
    swept = scheduled_refund_sweep()
    again = scheduled_refund_sweep()

    assert (too_soon, swept, again) == (0, {"refunds_sent": 1}, {"refunds_sent": 0})
    answered = stripe_api.to("/v1/refunds")[attempts_while_down:]
    assert [r.idempotency_key for r in answered] == [pending["id"]]
    (sent,) = shop.refunds()
    assert (sent["status"], sent["provider_refund_id"] is not None) == ("pending", True)


def test_an_offline_and_a_card_payment_are_refunded_each_their_own_way(shop: RefundingShop) -> None:
    invoice = shop.invoice()
    shop.billing.pay(invoice["id"], 1000)
    shop.deliver(stripe_event("evt_paid", "payment_intent.succeeded", shop.org, invoice["id"], amount=1380))

    response = shop.credit(invoice["id"], {"amount": 2000, "refund_amount": 2000})

    assert response.status == 201, response.body
    statuses = sorted((r["method"], r["amount"], r["status"]) for r in shop.refunds())
    assert statuses == [("bank_transfer", 620, "succeeded"), ("card", 1380, "pending")]
    assert not [item for item in items(shop.org, "REFUND#") if item["currency"] != "EUR"]


def test_the_refund_lists_and_the_sweep_read_only_what_their_indexes_project(
    shop: RefundingShop, stripe_api: FakeStripe, clock: SettableClock
) -> None:
    from remit.bootstrap import services
    from tests.integration.test_index_projections import checking_projections

    invoice = shop.paid_by_card()
    stripe_api.refunds_down = True
    shop.credit(invoice["id"], {"amount": 1000, "refund_amount": 1000})
    stripe_api.refunds_down = False
    (refund,) = shop.refunds()
    base = shop.billing.base

    with checking_projections() as check:
        clock.advance(minutes=5)
        assert services().refunds.sweep() == 1
        for path in (
            f"refunds?payment_id={refund['payment_id']}",
            f"refunds?invoice_id={invoice['id']}",
            f"credit_notes?invoice_id={invoice['id']}",
            f"credit_notes?customer_id={shop.billing.customer}",
            f"invoices/{invoice['id']}/credit_notes",
        ):
            response = shop.billing.api.get(f"{base}/{path}")
            assert response.status == 200, (path, response.body)
            assert response.json()["data"], path

    assert check.indexes_queried >= {"GSI1", "GSI2", "GSI3"}
    assert check.missing == []


def test_the_sandbox_provider_refunds_once_per_refund_and_confirms_by_a_signed_webhook(aws: None) -> None:
    import threading
    import time

    import boto3
    from pydantic import SecretStr

    from local.sandbox_gateway import SandboxGateway, sign_payload
    from remit.adapters.dynamodb import DynamoTable
    from remit.adapters.stripe_gateway import verify_stripe_event
    from remit.bootstrap import SystemClock
    from remit.domain.card_payments import CardRefundEvent, ProviderCredentials
    from remit.domain.refunds import ProviderRefundRequest
    from tests.integration.conftest import TABLES

    secret = "whsec_sandbox_0123456789"
    credentials = ProviderCredentials(
        provider="sandbox", secret_key=SecretStr("sk_sandbox_x"), webhook_secret=SecretStr(secret)
    )
    verified: list[Any] = []
    delivered = threading.Event()

    def deliver(base_url: str, organisation_id: str, event: dict[str, Any], webhook_secret: str) -> int:
        payload = json.dumps(event).encode()
        verified.append(
            verify_stripe_event(credentials, payload, sign_payload(payload, webhook_secret, int(time.time())))
        )
        delivered.set()
        return 200

    sandbox = SandboxGateway(
        DynamoTable(lambda: boto3.client("dynamodb"), TABLES["BillingTable"]),
        lambda: "http://127.0.0.1:3000",
        SystemClock(),
        deliver,
    )
    request = ProviderRefundRequest(
        organisation_id="org_1",
        invoice_id="inv_1",
        refund_id="re_1",
        payment_intent_id="pi_sandbox_1",
        amount=700,
        currency="EUR",
    )

    first = sandbox.refund(credentials, request)
    assert delivered.wait(5)
    again = sandbox.refund(credentials, request)
    time.sleep(0.5)

    assert (first.id, first.status) == (again.id, "pending")
    (event,) = verified
    assert isinstance(event, CardRefundEvent)
    assert (event.refund_id, event.provider_refund_id, event.refund_status, event.amount) == (
        "re_1",
        first.id,
        "succeeded",
        700,
    )


# --- payment events -----------------------------------------------------------------------------


def payment_events(shop: RefundingShop, payment_id: str) -> list[dict[str, Any]]:
    response = shop.billing.api.get(f"{shop.billing.base}/events?object_id={payment_id}&limit=100")
    assert response.status == 200, response.body
    return list(response.json()["data"])


def test_a_card_refund_writes_payment_updated_then_payment_refunded_with_growing_sequences(
    shop: RefundingShop,
) -> None:
    # Given a card payment refunded by a credit note, then confirmed by the provider
    invoice = shop.paid_by_card()
    shop.credit(invoice["id"], {"amount": 1000, "refund_amount": 1000})
    (refund,) = shop.refunds()
    shop.deliver(shop.refund_event("evt_refund_ok", invoice["id"], refund, "succeeded"))

    # Then the payment's events say: paid, refund under way, refunded; each carries it as answered
    (payment,) = shop.payments(invoice["id"])
    events = payment_events(shop, payment["id"])
    assert [(e["type"], e["object"]["sequence"]) for e in events] == [
        ("payment.succeeded", 1),
        ("payment.updated", 2),
        ("payment.refunded", 3),
    ]
    assert events[1]["data"]["amount_refunded"] == 1000
    assert events[-1]["data"] == payment
    assert "version" not in payment


def test_a_failed_refund_gives_the_payment_back_in_a_payment_updated_event(shop: RefundingShop) -> None:
    invoice = shop.paid_by_card()
    shop.credit(invoice["id"], {"amount": 1000, "refund_amount": 1000})
    (refund,) = shop.refunds()

    shop.deliver(shop.refund_event("evt_refund_failed", invoice["id"], refund, "failed"))

    (payment,) = shop.payments(invoice["id"])
    events = payment_events(shop, payment["id"])
    assert [(e["type"], e["object"]["sequence"]) for e in events] == [
        ("payment.succeeded", 1),
        ("payment.updated", 2),
        ("payment.updated", 3),
    ]
    assert events[-1]["data"] == payment
    assert payment["amount_refunded"] == 0


def test_a_refund_made_at_the_provider_writes_payment_refunded_once(shop: RefundingShop) -> None:
    # Given a card payment refunded in Stripe's dashboard, the event delivered twice
    invoice = shop.paid_by_card()
    refunded = stripe_event("evt_charge_refunded", "charge.refunded", shop.org, invoice["id"], amount=500)
    shop.deliver(refunded)
    shop.deliver(refunded)

    (payment,) = shop.payments(invoice["id"])
    events = payment_events(shop, payment["id"])
    assert [(e["type"], e["object"]["sequence"]) for e in events] == [
        ("payment.succeeded", 1),
        ("payment.refunded", 2),
    ]
    assert (payment["status"], payment["amount_refunded"]) == ("partially_refunded", 500)
    assert events[-1]["data"] == payment


def test_a_failed_card_payment_writes_payment_failed(shop: RefundingShop) -> None:
    invoice = shop.invoice()

    shop.deliver(stripe_event("evt_fail", "payment_intent.payment_failed", shop.org, invoice["id"]))

    (payment,) = shop.payments(invoice["id"])
    (event,) = payment_events(shop, payment["id"])
    assert (event["type"], event["object"]["sequence"]) == ("payment.failed", 1)
    assert event["data"] == payment
    assert payment["status"] == "failed"


def test_an_offline_refund_is_payment_refunded_at_once(shop: RefundingShop) -> None:
    invoice = shop.invoice()
    paid = shop.billing.pay(invoice["id"], INVOICE_TOTAL)
    assert paid.status == 201, paid.body

    response = shop.credit(invoice["id"], {"amount": 1000, "refund_amount": 1000})

    assert response.status == 201, response.body
    (payment,) = shop.payments(invoice["id"])
    events = payment_events(shop, payment["id"])
    assert [(e["type"], e["object"]["sequence"]) for e in events] == [
        ("payment.succeeded", 1),
        ("payment.refunded", 2),
    ]
    assert events[-1]["data"] == payment

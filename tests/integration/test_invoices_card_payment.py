"""Paying several invoices with one card payment: one checkout for the sum due (Stripe against the
fake, and the sandbox), applied by its webhook to each invoice exactly once, in any order of the
provider's events, the excess credited in the invoices' currency; refusals change nothing."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import boto3
import pytest

from local.sandbox_gateway import SUCCEEDING_CARD, SandboxGateway, checkout_events, sign_payload
from remit.adapters.dynamodb import DynamoTable
from remit.bootstrap import SystemClock, services
from remit.domain.errors import Conflict, InvalidInput, NotFound
from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.conftest import TABLES
from tests.integration.fake_stripe import FakeStripe

WEBHOOK_SECRET = "whsec_acme_w3bh00k_0123456789"
STRIPE = {
    "provider": "stripe",
    "secret_key": "sk_test_acme_s3cr3t_0123456789",
    "webhook_secret": WEBHOOK_SECRET,
}
SUCCESS, CANCEL = "https://acme.test/portal?paid=1", "https://acme.test/portal"
TOTAL = 2380  # one invoice: 2 x 1000 + 19 % tax


@pytest.fixture(autouse=True)
def secrets_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMIT_SECRETS_PREFIX", "remit/test/payment-providers")


@pytest.fixture
def acme(api: ApiClient, stripe_api: FakeStripe) -> Billing:
    billing = Billing(api)
    assert billing.api.put(f"{billing.base}/payment_provider", json_body=STRIPE).status == 200
    return billing


def pay_together(billing: Billing, invoice_ids: list[str], customer: str | None = None) -> str:
    return (
        services()
        .card_payments.start_checkout_for_invoices(
            billing.org, customer or billing.customer, invoice_ids, success_url=SUCCESS, cancel_url=CANCEL
        )
        .url
    )


def paid_event(event_id: str, kind: str, org: str, invoice_ids: list[str], amount: int) -> bytes:
    metadata = {"organisation_id": org, "customer_id": "cus_x", "invoice_ids": ",".join(invoice_ids)}
    if kind == "checkout.session.completed":
        subject: dict[str, Any] = {
            "id": "cs_1",
            "mode": "payment",
            "payment_status": "paid",
            "payment_intent": "pi_many",
            "amount_total": amount,
        }
    else:
        subject = {"id": "pi_many", "amount": amount, "amount_received": amount}
    subject.update({"currency": "eur", "metadata": metadata})
    return json.dumps({"id": event_id, "type": kind, "data": {"object": subject}}).encode()


def deliver(org: str, body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return services().card_events.handle(org, body, sign_payload(body, secret, int(time.time())))


def payments(billing: Billing, invoice_id: str) -> list[dict[str, Any]]:
    return list(billing.api.get(f"{billing.base}/payments?invoice_id={invoice_id}").json()["data"])


def payment_events(billing: Billing) -> list[str]:
    events = billing.api.get(f"{billing.base}/events?limit=100").json()["data"]
    return sorted(e["data"]["invoice_id"] for e in events if e["type"] == "payment.succeeded")


def test_one_checkout_asks_for_the_sum_due_and_names_every_invoice(
    stripe_api: FakeStripe, acme: Billing
) -> None:
    first, second = acme.finalized(), acme.finalized(unit_amount=500)

    url = pay_together(acme, [first["id"], second["id"]])

    [session] = stripe_api.to("/v1/checkout/sessions")
    assert url.startswith("https://checkout.stripe.test/")
    assert session.form["line_items[0][price_data][unit_amount]"] == str(
        first["amount_due"] + second["amount_due"]
    )
    assert session.form["metadata[invoice_ids]"] == f"{first['id']},{second['id']}"
    assert session.form["payment_intent_data[metadata][invoice_ids]"] == f"{first['id']},{second['id']}"
    assert session.form["success_url"] == SUCCESS


@pytest.mark.parametrize(
    "order",
    [
        ("checkout.session.completed", "payment_intent.succeeded"),
        ("payment_intent.succeeded", "checkout.session.completed"),
    ],
)
def test_the_payment_pays_each_invoice_once_whatever_the_order_and_duplicates(
    acme: Billing, order: tuple[str, str]
) -> None:
    first, second = acme.finalized(), acme.finalized()
    ids = [first["id"], second["id"]]
    one, other = (paid_event(f"evt_{n}", kind, acme.org, ids, 2 * TOTAL) for n, kind in enumerate(order))

    outcomes = [deliver(acme.org, one), deliver(acme.org, other), deliver(acme.org, one)]

    assert outcomes == ["applied", "applied", "already_applied"]
    for invoice in (first, second):
        assert acme.get(invoice["id"])["status"] == "paid"
        [payment] = payments(acme, invoice["id"])
        assert (payment["amount"], payment["method"], payment["provider_payment_id"]) == (
            TOTAL,
            "card",
            "pi_many",
        )
    assert payment_events(acme) == sorted(ids)
    assert acme.customer_balance() == 0


def test_what_is_paid_beyond_the_invoices_goes_to_the_credit_balance(acme: Billing) -> None:
    first, second = acme.finalized(), acme.finalized()
    acme.pay(second["id"], 1000)  # paid in part since the checkout began

    deliver(
        acme.org,
        paid_event("evt_1", "payment_intent.succeeded", acme.org, [first["id"], second["id"]], 2 * TOTAL),
    )

    assert [p["amount"] for p in payments(acme, second["id"]) if p["method"] == "card"] == [TOTAL - 1000]
    assert acme.customer_balance() == 1000


def test_an_event_naming_invoices_of_two_customers_is_ignored(acme: Billing) -> None:
    first = acme.finalized()
    other = acme.finalized(customer_id=acme.new_customer())

    outcome = deliver(
        acme.org,
        paid_event("evt_1", "payment_intent.succeeded", acme.org, [first["id"], other["id"]], 2 * TOTAL),
    )

    assert outcome == "ignored"
    assert payments(acme, first["id"]) == []
    assert payments(acme, other["id"]) == []


def refunded_event(event_id: str, org: str, invoice_ids: list[str], total_refunded: int) -> bytes:
    """Stripe's `charge.refunded` for the payment of `invoice_ids`: the total refunded so far."""
    metadata = {"organisation_id": org, "customer_id": "cus_x", "invoice_ids": ",".join(invoice_ids)}
    charge = {
        "id": "ch_many",
        "payment_intent": "pi_many",
        "amount_refunded": total_refunded,
        "currency": "eur",
        "metadata": metadata,
    }
    return json.dumps({"id": event_id, "type": "charge.refunded", "data": {"object": charge}}).encode()


def card_payment(billing: Billing, invoice_id: str) -> dict[str, Any]:
    [payment] = [p for p in payments(billing, invoice_id) if p["method"] == "card"]
    return payment


def test_a_refund_in_the_providers_dashboard_takes_the_credit_back_then_reopens_the_last_invoice_paid(
    acme: Billing,
) -> None:
    # Given one card payment of two invoices that paid 500 more than they owed (credited)
    first, second = acme.finalized(), acme.finalized()
    ids = [first["id"], second["id"]]
    deliver(acme.org, paid_event("evt_paid", "payment_intent.succeeded", acme.org, ids, 2 * TOTAL + 500))
    assert acme.customer_balance() == 500

    # When the organisation refunds 800 of it in Stripe's dashboard, then 300 more (the event says
    # the total so far), and the first refund's event comes again
    outcomes = [
        deliver(acme.org, refunded_event("evt_r1", acme.org, ids, 800)),
        deliver(acme.org, refunded_event("evt_r2", acme.org, ids, 1100)),
        deliver(acme.org, refunded_event("evt_r1", acme.org, ids, 800)),
        deliver(acme.org, refunded_event("evt_r3", acme.org, ids, 800)),  # an older total, late
    ]

    # Then the credit goes first (500), the second invoice's payment gives back the rest (600): it
    # owes that again, and the first invoice stays paid
    assert outcomes == ["applied", "applied", "already_applied", "applied"]
    assert acme.customer_balance() == 0
    assert acme.get(first["id"])["status"] == "paid"
    reopened = acme.get(second["id"])
    assert (reopened["status"], reopened["amount_due"], reopened["amount_paid"]) == ("open", 600, TOTAL - 600)
    assert card_payment(acme, second["id"])["amount_refunded"] == 600
    assert card_payment(acme, second["id"])["status"] == "partially_refunded"
    assert card_payment(acme, first["id"])["status"] == "succeeded"
    events = acme.api.get(f"{acme.base}/events?type=payment.refunded").json()["data"]
    assert [e["data"]["amount_refunded"] for e in events] == [300, 600]


def test_a_refund_of_the_whole_payment_reopens_every_invoice_it_paid(acme: Billing) -> None:
    first, second = acme.finalized(), acme.finalized()
    ids = [first["id"], second["id"]]
    deliver(acme.org, paid_event("evt_paid", "payment_intent.succeeded", acme.org, ids, 2 * TOTAL))

    outcome = deliver(acme.org, refunded_event("evt_r", acme.org, ids, 2 * TOTAL))

    assert outcome == "applied"
    for invoice in (first, second):
        assert (acme.get(invoice["id"])["status"], acme.get(invoice["id"])["amount_due"]) == ("open", TOTAL)
        assert card_payment(acme, invoice["id"])["status"] == "refunded"
    assert acme.customer_balance() == 0


def test_a_refund_reported_before_the_success_is_not_paid_onto_the_invoices(acme: Billing) -> None:
    first, second = acme.finalized(), acme.finalized()
    ids = [first["id"], second["id"]]

    deliver(acme.org, refunded_event("evt_r", acme.org, ids, TOTAL))
    deliver(acme.org, paid_event("evt_paid", "payment_intent.succeeded", acme.org, ids, 2 * TOTAL))

    assert acme.get(first["id"])["status"] == "paid"
    assert (acme.get(second["id"])["status"], acme.get(second["id"])["amount_due"]) == ("open", TOTAL)
    assert payments(acme, second["id"]) == []
    assert acme.customer_balance() == 0


def test_a_refund_remit_made_by_a_credit_note_is_not_counted_again_by_the_providers_total(
    acme: Billing, stripe_api: FakeStripe
) -> None:
    # Given a payment of two invoices, and a credit note refunding 1000 of the second one's payment
    first, second = acme.finalized(), acme.finalized()
    ids = [first["id"], second["id"]]
    deliver(acme.org, paid_event("evt_paid", "payment_intent.succeeded", acme.org, ids, 2 * TOTAL))
    credited = acme.api.post(
        f"{acme.invoice(second['id'])}/credit_notes", {"amount": 1000, "refund_amount": 1000}
    )
    assert credited.status == 201, credited.body
    [sent] = stripe_api.to("/v1/refunds")
    assert sent.form["payment_intent"] == "pi_many"
    after_credit_note = acme.get(second["id"])

    # When Stripe reports the total refunded: first that refund alone, then 500 more from its dashboard
    deliver(acme.org, refunded_event("evt_r1", acme.org, ids, 1000))
    unchanged = acme.get(second["id"])
    deliver(acme.org, refunded_event("evt_r2", acme.org, ids, 1500))

    # Then only the dashboard's 500 moves anything: the second invoice owes it again
    assert unchanged == after_credit_note
    assert card_payment(acme, second["id"])["amount_refunded"] == 1500
    assert acme.get(second["id"])["amount_due"] == after_credit_note["amount_due"] + 500
    assert card_payment(acme, first["id"])["amount_refunded"] == 0


def test_a_refund_naming_other_invoices_than_its_payment_changes_nothing(acme: Billing) -> None:
    first, second, third = acme.finalized(), acme.finalized(), acme.finalized()
    deliver(
        acme.org,
        paid_event("evt_paid", "payment_intent.succeeded", acme.org, [first["id"], second["id"]], 2 * TOTAL),
    )

    outcome = deliver(acme.org, refunded_event("evt_r", acme.org, [third["id"], second["id"]], TOTAL))

    assert outcome == "ignored"
    assert [acme.get(i["id"])["status"] for i in (first, second, third)] == ["paid", "paid", "open"]
    assert card_payment(acme, second["id"])["amount_refunded"] == 0


def refused(billing: Billing, invoice_ids: list[str], customer: str | None = None) -> InvalidInput:
    with pytest.raises(InvalidInput) as raised:
        pay_together(billing, invoice_ids, customer)
    return raised.value


def test_invoices_in_two_currencies_another_customers_or_not_open_are_refused_naming_invoice_ids(
    stripe_api: FakeStripe, acme: Billing, other_api: ApiClient
) -> None:
    euros = acme.finalized()
    # The customer moved to dollars after its euro invoice was issued.
    assert acme.api.patch(f"{acme.base}/customers/{acme.customer}", {"currency": "USD"}).status == 200
    dollars = acme.finalized()
    someone_elses = acme.finalized(customer_id=acme.new_customer())
    draft = acme.draft()
    foreign = Billing(other_api).finalized()

    refusals = [
        refused(acme, [euros["id"], dollars["id"]]),
        refused(acme, [euros["id"], someone_elses["id"]]),
        refused(acme, [euros["id"], draft["id"]]),
        refused(acme, [euros["id"], foreign["id"]]),
        refused(acme, [euros["id"], euros["id"]]),
        refused(acme, []),
        refused(acme, ["x" * 5000]),
    ]

    assert {problem.field for error in refusals for problem in error.problems} == {"invoice_ids"}
    assert "EUR, USD" in str(refusals[0].problems[0].message)
    assert stripe_api.to("/v1/checkout/sessions") == []


def test_an_unknown_customer_is_not_found_and_no_provider_is_a_conflict(
    acme: Billing, api: ApiClient
) -> None:
    invoice = acme.finalized()
    unconnected = Billing(api)

    with pytest.raises(NotFound):
        pay_together(acme, [invoice["id"]], customer="cus_unknown")
    with pytest.raises(Conflict):
        pay_together(unconnected, [unconnected.finalized()["id"]])


# --- the sandbox ---------------------------------------------------------------------------------


def test_the_sandbox_pays_several_invoices_by_its_signed_webhook(sandbox: Billing) -> None:
    first, second = sandbox.finalized(), sandbox.finalized(unit_amount=500)
    url = pay_together(sandbox, [first["id"], second["id"]])
    gateway = SandboxGateway(
        DynamoTable(lambda: boto3.client("dynamodb"), TABLES["BillingTable"]), lambda: "", SystemClock()
    )
    session = gateway.session(url.rsplit("/", 1)[1])
    assert session is not None
    credentials = services().card_payments.credentials(sandbox.org)
    assert credentials is not None

    outcomes = [
        deliver(sandbox.org, json.dumps(event).encode(), credentials.webhook_secret.get_secret_value())
        for event in checkout_events(session, SUCCEEDING_CARD)
    ]

    assert outcomes == ["applied", "applied"]
    assert [sandbox.get(i["id"])["status"] for i in (first, second)] == ["paid", "paid"]
    assert [len(payments(sandbox, i["id"])) for i in (first, second)] == [1, 1]


def test_the_checkout_and_intent_events_of_one_payment_delivered_concurrently_pay_each_invoice_once(
    served_aws: None,
) -> None:
    from tests.integration.conftest import new_account
    from tests.integration.test_card_webhooks import Shop, card_event_service, sign

    shop = Shop(new_account("Concurrent account"))
    ids = [shop.invoice()["id"], shop.invoice()["id"]]
    kinds = ("checkout.session.completed", "payment_intent.succeeded")
    bodies = [paid_event(f"evt_{n % 2}", kinds[n % 2], shop.org, ids, 2 * TOTAL) for n in range(8)]
    outcomes: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(bodies))

    def deliver(body: bytes) -> None:
        service = card_event_service()  # one per thread, as in separate Lambda environments
        start.wait()
        try:
            outcomes.append(service.handle(shop.org, body, sign(body)))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=deliver, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(outcomes) == ["already_applied"] * 6 + ["applied"] * 2
    assert [len(shop.payments(invoice_id)) for invoice_id in ids] == [1, 1]
    assert [shop.billing.get(invoice_id)["status"] for invoice_id in ids] == ["paid", "paid"]

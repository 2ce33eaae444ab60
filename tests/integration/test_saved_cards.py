"""Saved cards: set up at the provider (Stripe against the fake, and the sandbox), saved by its
verified webhook exactly once, listed, made default and removed through the API; auto-pay charges
the default card."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest

from local.sandbox_gateway import DECLINED_CARD, SUCCEEDING_CARD, SandboxGateway, setup_events, sign_payload
from remit.adapters.dynamodb import DynamoTable
from remit.bootstrap import SystemClock, services
from remit.domain.errors import InvalidInput, InvalidSignature, NotFound
from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.conftest import TABLES
from tests.integration.fake_stripe import FakeStripe

SECRET_KEY = "sk_test_acme_s3cr3t_0123456789"
WEBHOOK_SECRET = "whsec_acme_w3bh00k_0123456789"
STRIPE = {"provider": "stripe", "secret_key": SECRET_KEY, "webhook_secret": WEBHOOK_SECRET}
RETURN_URL = "https://acme.test/portal/cards"


@pytest.fixture(autouse=True)
def secrets_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMIT_SECRETS_PREFIX", "remit/test/payment-providers")


@pytest.fixture
def acme(api: ApiClient, stripe_api: FakeStripe) -> Billing:
    billing = Billing(api)
    assert billing.api.put(f"{billing.base}/payment_provider", json_body=STRIPE).status == 200
    return billing


def setup_succeeded(event_id: str, org: str, customer: str, payment_method: str, **extra: Any) -> bytes:
    subject = {
        "id": f"seti_{event_id}",
        "object": "setup_intent",
        "customer": "cus_stripe_1",
        "payment_method": payment_method,
        "status": "succeeded",
        "metadata": {"organisation_id": org, "customer_id": customer},
        **extra,
    }
    event = {"id": event_id, "object": "event", "type": "setup_intent.succeeded", "data": {"object": subject}}
    return json.dumps(event).encode()


def deliver(org: str, body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return services().card_events.handle(org, body, sign_payload(body, secret, int(time.time())))


def cards(billing: Billing, customer: str | None = None) -> list[dict[str, Any]]:
    response = billing.api.get(f"{billing.base}/customers/{customer or billing.customer}/cards")
    assert response.status == 200, response.body
    return list(response.json()["data"])


def customer_updates(billing: Billing) -> int:
    events = billing.api.get(f"{billing.base}/events?type=customer.updated").json()["data"]
    return sum(1 for event in events if event["type"] == "customer.updated")


def save(billing: Billing, payment_method: str, event_id: str | None = None) -> dict[str, Any]:
    body = setup_succeeded(event_id or f"evt_{payment_method}", billing.org, billing.customer, payment_method)
    assert deliver(billing.org, body) == "applied"
    return next(card for card in cards(billing) if card["last4"] == payment_method[-4:])


# --- Stripe: the setup page and its webhook -----------------------------------------------------


def test_a_stripe_card_setup_is_a_setup_mode_checkout_for_the_customer(
    stripe_api: FakeStripe, acme: Billing
) -> None:
    url = services().saved_cards.start_card_setup(acme.org, acme.customer, return_url=RETURN_URL)

    [created_customer] = stripe_api.to("/v1/customers")
    [session] = stripe_api.to("/v1/checkout/sessions")
    assert url.startswith("https://checkout.stripe.test/")
    assert session.form["mode"] == "setup"
    assert session.form["customer"].startswith("cus_test_")
    assert session.form["setup_intent_data[metadata][customer_id]"] == acme.customer
    assert session.form["metadata[organisation_id]"] == acme.org
    assert session.form["success_url"] == RETURN_URL
    assert created_customer.authorization == f"Bearer {SECRET_KEY}"


def test_a_setup_that_succeeds_saves_the_card_once_with_its_details_and_an_event(acme: Billing) -> None:
    before = customer_updates(acme)
    body = setup_succeeded("evt_setup_1", acme.org, acme.customer, "pm_card_4444")

    outcomes = [deliver(acme.org, body), deliver(acme.org, body)]

    assert outcomes == ["applied", "already_applied"]
    [card] = cards(acme)
    assert card["id"].startswith("card_")
    assert (card["brand"], card["last4"], card["exp_month"], card["exp_year"]) == ("visa", "4444", 8, 2031)
    assert card["default"] is True
    assert "payment_method_id" not in card
    assert "provider_customer_id" not in card
    assert customer_updates(acme) == before + 1


def test_a_second_event_for_the_same_card_saves_it_once(acme: Billing) -> None:
    save(acme, "pm_card_4444", "evt_a")

    again = deliver(acme.org, setup_succeeded("evt_b", acme.org, acme.customer, "pm_card_4444"))
    completed = {
        "id": "evt_c",
        "type": "checkout.session.completed",
        "data": {"object": {"id": "cs_1", "mode": "setup", "status": "complete", "setup_intent": "seti_x"}},
    }

    assert again == "applied"
    assert deliver(acme.org, json.dumps(completed).encode()) == "ignored"
    assert len(cards(acme)) == 1


def test_a_setup_naming_another_organisations_customer_saves_nothing(
    acme: Billing, other_api: ApiClient
) -> None:
    other = Billing(other_api)

    outcome = deliver(acme.org, setup_succeeded("evt_x", acme.org, other.customer, "pm_card_4444"))

    assert outcome == "ignored"
    assert cards(other) == []
    assert cards(acme) == []


def test_a_badly_signed_setup_saves_nothing(acme: Billing) -> None:
    body = setup_succeeded("evt_forged", acme.org, acme.customer, "pm_card_4444")

    with pytest.raises(InvalidSignature):
        deliver(acme.org, body, secret="whsec_not_the_organisations")

    assert cards(acme) == []


def test_a_setup_return_url_that_is_not_a_web_address_is_refused(acme: Billing) -> None:
    with pytest.raises(InvalidInput) as refused:
        services().saved_cards.start_card_setup(acme.org, acme.customer, return_url="javascript:alert(1)")

    assert refused.value.problems[0].field == "return_url"


# --- several cards, one default ----------------------------------------------------------------


def test_the_first_card_is_the_default_and_a_later_one_is_made_default_through_the_api(
    acme: Billing,
) -> None:
    first = save(acme, "pm_card_1111")
    second = save(acme, "pm_card_2222")
    assert (first["default"], second["default"]) == (True, False)

    response = acme.api.post(f"{acme.base}/customers/{acme.customer}/cards/{second['id']}/default")

    assert response.status == 200
    assert {card["last4"]: card["default"] for card in response.json()["data"]} == {
        "1111": False,
        "2222": True,
    }


def test_auto_pay_charges_the_default_card(stripe_api: FakeStripe, acme: Billing) -> None:
    save(acme, "pm_card_1111")
    second = save(acme, "pm_card_2222")
    acme.api.post(f"{acme.base}/customers/{acme.customer}/cards/{second['id']}/default")
    invoice = acme.finalized()

    assert acme.api.post(f"{acme.invoice(invoice['id'])}/charge").status == 202

    [charge] = stripe_api.to("/v1/payment_intents")
    assert charge.form["payment_method"] == "pm_card_2222"


def test_removing_the_default_card_makes_the_newest_other_the_default_and_detaches_it(
    stripe_api: FakeStripe, acme: Billing
) -> None:
    first = save(acme, "pm_card_1111")
    save(acme, "pm_card_2222")
    save(acme, "pm_card_3333")

    response = acme.api.delete(f"{acme.base}/customers/{acme.customer}/cards/{first['id']}")

    assert response.status == 204
    assert {card["last4"]: card["default"] for card in cards(acme)} == {"2222": False, "3333": True}
    [detached] = stripe_api.to("/v1/payment_methods/pm_card_1111/detach")
    assert detached.method == "POST"


def test_unknown_and_foreign_cards_answer_404_and_change_nothing(acme: Billing, other_api: ApiClient) -> None:
    card = save(acme, "pm_card_1111")
    other = Billing(other_api)
    mine = f"{acme.base}/customers/{acme.customer}/cards"

    unknown = acme.api.delete(f"{mine}/card_unknown")
    foreign_org = other.api.delete(
        f"/v1/organisations/{acme.org}/customers/{acme.customer}/cards/{card['id']}"
    )
    foreign_customer = acme.api.post(f"{acme.base}/customers/{other.customer}/cards/{card['id']}/default")
    foreign_list = other.api.get(f"/v1/organisations/{acme.org}/customers/{acme.customer}/cards")

    assert [r.status for r in (unknown, foreign_org, foreign_customer, foreign_list)] == [404] * 4
    assert cards(acme) == [card]


def test_the_service_refuses_an_unknown_card_by_name(acme: Billing) -> None:
    with pytest.raises(NotFound):
        services().saved_cards.set_default_card(acme.org, acme.customer, "card_nope")


# --- the sandbox provider ----------------------------------------------------------------------


def sandbox_secret(org: str) -> str:
    credentials = services().card_payments.credentials(org)
    assert credentials is not None
    return credentials.webhook_secret.get_secret_value()


@pytest.mark.parametrize(("number", "saved"), [(SUCCEEDING_CARD, True), (DECLINED_CARD, False)])
def test_the_sandbox_setup_page_saves_4242_and_declines_0002_by_signed_webhook(
    sandbox: Billing, number: str, saved: bool
) -> None:
    url = services().saved_cards.start_card_setup(sandbox.org, sandbox.customer, return_url=RETURN_URL)
    session_id = url.rsplit("/", 1)[1]
    gateway = SandboxGateway(
        DynamoTable(lambda: boto3.client("dynamodb"), TABLES["BillingTable"]), lambda: "", SystemClock()
    )
    session = gateway.session(session_id)
    assert session is not None
    assert session["mode"] == "setup"

    [event] = setup_events(session, number, "04/33")
    outcome = deliver(sandbox.org, json.dumps(event).encode(), sandbox_secret(sandbox.org))

    if saved:
        assert outcome == "applied"
        [card] = cards(sandbox)
        assert (card["last4"], card["exp_month"], card["exp_year"], card["default"]) == (
            "4242",
            4,
            2033,
            True,
        )
    else:
        assert outcome == "ignored"
        assert cards(sandbox) == []


def test_the_sandbox_setup_page_shows_a_card_form_and_sends_the_customer_back(
    sandbox: Billing, monkeypatch: pytest.MonkeyPatch
) -> None:
    from local import sandbox_checkout
    from local.http_messages import HttpRequest

    delivered: list[tuple[str, list[dict[str, Any]]]] = []
    monkeypatch.setattr(
        sandbox_checkout, "_deliver", lambda org, events, secret: delivered.append((org, events))
    )
    url = services().saved_cards.start_card_setup(sandbox.org, sandbox.customer, return_url=RETURN_URL)
    path = "/_dev/sandbox/checkout/" + url.rsplit("/", 1)[1]

    def post(card: str) -> Any:
        body = f"card_number={card}&expiry=04%2F33&cvc=123".encode()
        return sandbox_checkout.pay(HttpRequest("POST", path, "", [], body, "127.0.0.1"))

    shown = sandbox_checkout.show_checkout(HttpRequest("GET", path, "", [], b"", "127.0.0.1"))
    wrong = post("1234")
    saved = post(SUCCEEDING_CARD)
    again = post(SUCCEEDING_CARD)

    assert shown.status == 200
    assert b"Save a card" in shown.body
    assert wrong.status == 422
    assert (saved.status, dict(saved.headers)["Location"]) == (303, f"{RETURN_URL}?card_setup=success")
    assert again.status == 303
    [(org, [event])] = delivered  # the second post delivers nothing: a setup completes once
    assert (org, event["type"]) == (sandbox.org, "setup_intent.succeeded")
    assert event["data"]["object"]["payment_method"]["card"]["last4"] == "4242"

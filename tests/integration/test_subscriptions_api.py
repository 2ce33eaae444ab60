"""Subscriptions over the API: the contract's fields, validation, actions and the upcoming invoice."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.billing_queue import run_cycle
from tests.integration.conftest import SettableClock

PLAN = [{"description": "Pro plan", "unit_amount": 4900}]


@pytest.fixture
def acme(api: ApiClient, clock: SettableClock) -> Billing:
    clock.set("2027-01-20T10:00:00+00:00")
    return Billing(api)


def create(acme: Billing, **fields: Any) -> Any:
    body = {"customer_id": acme.customer, "line_items": PLAN, **fields}
    return acme.api.post(f"{acme.base}/subscriptions", body)


def test_a_new_subscription_is_a_draft_with_the_contract_fields(acme: Billing) -> None:
    response = create(acme, start_date="2027-01-31", days_until_due=7)

    assert response.status == 201
    subscription = response.json()
    assert subscription["id"].startswith("sub_")
    assert {k: subscription[k] for k in ("status", "currency", "period", "period_units", "start_date")} == {
        "status": "draft",
        "currency": "EUR",
        "period": 1,
        "period_units": "months",
        "start_date": "2027-01-31",
    }
    assert subscription["charge_period_end"] is False
    assert subscription["trial_periods"] == 0
    assert subscription["include_open_charges"] is True
    assert subscription["collection"] == "send_invoice"
    assert subscription["next_billing_date"] is None
    assert acme.api.get(f"{acme.base}/subscriptions/{subscription['id']}").json() == subscription
    assert [s["id"] for s in acme.api.get(f"{acme.base}/subscriptions").json()["data"]] == [
        subscription["id"]
    ]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"period": 0}, "period"),
        ({"period": 257}, "period"),
        ({"period_units": "fortnights"}, "period_units"),
        ({"trial_periods": -1}, "trial_periods"),
        ({"trial_periods": 257}, "trial_periods"),
        ({"start_date": "2027-02-30"}, "start_date"),
        ({"start_date": "2027-03-01", "end_date": "2027-03-01"}, "end_date"),
        ({"collection": "cash"}, "collection"),
        ({"currency": "USD"}, "currency"),
        ({"currency": "XYZ"}, "currency"),
        ({"line_items": []}, "line_items"),
        ({"line_items": None}, "line_items"),
        ({"line_items": [{"description": "No price"}]}, "line_items.0.unit_amount"),
        ({"template_id": "tpl_missing", "line_items": None}, "template_id"),
        ({"customer_id": "cus_missing"}, "customer_id"),
        ({"days_until_due": 366}, "days_until_due"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_every_invalid_field_is_a_422_naming_it_and_nothing_is_created(
    acme: Billing, fields: dict[str, Any], field: str
) -> None:
    body = {"customer_id": acme.customer, "line_items": PLAN, **fields}
    body = {k: v for k, v in body.items() if v is not None}

    response = acme.api.post(f"{acme.base}/subscriptions", body)

    assert response.status == 422, response.body
    assert field in [e["field"] for e in response.json()["errors"]]
    assert acme.api.get(f"{acme.base}/subscriptions").json()["data"] == []


def test_a_subscription_from_a_template_bills_the_template_as_it_is(acme: Billing) -> None:
    template = acme.api.post(
        f"{acme.base}/billing_templates",
        {
            "name": "Support",
            "currency": "EUR",
            "line_items": [{"description": "Support", "unit_amount": 900}],
        },
    ).json()
    body = {"customer_id": acme.customer, "template_id": template["id"], "start_date": "2027-01-20"}
    subscription = acme.api.post(f"{acme.base}/subscriptions", body).json()
    acme.api.patch(
        f"{acme.base}/billing_templates/{template['id']}",
        {"line_items": [{"description": "Support+", "unit_amount": 1500}]},
    )

    upcoming = acme.api.get(f"{acme.base}/subscriptions/{subscription['id']}/upcoming").json()

    assert [(line["description"], line["amount"]) for line in upcoming["line_items"]] == [("Support+", 1500)]
    assert (upcoming["period_start"], upcoming["period_end"]) == ("2027-01-20", "2027-02-19")
    assert upcoming["issue_date"] == "2027-01-20"
    assert upcoming["total"] == 1785  # 19 % tax of the customer


def test_the_upcoming_invoice_includes_open_charges_and_is_not_stored(acme: Billing) -> None:
    acme.charge(description="Extra hours", quantity="2", unit_amount=5000)
    subscription = create(acme, start_date="2027-02-01").json()

    upcoming = acme.api.get(f"{acme.base}/subscriptions/{subscription['id']}/upcoming")

    assert upcoming.status == 200
    assert [line["description"] for line in upcoming.json()["line_items"]] == ["Extra hours", "Pro plan"]
    assert acme.api.get(f"{acme.base}/invoices").json()["data"] == []


def test_actions_follow_the_status_machine(acme: Billing) -> None:
    path = f"{acme.base}/subscriptions/{create(acme, start_date='2027-01-01').json()['id']}"

    assert acme.api.post(f"{path}/pause").status == 409
    assert acme.api.post(f"{path}/resume").status == 409
    active = acme.api.post(f"{path}/activate")
    assert (active.status, active.json()["status"]) == (200, "active")
    assert active.json()["current_period_start"] == "2027-01-01"
    assert acme.api.post(f"{path}/activate").status == 409
    assert acme.api.post(f"{path}/pause").json()["status"] == "paused"
    assert acme.api.post(f"{path}/resume").json()["status"] == "active"
    cancelled = acme.api.post(f"{path}/cancel", {"at_period_end": False})
    assert (cancelled.status, cancelled.json()["status"]) == (200, "cancelled")
    assert acme.api.post(f"{path}/cancel").status == 409
    assert acme.api.patch(path, {"memo": "late"}).status == 409
    assert acme.api.get(f"{path}/upcoming").status == 409


def test_cancel_defaults_to_the_end_of_the_current_period(acme: Billing) -> None:
    path = f"{acme.base}/subscriptions/{create(acme, start_date='2027-01-01').json()['id']}"
    acme.api.post(f"{path}/activate")

    cancelled = acme.api.post(f"{path}/cancel").json()

    assert (cancelled["status"], cancelled["cancel_at"]) == ("active", "2027-02-01")
    run_cycle("2027-02-01")
    assert acme.api.get(path).json()["status"] == "cancelled"
    assert len(acme.api.get(f"{acme.base}/invoices").json()["data"]) == 1


def test_the_schedule_is_read_only_once_a_period_was_invoiced(acme: Billing) -> None:
    path = f"{acme.base}/subscriptions/{create(acme, start_date='2027-01-20').json()['id']}"
    assert acme.api.patch(path, {"period": 3, "period_units": "weeks"}).json()["period"] == 3
    acme.api.post(f"{path}/activate")
    run_cycle("2027-01-20")

    refused = acme.api.patch(path, {"period": 1, "start_date": "2027-01-01", "memo": "x"})

    assert refused.status == 422
    assert sorted(e["field"] for e in refused.json()["errors"]) == ["period", "start_date"]
    changed = acme.api.patch(path, {"line_items": [{"description": "Team plan", "unit_amount": 9900}]})
    assert changed.status == 200
    assert acme.api.get(f"{path}/upcoming").json()["line_items"][0]["description"] == "Team plan"


def test_changing_an_active_schedule_before_it_billed_moves_the_next_billing_date(acme: Billing) -> None:
    path = f"{acme.base}/subscriptions/{create(acme, start_date='2027-03-01').json()['id']}"
    acme.api.post(f"{path}/activate")

    changed = acme.api.patch(path, {"start_date": "2027-04-15", "trial_periods": 1})

    assert changed.json()["next_billing_date"] == "2027-05-15"


def test_another_accounts_subscription_is_not_found(acme: Billing, other_api: ApiClient) -> None:
    path = f"{acme.base}/subscriptions/{create(acme).json()['id']}"

    assert other_api.get(path).status == 404
    assert other_api.post(f"{path}/activate").status == 404
    assert acme.api.get(f"{acme.base}/subscriptions/sub_missing").status == 404

"""`notifications.invoice_finalized`: with it on, finalizing an invoice emails it to the customer
("ready for payment", the invoice email, marking it sent) in the finalization's own transaction, at
every door that finalizes, exactly once; off, nothing is emailed by finalizing."""

from __future__ import annotations

import os
import threading

import boto3
import pytest

from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.billing_queue import BillingQueue, run_cycle
from tests.integration.conftest import new_account
from tests.integration.dashboard_browser import account_with_user, signed_in


def emails(org: str) -> list[tuple[str, str]]:
    """The emails owed through the outbox: (kind, invoice id)."""
    items = boto3.client("dynamodb").query(
        TableName=os.environ["REMIT_BILLING_TABLE"],
        KeyConditionExpression="PK = :pk AND begins_with(SK, :outbox)",
        ExpressionAttributeValues={":pk": {"S": f"ORG#{org}"}, ":outbox": {"S": "OUTBOX#"}},
        ConsistentRead=True,
    )["Items"]
    return sorted((item["kind"]["S"], item["invoice_id"]["S"]) for item in items)


def notify(billing: Billing, on: bool = True) -> None:
    response = billing.api.patch(billing.base, {"notifications": {"invoice_finalized": on}})
    assert response.status == 200, response.body
    assert response.json()["notifications"] == {"invoice_finalized": on}


@pytest.fixture
def acme(api: ApiClient) -> Billing:
    billing = Billing(api)
    notify(billing)
    return billing


def timeline(billing: Billing, invoice_id: str) -> list[str]:
    return [e["type"] for e in billing.api.get(f"{billing.invoice(invoice_id)}/events").json()["data"]]


def test_it_is_off_by_default_and_finalizing_then_emails_nothing(api: ApiClient) -> None:
    billing = Billing(api)
    assert billing.api.get(billing.base).json()["notifications"] == {"invoice_finalized": False}

    invoice = billing.finalized()

    assert invoice["sent_at"] is None
    assert emails(billing.org) == []


def test_finalizing_through_the_api_emails_the_invoice_once_and_marks_it_sent(acme: Billing) -> None:
    invoice = acme.finalized()

    assert invoice["sent_at"] is not None
    assert emails(acme.org) == [("invoice", invoice["id"])]
    assert "invoice.sent" in timeline(acme, invoice["id"])


def test_a_retried_finalize_request_emails_once(acme: Billing) -> None:
    draft = acme.draft()
    key = {"Idempotency-Key": "finalize-once"}

    first = acme.api.post(f"{acme.invoice(draft['id'])}/finalize", headers=key)
    again = acme.api.post(f"{acme.invoice(draft['id'])}/finalize", headers=key)

    assert (first.status, again.status) == (200, 200)
    assert emails(acme.org) == [("invoice", draft["id"])]


def test_concurrent_finalizations_email_once(served_aws: None) -> None:
    # Real threads against the moto server (the in-process mock does not serialize transactions)
    acme = Billing(new_account("Concurrent account"))
    notify(acme)
    draft = acme.draft()
    statuses: list[int] = []
    start = threading.Barrier(4)

    def finalize() -> None:
        start.wait()
        statuses.append(acme.api.post(f"{acme.invoice(draft['id'])}/finalize").status)

    threads = [threading.Thread(target=finalize) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses.count(200) >= 1
    assert emails(acme.org) == [("invoice", draft["id"])]


def test_sending_a_draft_emails_it_once_and_a_later_send_sends_again(acme: Billing) -> None:
    draft = acme.draft()

    sent = acme.api.post(f"{acme.invoice(draft['id'])}/send")
    once = emails(acme.org)
    resent = acme.api.post(f"{acme.invoice(draft['id'])}/send")

    assert (sent.status, resent.status) == (200, 200)
    assert once == [("invoice", draft["id"])]
    assert emails(acme.org) == [("invoice", draft["id"])] * 2


def test_a_bulk_run_emails_each_invoice_once_whether_it_sends_or_not(acme: Billing) -> None:
    lines = [{"description": "Membership", "unit_amount": 12000}]
    for send in (True, False):
        body = {"customer_ids": [acme.customer], "line_items": lines, "currency": "EUR", "send": send}
        assert acme.api.post(f"{acme.base}/billing", body).status == 202
    BillingQueue().drain()

    invoices = acme.api.get(f"{acme.base}/invoices").json()["data"]

    assert len(invoices) == 2
    assert emails(acme.org) == sorted(("invoice", i["id"]) for i in invoices)


def test_a_template_invoice_is_emailed_once(acme: Billing) -> None:
    template = acme.api.post(
        f"{acme.base}/billing_templates",
        {"name": "Membership", "currency": "EUR", "line_items": [{"description": "Fee", "unit_amount": 500}]},
    ).json()

    sent = acme.api.post(
        f"{acme.base}/billing_templates/{template['id']}/send_invoice", {"customer_id": acme.customer}
    )

    assert sent.status == 201, sent.body
    assert emails(acme.org) == [("invoice", sent.json()["id"])]


def test_the_daily_cycle_emails_a_subscriptions_invoice_once(acme: Billing) -> None:
    body = {
        "customer_id": acme.customer,
        "line_items": [{"description": "Pro plan", "unit_amount": 4900}],
        "start_date": "2027-01-31",
    }
    subscription = acme.api.post(f"{acme.base}/subscriptions", body).json()
    assert acme.api.post(f"{acme.base}/subscriptions/{subscription['id']}/activate").status == 200

    run_cycle("2027-01-31")

    [invoice] = acme.api.get(f"{acme.base}/invoices").json()["data"]
    assert invoice["sent_at"] is not None
    assert emails(acme.org) == [("invoice", invoice["id"])]


@pytest.mark.usefixtures("user_pool")
def test_finalizing_in_the_dashboard_emails_the_invoice_once() -> None:
    from remit.bootstrap import services
    from remit.domain.customer import NewCustomer
    from remit.domain.invoice import NewInvoice
    from remit.domain.organisation import OrganisationChanges

    account_id, organisation_id = account_with_user("fin@example.com")
    everything = services()
    everything.organisations.update(
        account_id,
        organisation_id,
        OrganisationChanges.model_validate({"notifications": {"invoice_finalized": True}}),
    )
    customer = everything.customers.create(
        account_id, organisation_id, NewCustomer(name="Globex", email="ap@globex.test")
    )
    draft = everything.invoices.create_draft(
        account_id,
        organisation_id,
        NewInvoice.model_validate(
            {"customer_id": customer.id, "line_items": [{"description": "Work", "unit_amount": 1000}]}
        ),
    )
    browser = signed_in("fin@example.com")

    done = browser.post(f"/dashboard/organisations/{organisation_id}/invoices/{draft.id}/finalize")

    assert done["statusCode"] == 303
    assert emails(organisation_id) == [("invoice", draft.id)]

"""The dashboard's bulk billing: the form (customers ticked or typed, lines, terms, send), the
confirmed run, the runs list, and a run's progress, polled by htmx until the worker completes it.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.billing_queue import BillingQueue
from tests.integration.dashboard_browser import Browser, account_with_user, signed_in, text_of
from tests.integration.test_dashboard_billing_templates import template
from tests.integration.test_dashboard_subscriptions import customer

pytestmark = pytest.mark.usefixtures("user_pool")


def setup(email: str) -> tuple[str, str, Browser]:
    account_id, organisation_id = account_with_user(email, "Ada Ltd")
    return account_id, organisation_id, signed_in(email)


def path(organisation_id: str, *parts: str) -> str:
    return "/".join([f"/dashboard/organisations/{organisation_id}/bulk-billing", *parts])


def runs(account_id: str, organisation_id: str) -> list[Any]:
    from remit.bootstrap import services

    return services().billing_runs.list_runs(account_id, organisation_id, 10, None).items


def members(organisation_id: str, run_id: str) -> list[str]:
    """The ids of the run's items, as the billing worker reads them (the API does not show them)."""
    import os

    import boto3

    from remit.adapters.dynamodb import DynamoTable
    from remit.adapters.dynamodb_recurring import DynamoRecurringStore

    table = DynamoTable(lambda: boto3.client("dynamodb"), os.environ["REMIT_BILLING_TABLE"])
    run = DynamoRecurringStore(table).get_run(organisation_id, run_id, invoice_ids=False)
    return run.item_ids if run else []


def invoices(account_id: str, organisation_id: str) -> list[Any]:
    from remit.bootstrap import services

    return services().invoices.list_invoices(account_id, organisation_id, 100, None, None, None).items


def bill(customer_ids: list[str], more: str = "", **fields: str) -> list[tuple[str, str]]:
    pairs = [("customer_ids", customer_id) for customer_id in customer_ids]
    pairs += [("customer_ids.more", more)]
    pairs += list(
        {
            "line_items.0.description": "Annual membership",
            "line_items.0.unit_amount": "120.00",
            "currency": "EUR",
            "days_until_due": "14",
            "send": "false",
            **fields,
        }.items()
    )
    return pairs


def polled(browser: Browser, url: str) -> dict[str, Any]:
    """The page as htmx's poll asks for it (`HX-Request: true`, not boosted)."""
    import dashboard.app

    handler = dashboard.app.lambda_handler

    def with_header(event: dict[str, Any], context: Any) -> Any:
        event["headers"]["HX-Request"] = "true"
        return handler(event, context)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dashboard.app, "lambda_handler", with_header)
        return browser.request("GET", url)


def test_the_form_offers_every_field_of_the_apis_model_and_the_customers_to_tick() -> None:
    from dashboard.forms import fields_of
    from remit.domain.billing_template import BulkBillingRequest

    account_id, organisation_id, browser = setup("abe@example.com")
    globex = customer(account_id, organisation_id, "Globex")

    page = browser.request("GET", path(organisation_id))

    assert page["statusCode"] == 200
    for form_field in fields_of(BulkBillingRequest):
        name = form_field.name if form_field.kind != "rows" else "line_items.0.unit_amount"
        assert f'name="{name}"' in page["body"], name
    assert f'name="customer_ids" value="{globex}"' in page["body"]
    assert 'name="customer_ids.more"' in page["body"]
    assert 'aria-current="page">Bulk billing<' in page["body"]


def test_the_form_takes_its_lines_from_a_template() -> None:
    account_id, organisation_id, browser = setup("bea@example.com")
    made = template(account_id, organisation_id, "Yearly fee", days_until_due=21)

    page = browser.request("GET", path(organisation_id) + f"?template_id={made}")

    assert 'value="Support"' in page["body"]
    assert 'value="99.00"' in page["body"]
    assert 'name="days_until_due" value="21"' in page["body"]


def test_billing_is_confirmed_then_the_run_is_shown_and_polled_until_the_worker_completes_it() -> None:
    account_id, organisation_id, browser = setup("cat@example.com")
    ticked = [customer(account_id, organisation_id, name) for name in ("Globex", "Initech")]
    typed = customer(account_id, organisation_id, "Hooli")

    question = browser.post(path(organisation_id), bill(ticked, f"{typed}\n"), confirmed=False)
    assert question["statusCode"] == 200
    assert "Bill 3 customers?" in text_of(question["body"])
    assert runs(account_id, organisation_id) == []

    response = browser.post(path(organisation_id), bill(ticked, f"{typed}\n"))

    assert response["statusCode"] == 303
    (run,) = runs(account_id, organisation_id)
    assert response["headers"]["Location"] == path(organisation_id, "runs", run.id)
    assert (run.customer_count, run.status, members(organisation_id, run.id)) == (
        3,
        "pending",
        [*ticked, typed],
    )
    # The run's page, as a browser without script gets it: the whole page, polled, a Refresh link.
    page = browser.request("GET", response["headers"]["Location"])
    text = text_of(page["body"])
    assert "Billing run started for 3 customers" in text
    assert "Status: pending" in text
    assert "0 / 3 done" in text
    assert f'hx-get="{path(organisation_id, "runs", run.id)}" hx-trigger="every 2s"' in page["body"]
    assert "Refresh" in text
    # The poll answers the progress alone.
    fragment = polled(browser, response["headers"]["Location"])
    assert fragment["statusCode"] == 200
    assert "<html" not in fragment["body"]
    assert 'id="progress"' in fragment["body"]
    assert 'hx-trigger="every 2s"' in fragment["body"]

    BillingQueue().drain()

    made = invoices(account_id, organisation_id)
    assert sorted(invoice.customer_id for invoice in made) == sorted([*ticked, typed])
    assert {(invoice.status, invoice.total, invoice.source) for invoice in made} == {
        ("open", 12000, "billing")
    }
    fragment = polled(browser, response["headers"]["Location"])
    text = text_of(fragment["body"])
    assert "Status: completed" in text
    assert "3 / 3 done 3 invoices made 0 failed" in text
    assert "hx-trigger" not in fragment["body"]  # the poll stops with the run
    assert "Refresh" not in text
    for invoice in made:
        assert f'href="/dashboard/organisations/{organisation_id}/invoices/{invoice.id}"' in fragment["body"]
    page = browser.request("GET", response["headers"]["Location"])
    assert "<html" in page["body"]
    assert "hx-trigger" not in page["body"]


def test_the_apis_refusal_of_a_customer_is_shown_next_to_the_customers_and_nothing_is_billed() -> None:
    account_id, organisation_id, browser = setup("dot@example.com")
    globex = customer(account_id, organisation_id, "Globex")
    dollar = customer(account_id, organisation_id, "Dollar", currency="USD")

    response = browser.post(path(organisation_id), bill([globex, dollar]))

    assert response["statusCode"] == 422
    assert 'id="f-customer_ids-error"' in response["body"]
    assert f"customer &#39;{dollar}&#39; is billed in USD, not EUR" in response["body"]
    assert f'value="{globex}" checked' in response["body"]  # what was ticked is kept
    assert runs(account_id, organisation_id) == []


def test_a_bad_amount_is_refused_next_to_its_field_and_nothing_is_billed() -> None:
    account_id, organisation_id, browser = setup("eli@example.com")
    globex = customer(account_id, organisation_id, "Globex")

    response = browser.post(path(organisation_id), bill([globex], **{"line_items.0.unit_amount": "12.345"}))

    assert response["statusCode"] == 422
    assert 'id="f-line_items-0-unit_amount-error"' in response["body"]
    assert 'value="12.345"' in response["body"]
    assert runs(account_id, organisation_id) == []


def test_no_customer_is_refused_next_to_the_customers() -> None:
    account_id, organisation_id, browser = setup("fox@example.com")

    response = browser.post(path(organisation_id), bill([]))

    assert response["statusCode"] == 422
    assert 'id="f-customer_ids-error"' in response["body"]
    assert runs(account_id, organisation_id) == []


def test_a_failed_customer_is_shown_with_its_reason() -> None:
    from remit.bootstrap import services

    account_id, organisation_id, browser = setup("gil@example.com")
    kept = customer(account_id, organisation_id, "Globex")
    gone = customer(account_id, organisation_id, "Gone")
    response = browser.post(path(organisation_id), bill([kept, gone]))
    services().customers.delete(account_id, organisation_id, gone)

    BillingQueue().drain()

    page = browser.request("GET", response["headers"]["Location"])
    (run,) = runs(account_id, organisation_id)
    assert run.status == "completed_with_errors"
    text = text_of(page["body"])
    assert "completed with errors" in text
    assert "Failures" in text
    assert gone in text
    assert run.errors[0].detail in text


def test_the_runs_list_shows_each_run_with_its_progress() -> None:
    account_id, organisation_id, browser = setup("hun@example.com")
    globex = customer(account_id, organisation_id, "Globex")
    browser.post(path(organisation_id), bill([globex]))
    (run,) = runs(account_id, organisation_id)

    page = browser.request("GET", path(organisation_id, "runs"))

    assert page["statusCode"] == 200
    assert f'href="{path(organisation_id, "runs", run.id)}"' in page["body"]
    assert f"{run.id} bulk billing pending 0 of 1 0 0" in text_of(page["body"])


def test_a_post_without_the_csrf_token_bills_nothing() -> None:
    account_id, organisation_id, browser = setup("ivy@example.com")
    globex = customer(account_id, organisation_id, "Globex")

    response = browser.request("POST", path(organisation_id), [*bill([globex]), ("confirmed", "yes")])

    assert response["statusCode"] == 403
    assert runs(account_id, organisation_id) == []


def test_another_organisations_run_template_and_customers_are_not_found() -> None:
    account_id, organisation_id, browser = setup("jay@example.com")
    other_account, other_organisation = account_with_user("kit@example.com", "Other Ltd")
    other_browser = signed_in("kit@example.com")
    theirs = customer(other_account, other_organisation, "Theirs")
    other_browser.post(path(other_organisation), bill([theirs]))
    (their_run,) = runs(other_account, other_organisation)
    their_template = template(other_account, other_organisation)

    assert browser.request("GET", path(organisation_id, "runs", their_run.id))["statusCode"] == 404
    assert (
        browser.request("GET", path(organisation_id) + f"?template_id={their_template}")["statusCode"] == 404
    )
    assert browser.request("GET", path(other_organisation, "runs"))["statusCode"] == 404
    refused = browser.post(path(organisation_id), bill([theirs]))
    assert refused["statusCode"] == 422
    assert runs(account_id, organisation_id) == []

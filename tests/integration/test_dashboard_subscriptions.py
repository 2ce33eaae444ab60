"""The dashboard's subscriptions: the list, a new one, its page with the upcoming invoice, its edit
form, and set live / pause / resume / cancel, each seen through the services the API reads.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.billing_queue import run_cycle
from tests.integration.conftest import SettableClock
from tests.integration.dashboard_browser import Browser, account_with_user, signed_in, text_of

pytestmark = pytest.mark.usefixtures("user_pool")


@pytest.fixture
def today(clock: SettableClock) -> SettableClock:
    clock.set("2027-01-20T10:00:00+00:00")
    return clock


def customer(account_id: str, organisation_id: str, name: str = "Globex", currency: str = "EUR") -> str:
    from remit.bootstrap import services
    from remit.domain.customer import NewCustomer

    new = NewCustomer(name=name, email=f"ap@{name.lower()}.test", currency=currency)
    return services().customers.create(account_id, organisation_id, new).id


def subscription(account_id: str, organisation_id: str, customer_id: str, **fields: Any) -> str:
    from remit.bootstrap import services
    from remit.domain.subscription import NewSubscription

    new = NewSubscription.model_validate(
        {
            "customer_id": customer_id,
            "line_items": [{"description": "Pro plan", "unit_amount": 4900}],
            **fields,
        }
    )
    return services().subscriptions.create(account_id, organisation_id, new).id


def stored(account_id: str, organisation_id: str, subscription_id: str) -> Any:
    from remit.bootstrap import services

    return services().subscriptions.get(account_id, organisation_id, subscription_id)


def setup(email: str) -> tuple[str, str, str, Browser]:
    account_id, organisation_id = account_with_user(email, "Ada Ltd")
    customer_id = customer(account_id, organisation_id)
    return account_id, organisation_id, customer_id, signed_in(email)


def path(organisation_id: str, *parts: str) -> str:
    return "/".join([f"/dashboard/organisations/{organisation_id}/subscriptions", *parts])


@pytest.mark.usefixtures("today")
def test_the_list_shows_each_subscription_with_status_customer_next_billing_date_and_amount() -> None:
    account_id, organisation_id, customer_id, browser = setup("sam@example.com")
    live = subscription(account_id, organisation_id, customer_id, start_date="2027-02-01")
    draft = subscription(
        account_id,
        organisation_id,
        customer_id,
        line_items=[{"description": "Seats", "unit_amount": 1000, "quantity": "2.5"}],
    )
    from remit.bootstrap import services
    from remit.domain.billing_template import NewBillingTemplate

    plan = NewBillingTemplate.model_validate(
        {"name": "Plan", "currency": "EUR", "line_items": [{"description": "Plan", "unit_amount": 9900}]}
    )
    template_id = services().billing_runs.create_template(account_id, organisation_id, plan).id
    templated = subscription(
        account_id, organisation_id, customer_id, line_items=None, template_id=template_id
    )
    browser.post(path(organisation_id, live, "activate"))

    page = browser.request("GET", path(organisation_id))

    assert page["statusCode"] == 200
    text = text_of(page["body"])
    assert f"{live} active Globex 1 months" in text
    assert f"{draft} draft Globex 1 months — €25.00" in text
    assert f"{templated} draft Globex 1 months — €99.00 (template)" in text
    assert "1 Feb 2027" in text
    assert "€49.00" in text
    assert 'aria-current="page">Subscriptions<' in page["body"]


@pytest.mark.usefixtures("today")
def test_the_list_reads_one_page_and_links_the_next() -> None:
    import dashboard.pages.subscriptions as pages

    account_id, organisation_id, customer_id, browser = setup("sid@example.com")
    made = [subscription(account_id, organisation_id, customer_id) for _ in range(3)]
    pages_size = pages.PAGE_SIZE
    pages.PAGE_SIZE = 2
    try:
        first = browser.request("GET", path(organisation_id))
        assert made[0] in first["body"]
        assert made[2] not in first["body"]
        start = first["body"].index("?cursor=")
        link = first["body"][start : first["body"].index('"', start)].replace("&amp;", "&")
        second = browser.request("GET", path(organisation_id) + link)
        assert made[2] in second["body"]
        assert made[0] not in second["body"]
    finally:
        pages.PAGE_SIZE = pages_size


@pytest.mark.usefixtures("today")
def test_a_new_subscription_is_created_from_every_field_of_the_apis_model() -> None:
    from dashboard.forms import fields_of
    from remit.domain.subscription import NewSubscription

    account_id, organisation_id, customer_id, browser = setup("tia@example.com")
    form = browser.request("GET", path(organisation_id, "new"))
    assert form["statusCode"] == 200
    for form_field in fields_of(NewSubscription):
        name = form_field.name if form_field.kind != "rows" else "line_items.0.unit_amount"
        assert f'name="{name}"' in form["body"], name
    assert f'<option value="{customer_id}">Globex (EUR)</option>' in form["body"]
    assert 'name="include_open_charges" value="true" checked' in form["body"]  # the API's default

    response = browser.post(
        path(organisation_id, "new"),
        {
            "customer_id": customer_id,
            "line_items.0.description": "Hosting",
            "line_items.0.unit_amount": "25.50",
            "line_items.0.quantity": "2",
            "period": "3",
            "period_units": "weeks",
            "start_date": "2027-02-01",
            "trial_periods": "1",
            "days_until_due": "10",
            "collection": "send_invoice",
            "memo": "Thank you",
        },
        confirmed=False,
    )

    assert response["statusCode"] == 303
    created_id = response["headers"]["Location"].rsplit("/", 1)[-1]
    created = stored(account_id, organisation_id, created_id)
    assert created.status == "draft"
    assert (created.period, created.period_units, str(created.start_date)) == (3, "weeks", "2027-02-01")
    assert created.line_items is not None
    assert (created.line_items[0].unit_amount, str(created.line_items[0].quantity)) == (2550, "2")
    assert (created.trial_periods, created.days_until_due, created.memo) == (1, 10, "Thank you")
    page = browser.request("GET", response["headers"]["Location"])
    assert "Subscription created as a draft for Globex" in text_of(page["body"])


@pytest.mark.usefixtures("today")
def test_a_bad_amount_is_refused_next_to_its_field_and_nothing_is_created() -> None:
    from remit.bootstrap import services

    account_id, organisation_id, customer_id, browser = setup("uma@example.com")

    response = browser.post(
        path(organisation_id, "new"),
        {
            "customer_id": customer_id,
            "line_items.0.description": "Hosting",
            "line_items.0.unit_amount": "9.999",
        },
    )

    assert response["statusCode"] == 422
    assert 'id="f-line_items-0-unit_amount-error"' in response["body"]
    assert 'value="9.999"' in response["body"]
    assert services().subscriptions.list(account_id, organisation_id, 10, None).items == []


@pytest.mark.usefixtures("today")
def test_the_apis_own_refusal_of_a_currency_is_shown_next_to_it() -> None:
    from remit.bootstrap import services

    account_id, organisation_id, customer_id, browser = setup("una@example.com")

    response = browser.post(
        path(organisation_id, "new"),
        {
            "customer_id": customer_id,
            "currency": "USD",
            "line_items.0.description": "Hosting",
            "line_items.0.unit_amount": "10",
        },
    )

    assert response["statusCode"] == 422
    assert "must be the customer&#39;s currency EUR" in response["body"]
    assert 'id="f-currency-error"' in response["body"]
    assert services().subscriptions.list(account_id, organisation_id, 10, None).items == []


@pytest.mark.usefixtures("today")
def test_the_page_shows_every_field_and_the_upcoming_invoice() -> None:
    account_id, organisation_id, customer_id, browser = setup("vic@example.com")
    made = subscription(
        account_id, organisation_id, customer_id, start_date="2027-02-01", memo="Plan memo", days_until_due=7
    )

    page = browser.request("GET", path(organisation_id, made))

    assert page["statusCode"] == 200
    text = text_of(page["body"])
    assert "Start date 1 Feb 2027" in text
    assert "Days until due 7" in text
    assert "Memo Plan memo" in text
    assert "Upcoming invoice" in text
    assert "Issue date 1 Feb 2027" in text
    assert "Pro plan 1 €49.00" in text
    assert "Total €49.00" in text
    assert "Set live" in text
    assert "Pause" not in text
    assert "Resume" not in text
    assert f'action="{path(organisation_id, made, "activate")}"' in page["body"]
    assert f'href="{path(organisation_id, made, "edit")}"' in page["body"]


@pytest.mark.usefixtures("today")
def test_set_live_pause_resume_and_cancel_are_confirmed_and_change_the_subscription() -> None:
    account_id, organisation_id, customer_id, browser = setup("wes@example.com")
    made = subscription(account_id, organisation_id, customer_id, start_date="2027-02-01")

    question = browser.post(path(organisation_id, made, "activate"), confirmed=False)
    assert question["statusCode"] == 200
    assert f"Set subscription {made} live?" in text_of(question["body"])
    assert stored(account_id, organisation_id, made).status == "draft"

    for action, status in (("activate", "active"), ("pause", "paused"), ("resume", "active")):
        response = browser.post(path(organisation_id, made, action))
        assert response["statusCode"] == 303, action
        assert stored(account_id, organisation_id, made).status == status
    page = browser.request("GET", path(organisation_id, made))
    assert "Subscription resumed: next billing date 2027-02-01." in text_of(page["body"])
    assert f'action="{path(organisation_id, made, "pause")}"' in page["body"]
    assert f'action="{path(organisation_id, made, "cancel")}"' in page["body"]
    assert "Cancel at period end" not in page["body"]  # no current period yet: it would cancel now

    response = browser.post(path(organisation_id, made, "cancel"), {"at_period_end": "false"})
    assert response["statusCode"] == 303
    assert stored(account_id, organisation_id, made).status == "cancelled"
    page = browser.request("GET", path(organisation_id, made))
    text = text_of(page["body"])
    assert "Subscription cancelled: nothing more is billed." in text
    assert "is cancelled: nothing is left to bill" in text
    assert "Cancel now" not in text
    assert "Edit" not in text


@pytest.mark.usefixtures("today")
def test_cancel_at_period_end_keeps_it_active_until_then() -> None:
    account_id, organisation_id, customer_id, browser = setup("xia@example.com")
    made = subscription(account_id, organisation_id, customer_id, start_date="2027-01-01")
    browser.post(path(organisation_id, made, "activate"))

    page = browser.request("GET", path(organisation_id, made))
    assert "Cancel at period end" in page["body"]
    question = browser.post(path(organisation_id, made, "cancel"), {"at_period_end": "true"}, confirmed=False)
    assert "at the end of the current period?" in text_of(question["body"])
    response = browser.post(path(organisation_id, made, "cancel"), {"at_period_end": "true"})

    assert response["statusCode"] == 303
    cancelled = stored(account_id, organisation_id, made)
    assert (cancelled.status, str(cancelled.cancel_at)) == ("active", "2027-02-01")
    page = browser.request("GET", response["headers"]["Location"])
    assert "Subscription cancelled from 2027-02-01" in text_of(page["body"])


@pytest.mark.usefixtures("today")
def test_pausing_a_cancelled_subscription_shows_the_apis_message_and_changes_nothing() -> None:
    account_id, organisation_id, customer_id, browser = setup("yan@example.com")
    made = subscription(account_id, organisation_id, customer_id)
    browser.post(path(organisation_id, made, "cancel"), {"at_period_end": "false"})
    before = stored(account_id, organisation_id, made)

    response = browser.post(path(organisation_id, made, "pause"))

    assert response["statusCode"] == 409
    assert "it is cancelled (only active subscriptions can)" in text_of(response["body"])
    assert stored(account_id, organisation_id, made) == before


@pytest.mark.usefixtures("today")
def test_the_edit_form_saves_changes_through_the_apis_patch() -> None:
    account_id, organisation_id, customer_id, browser = setup("zoe@example.com")
    made = subscription(account_id, organisation_id, customer_id, start_date="2027-03-01", memo="Old")
    form = browser.request("GET", path(organisation_id, made, "edit"))
    assert form["statusCode"] == 200
    assert 'value="49.00"' in form["body"]  # the stored amount, in major units

    fields = {
        "line_items.0.description": "Team plan",
        "line_items.0.unit_amount": "99.00",
        "line_items.0.quantity": "1",
        "currency": "EUR",
        "period": "1",
        "period_units": "years",
        "start_date": "2027-03-01",
        "charge_period_end": "false",
        "trial_periods": "0",
        "include_open_charges": "true",
        "collection": "send_invoice",
        "memo": "",
    }
    response = browser.post(path(organisation_id, made, "edit"), fields, confirmed=False)

    assert response["statusCode"] == 303
    changed = stored(account_id, organisation_id, made)
    assert changed.period_units == "years"
    assert changed.memo is None
    assert changed.line_items is not None
    assert (changed.line_items[0].description, changed.line_items[0].unit_amount) == ("Team plan", 9900)


def test_the_schedule_of_a_subscription_that_billed_is_refused_with_the_apis_message(
    today: SettableClock,
) -> None:
    account_id, organisation_id, customer_id, browser = setup("ali@example.com")
    made = subscription(account_id, organisation_id, customer_id, start_date="2027-01-20")
    browser.post(path(organisation_id, made, "activate"))
    run_cycle("2027-01-20")
    form = browser.request("GET", path(organisation_id, made, "edit"))
    assert "can no longer change" in text_of(form["body"])
    before = stored(account_id, organisation_id, made)
    assert before.invoices_issued == 1

    response = browser.post(
        path(organisation_id, made, "edit"),
        {"period": "2", "start_date": "2027-01-20", "currency": "EUR", "period_units": "months"},
    )

    assert response["statusCode"] == 422
    assert 'id="f-period-error"' in response["body"]
    assert "is read-only once the subscription has issued an invoice" in response["body"]
    assert stored(account_id, organisation_id, made) == before
    page = browser.request("GET", path(organisation_id, made))
    assert f'href="/dashboard/organisations/{organisation_id}/invoices/' in page["body"]
    assert "Invoices issued 1" in text_of(page["body"])


@pytest.mark.usefixtures("today")
def test_a_post_without_the_csrf_token_changes_nothing() -> None:
    account_id, organisation_id, customer_id, browser = setup("bea@example.com")
    made = subscription(account_id, organisation_id, customer_id)

    response = browser.request("POST", path(organisation_id, made, "activate"), {"confirmed": "yes"})

    assert response["statusCode"] == 403
    assert stored(account_id, organisation_id, made).status == "draft"


@pytest.mark.usefixtures("today")
def test_another_organisations_subscription_is_not_found() -> None:
    _, organisation_id, _, browser = setup("cid@example.com")
    other_account, other_organisation = account_with_user("dan@example.com", "Other Ltd")
    theirs = subscription(other_account, other_organisation, customer(other_account, other_organisation))

    assert browser.request("GET", path(organisation_id, theirs))["statusCode"] == 404
    assert browser.request("GET", path(organisation_id, theirs, "edit"))["statusCode"] == 404
    assert browser.post(path(organisation_id, theirs, "activate"))["statusCode"] == 404
    assert browser.request("GET", path(other_organisation))["statusCode"] == 404
    assert stored(other_account, other_organisation, theirs).status == "draft"


@pytest.mark.usefixtures("today")
def test_the_page_of_a_subscription_whose_customer_was_deleted_says_so() -> None:
    from remit.bootstrap import services

    account_id, organisation_id, customer_id, browser = setup("eve@example.com")
    made = subscription(account_id, organisation_id, customer_id)
    services().customers.delete(account_id, organisation_id, customer_id)

    page = browser.request("GET", path(organisation_id, made))

    assert page["statusCode"] == 200
    assert f"Its customer {customer_id} no longer exists" in text_of(page["body"])


@pytest.mark.usefixtures("today")
def test_with_more_customers_than_one_page_the_customer_is_typed_with_suggestions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dashboard.pages.recurring as recurring

    account_id, organisation_id, customer_id, browser = setup("fin@example.com")
    other = customer(account_id, organisation_id, "Initech")
    monkeypatch.setattr(recurring, "CHOICES", 1)

    form = browser.request("GET", path(organisation_id, "new"))

    assert 'list="f-customer_id-list"' in form["body"]
    assert f'<option value="{customer_id}">Globex (EUR)</option>' in form["body"]
    response = browser.post(
        path(organisation_id, "new"),
        {"customer_id": other, "line_items.0.description": "Plan", "line_items.0.unit_amount": "10"},
    )
    assert response["statusCode"] == 303
    created = stored(account_id, organisation_id, response["headers"]["Location"].rsplit("/", 1)[-1])
    assert created.customer_id == other

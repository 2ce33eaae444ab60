"""Every route of the dashboard, walked from the route table, for isolation and CSRF:

* a user of another account gets the not-found page for every page and every action of the first
  account's organisation, its customers, invoices, charges, subscriptions, templates and runs,
  and nothing of theirs changes;
* every state-changing form posted without its CSRF token is refused and changes nothing.

New routes join these tests by themselves: a route whose path names an id this module cannot
fill fails the test until it is taught here.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.integration.dashboard_browser import account_with_user, signed_in
from tests.integration.stocked_organisation import stock_organisation

pytestmark = pytest.mark.usefixtures("user_pool")


def routes() -> list[tuple[str, str]]:
    from dashboard.app import page_routes

    return [
        (route.method, route.path)
        for route in page_routes()
        if not route.public and "organisation_id" in route.path
    ]


def path_of(pattern: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: ids[match[1]], pattern)


def first_account() -> tuple[str, dict[str, str]]:
    """An account with one of everything, and the ids of it all."""
    account_id, organisation_id = account_with_user("owner@first.test", "First Ltd")
    return account_id, stock_organisation(account_id, organisation_id)


def state(account_id: str, ids: dict[str, str]) -> Any:
    """What a stray change would alter: the organisation, customer, invoice, subscription, template."""
    from remit.bootstrap import services

    everything = services()
    organisation_id = ids["organisation_id"]
    return (
        everything.organisations.get(account_id, organisation_id).model_dump(),
        everything.customers.get(account_id, organisation_id, ids["customer_id"]).model_dump(),
        everything.invoices.get(account_id, organisation_id, ids["invoice_id"]).model_dump(),
        everything.subscriptions.get(account_id, organisation_id, ids["subscription_id"]).model_dump(),
        everything.billing_runs.template(account_id, organisation_id, ids["template_id"]).model_dump(),
        [
            c.id
            for c in everything.charges.list_charges(
                account_id, organisation_id, ids["customer_id"], 10, None, None
            ).items
        ],
        [e.model_dump() for e in everything.webhook_endpoints.list(account_id, organisation_id)],
    )


def test_another_accounts_user_gets_not_found_for_every_page_and_action_and_nothing_changes() -> None:
    account_id, ids = first_account()
    before = state(account_id, ids)
    account_with_user("stranger@second.test", "Second Ltd")
    stranger = signed_in("stranger@second.test")

    answers = {}
    for method, pattern in routes():
        path = path_of(pattern, ids)
        if method == "GET":
            response = stranger.request("GET", path)
        else:
            response = stranger.post(
                path, {"name": "Taken", "amount": "1", "customer_id": ids["customer_id"]}
            )
        answers[f"{method} {path}"] = response["statusCode"]

    assert len(answers) > 50
    assert {name: status for name, status in answers.items() if status != 404} == {}
    assert state(account_id, ids) == before


def test_every_form_posted_without_its_csrf_token_is_refused_and_changes_nothing() -> None:
    account_id, ids = first_account()
    before = state(account_id, ids)
    owner = signed_in("owner@first.test")

    answers = {}
    for method, pattern in routes():
        if method != "POST":
            continue
        path = path_of(pattern, ids)
        fields = {"name": "Taken", "amount": "1", "confirmed": "yes", "customer_id": ids["customer_id"]}
        answers[path] = owner.request("POST", path, fields)["statusCode"]

    assert len(answers) > 30
    assert {path: status for path, status in answers.items() if status != 403} == {}
    assert state(account_id, ids) == before

"""The role matrix: every route of the dashboard, walked from its route table, with each role.

* Every page (GET) answers each role exactly as it answers the owner: every role reads everything.
* Every form (POST) is posted by the owner on a fresh copy of the account's things, recording
  which service operations it uses; the permissions those need, by `remit.services.access` and
  `remit.domain.roles`, say whether each other role may post it. A role that may answers as the
  owner did and changes what the owner's post changed; a role that may not is refused (403) and
  nothing changes.

New routes join by themselves; a route whose path names an id this module cannot fill fails until
it is taught here. Signing out is left out: it ends the browser's session, not the account's data.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest

from remit.domain.roles import ROLE_PERMISSIONS, ROLES, Role
from tests.integration.dashboard_browser import Browser
from tests.integration.roles import AccountWithRoles, account_with_roles
from tests.integration.stocked_organisation import stock_organisation

pytestmark = pytest.mark.usefixtures("user_pool", "webhook_queue")


@pytest.fixture
def webhook_queue(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A delivery queue, so the forms that queue a webhook delivery (resend, test event) succeed."""
    import boto3

    from tests.integration.conftest import reset_remit

    url = boto3.client("sqs").create_queue(QueueName="remit-roles-webhooks")["QueueUrl"]
    monkeypatch.setenv("REMIT_WEBHOOK_QUEUE_URL", url)
    reset_remit()


_NOT_COVERED = {"/dashboard/sign-out"}
_counter = itertools.count()


def routes(method: str) -> list[str]:
    from dashboard.app import page_routes

    return [
        route.path
        for route in page_routes()
        if not route.public and route.method == method and route.path not in _NOT_COVERED
    ]


def path_of(pattern: str, ids: dict[str, str]) -> str:
    if "{invoice_id}/credit-notes" in pattern:
        # A credit note is issued on a finalized invoice: the stocked one that has a credit note.
        ids = {**ids, "invoice_id": ids["credited_invoice_id"]}
    path = re.sub(r"\{(\w+)\}", lambda match: ids.get(match[1], f"{{{match[1]}}}"), pattern)
    if pattern.endswith("/exports/download"):
        path += "?kind=invoices&from=2026-01-01&to=2026-12-31"  # answered by a redirect to the file
    return path


def small_png() -> bytes:
    """A 4x4 PNG: a logo for the organisation whose logo a form removes."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "#1a73e8").save(buffer, format="PNG")
    return buffer.getvalue()


def world(people: AccountWithRoles, pattern: str) -> dict[str, str]:
    """A fresh organisation of the account with one of everything and, where `pattern` names them,
    a billing run, a person to act on and an API key: the ids of it all (and the finalized invoice
    its credit note corrects, for the credit note forms of an invoice: see `path_of`).
    """
    from remit.bootstrap import services
    from remit.domain.account import NewApiKey
    from remit.domain.organisation import NewOrganisation
    from remit.domain.users import Invitation

    everything = services()
    account_id = people.account_id
    number = next(_counter)
    organisation = everything.organisations.create(
        account_id, NewOrganisation(name=f"World {number}", default_currency="EUR")
    )
    organisation_id = organisation.id
    if "logo/remove" in pattern:
        everything.organisations.upload_logo(
            account_id, organisation_id, small_png(), "image/png", "http://127.0.0.1:3000"
        )
    ids = {
        "number": str(number),
        **stock_organisation(account_id, organisation_id, with_run="run_id" in pattern),
    }
    ids["credited_invoice_id"] = everything.credit_notes.get(
        account_id, organisation_id, ids["credit_note_id"]
    ).invoice_id
    if "member_id" in pattern:
        invitation = Invitation(email=f"subject-{number}@roles.test", role="viewer")
        ids["member_id"] = everything.account_people.invite(
            account_id, invitation, people.emails["owner"]
        ).member.id
    if "key_id" in pattern:
        key = everything.accounts.create_key(
            account_id, NewApiKey(name=f"Key {number}"), people.emails["owner"]
        )
        ids["key_id"] = key.key.id
    return ids


def state(people: AccountWithRoles, ids: dict[str, str]) -> Any:
    """What a post could change: the world's things and lists, its person and key, the account's
    organisations, people and keys.
    """
    from remit.bootstrap import services

    everything = services()
    account_id, organisation_id = people.account_id, ids["organisation_id"]

    def found(read: Any) -> Any:
        try:
            thing = read()
        except Exception as error:
            return type(error).__name__
        return thing.model_dump() if hasattr(thing, "model_dump") else thing.__dict__

    def every(list_page: Any) -> Any:
        items, cursor = [], None
        while True:
            try:
                page = list_page(cursor)
            except Exception as error:
                return type(error).__name__
            items += [
                item.model_dump() if hasattr(item, "model_dump") else item.__dict__ for item in page.items
            ]
            cursor = page.next_cursor
            if cursor is None:
                return items

    return {
        "organisation": found(lambda: everything.organisations.get(account_id, organisation_id)),
        "customer": found(lambda: everything.customers.get(account_id, organisation_id, ids["customer_id"])),
        "invoice": found(lambda: everything.invoices.get(account_id, organisation_id, ids["invoice_id"])),
        "subscription": found(
            lambda: everything.subscriptions.get(account_id, organisation_id, ids["subscription_id"])
        ),
        "template": found(
            lambda: everything.billing_runs.template(account_id, organisation_id, ids["template_id"])
        ),
        "customers": every(lambda c: everything.customers.list(account_id, organisation_id, 100, c, None)),
        "charges": every(
            lambda c: everything.charges.list_charges(
                account_id, organisation_id, ids["customer_id"], 100, c, None
            )
        ),
        "invoices": every(
            lambda c: everything.invoices.list_invoices(account_id, organisation_id, 100, c, None, None)
        ),
        "payments": every(
            lambda c: everything.payments.list_payments(account_id, organisation_id, 100, c, None, None)
        ),
        "subscriptions": every(lambda c: everything.subscriptions.list(account_id, organisation_id, 100, c)),
        "templates": every(
            lambda c: everything.billing_runs.list_templates(account_id, organisation_id, 100, c)
        ),
        "runs": every(lambda c: everything.billing_runs.list_runs(account_id, organisation_id, 100, c)),
        "credit_notes": every(
            lambda c: everything.credit_notes.list_credit_notes(account_id, organisation_id, 100, c)
        ),
        "refunds": every(lambda c: everything.credit_notes.list_refunds(account_id, organisation_id, 100, c)),
        "organisations": every(lambda c: everything.organisations.list(account_id, 100, c)),
        "people": every(lambda c: everything.account_people.list(account_id, 100, c)),
        "keys": every(lambda c: everything.accounts.list_keys(account_id, 100, c)),
        "webhook_endpoints": [
            e.model_dump() for e in everything.webhook_endpoints.list(account_id, organisation_id)
        ],
    }


def fields(ids: dict[str, str]) -> dict[str, str]:
    """What every form is posted with: enough for most of them to do what they do."""
    return {
        "name": "Renamed",
        "email": f"invitee-{ids['number']}@roles.test",
        "customer_id": ids["customer_id"],
        "endpoint_id": ids["endpoint_id"],
        "customer_ids": ids["customer_id"],
        "description": "Consulting",
        "charge.description": "Consulting",
        "charge.unit_amount": "12.50",
        "credit.amount": "5",
        "credit.description": "Prepayment",
        "method": "bank_transfer",
        "provider": "sandbox",
        "unit_amount": "12.50",
        "amount": "1",
        "currency": "EUR",
        "default_currency": "EUR",
        "line_items.0.description": "Consulting",
        "line_items.0.unit_amount": "12.50",
        "role": "admin",
        "code": "123456",
        "at_period_end": "false",
        "include_open_charges": "true",
        "confirmed": "yes",
    }


@pytest.fixture
def operations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The service operations looked up through the caller's view, in order (a spy on the check)."""
    from remit.services import access

    looked_up: list[str] = []
    check = access.check

    def recording(caller: Any, operation: str) -> None:
        looked_up.append(operation)
        check(caller, operation)

    monkeypatch.setattr(access, "check", recording)
    return looked_up


def may(role: Role, operations: list[str]) -> bool:
    """Whether `role` holds every permission `operations` need, by the domain's tables."""
    from remit.services.access import permission_for

    return all(permission_for(operation) in ROLE_PERMISSIONS[role] for operation in operations)


def post(browser: Browser, csrf_token: str, path: str, form: dict[str, str]) -> int:
    return int(browser.request("POST", path, {**form, "csrf_token": csrf_token})["statusCode"])


def test_every_page_answers_every_role_as_it_answers_the_owner() -> None:
    people = account_with_roles()
    ids = world(people, "(?P<run_id>)(?P<member_id>)(?P<key_id>)")

    answers: dict[str, dict[Role, int]] = {}
    for pattern in routes("GET"):
        path = path_of(pattern, ids)
        answers[path] = {role: people.browsers[role].request("GET", path)["statusCode"] for role in ROLES}

    assert len(answers) >= 30
    differing = {path: by_role for path, by_role in answers.items() if len(set(by_role.values())) != 1}
    assert differing == {}
    # An e-invoice download of a draft is 409; asked no format, of a customer that takes none, 422.
    downloads = {path: by_role for path, by_role in answers.items() if path.endswith("/einvoice")}
    assert {by_role["viewer"] for by_role in downloads.values()} <= {200, 409, 422}
    ok = [path for path, by_role in answers.items() if by_role["viewer"] in (200, 303) or path in downloads]
    assert len(ok) >= len(answers) - 3, answers


def test_every_form_is_allowed_or_refused_to_each_role_as_the_role_table_says(operations: list[str]) -> None:
    people = account_with_roles()
    tokens = {role: browser.csrf for role, browser in people.browsers.items()}

    outcomes: dict[str, dict[Role, tuple[int, bool]]] = {}
    wrong: list[str] = []

    def attempt(role: Role, pattern: str, ids: dict[str, str], before: Any) -> tuple[int, bool]:
        status = post(people.browsers[role], tokens[role], path_of(pattern, ids), fields(ids))
        return status, state(people, ids) != before

    for pattern in routes("POST"):
        operations.clear()
        ids = world(people, pattern)
        outcome = {"owner": attempt("owner", pattern, ids, state(people, ids))}
        used = list(operations)
        allowed = {role: may(role, used) for role in ROLES[1:]}
        # Refusals change nothing, so every refused role tries the same fresh copy.
        refused_ids = world(people, pattern)
        refused_before = state(people, refused_ids)
        for role in [role for role in ROLES[1:] if not allowed[role]]:
            outcome[role] = attempt(role, pattern, refused_ids, refused_before)
            if outcome[role] != (403, False):
                wrong.append(f"{role} {pattern}: {outcome[role]}, expected refused ({used})")
        for role in [role for role in ROLES[1:] if allowed[role]]:
            ids = world(people, pattern)
            outcome[role] = attempt(role, pattern, ids, state(people, ids))
            if outcome[role] != outcome["owner"]:
                wrong.append(f"{role} {pattern}: {outcome[role]}, the owner {outcome['owner']} ({used})")
        outcomes[pattern] = outcome

    assert wrong == []
    assert len(outcomes) >= 40
    changed_by_owner = [pattern for pattern, outcome in outcomes.items() if outcome["owner"][1]]
    assert len(changed_by_owner) >= 35, {p: o["owner"] for p, o in outcomes.items() if not o["owner"][1]}
    # The credit note forms (issue on an invoice, void) act for the owner: their refusals are real.
    credit_note_forms = [pattern for pattern in outcomes if "credit-notes" in pattern]
    assert len(credit_note_forms) == 2
    assert set(credit_note_forms) <= set(changed_by_owner), {p: outcomes[p] for p in credit_note_forms}
    # The viewer changes nothing but their own sign-in security; the rest follow the table.
    assert [p for p in changed_by_owner if outcomes[p]["viewer"][1]] == []
    refused = {role: sum(1 for outcome in outcomes.values() if outcome[role][0] == 403) for role in ROLES}
    assert refused["owner"] == 0
    assert refused["owner"] < refused["admin"] < refused["billing"] < refused["viewer"]

"""Signing in to the customer portal: a one-time link mailed through the outbox to a billing
contact, the same answer for unknown emails, throttling, link reuse and expiry, CSRF, sign-out,
sessions that end with their customer or their portal, and the email lookup that finds a contact's
customer (kept in step with every change of its contacts).
"""

from __future__ import annotations

import os
from typing import Any

import boto3
import pytest

from local.aws_emulation import sent_emails
from local.dev_outbox import sent_email
from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.conftest import SettableClock, new_account, reset_remit
from tests.integration.portal_browser import PortalBrowser, sign_in_links


@pytest.fixture
def acme(api: ApiClient, clock: SettableClock) -> Billing:
    billing = Billing(api, email="billing@acme.test")
    response = api.patch(
        f"{billing.base}/customers/{billing.customer}",
        {"contacts": [{"name": "AP", "email": "Invoices@Globex.test", "preferences": ["billing"]}]},
    )
    assert response.status == 200, response.body
    return billing


def asked(org: str, email: str, client: int) -> tuple[int, str]:
    """A link asked for `email` from a client of its own; the answer's status and page."""
    response = PortalBrowser(client_ip=f"203.0.113.{client}").ask_for_link(org, email)
    return response.status, response.body


def links_to(org: str) -> list[tuple[str, str]]:
    """The (recipient, customer) of every sign-in email the outbox owes for `org`."""
    return sorted((m["to"][0], m["customer_id"]) for m in sign_in_links(org))


def lookups_of(customer_id: str) -> list[str]:
    """The emails of the customer's lookup items in the table (what the sign-in's index finds it by)."""
    client = boto3.client("dynamodb")
    request: dict[str, Any] = {
        "TableName": os.environ["REMIT_BILLING_TABLE"],
        "FilterExpression": "entity = :lookup AND customer_id = :customer",
        "ExpressionAttributeValues": {
            ":lookup": {"S": "customer_recipient"},
            ":customer": {"S": customer_id},
        },
    }
    emails: list[str] = []
    while True:
        page = client.scan(**request)
        emails += [item["email"]["S"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return sorted(emails)
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def signed_in(acme: Billing, email: str = "ap@globex.test") -> PortalBrowser:
    browser = PortalBrowser()
    browser.ask_for_link(acme.org, email)
    [message] = [m for m in sign_in_links(acme.org) if m["to"] == [email.lower()]]
    response = browser.sign_in_with(message["link"])
    assert response.status == 303, response.body
    return browser


def test_a_billing_contact_gets_a_one_time_link_through_the_outbox(acme: Billing) -> None:
    # Given the organisation's portal page
    browser = PortalBrowser()
    page = browser.get(f"/p/{acme.org}")
    assert page.status == 200
    assert "Acme Ltd" in browser.last_page

    # When a billing contact asks for a link (in any case)
    response = browser.post(f"/p/{acme.org}/sign_in", {"email": " invoices@GLOBEX.test "})

    # Then the page says a link is on its way, and the outbox owes one email with it to that contact
    assert response.status == 200
    assert "a sign-in link is on its way" in browser.last_page
    [message] = sign_in_links(acme.org)
    assert message["to"] == ["invoices@globex.test"]
    assert message["customer_id"] == acme.customer
    assert message["link"].startswith(f"https://api.remit.test/p/{acme.org}/sign_in/")
    # ...and the link's secret is nowhere in the page
    assert message["link"].rsplit("/", 1)[1] not in browser.last_page


def test_an_unknown_email_gets_the_same_answer_and_nothing_is_sent(acme: Billing) -> None:
    # Given one browser asking for a known email's link and another for an unknown email's
    known, unknown = PortalBrowser(client_ip="198.51.100.1"), PortalBrowser(client_ip="198.51.100.2")
    known_answer = known.ask_for_link(acme.org, "ap@globex.test")
    unknown_answer = unknown.ask_for_link(acme.org, "nobody@globex.test")

    # Then both see the same status and the same page; only the known email is owed a link
    assert (known_answer.status, known_answer.body) == (unknown_answer.status, unknown_answer.body)
    assert [m["to"] for m in sign_in_links(acme.org)] == [["ap@globex.test"]]


def test_the_link_signs_in_once_and_shows_the_customers_invoices(acme: Billing) -> None:
    # Given an issued invoice and a mailed link
    invoice = acme.finalized()
    browser = PortalBrowser()
    browser.ask_for_link(acme.org, "ap@globex.test")
    [message] = sign_in_links(acme.org)

    # When the link's page is opened, nothing is spent yet (a mail scanner may open it)
    assert browser.get(message["link"].removeprefix("https://api.remit.test")).status == 200
    response = browser.post(message["link"].removeprefix("https://api.remit.test"))

    # Then its button signs in: a Secure, HttpOnly, SameSite cookie, and the invoices page
    assert response.status == 303
    assert response.headers["Location"] == f"/p/{acme.org}/account"
    assert set(browser.cookies) >= {"__Host-remit_portal"}
    account = browser.get(f"/p/{acme.org}/account")
    assert account.status == 200
    assert invoice["number"] in browser.last_page

    # ...and the same link used again (another browser) is not found
    again = PortalBrowser()
    assert again.sign_in_with(message["link"]).status == 404


def test_the_session_cookie_is_host_only_secure_http_only_and_same_site(acme: Billing) -> None:
    browser = PortalBrowser()
    browser.ask_for_link(acme.org, "ap@globex.test")
    [message] = sign_in_links(acme.org)
    path = message["link"].removeprefix("https://api.remit.test")
    browser.get(path)
    response = browser.post(path)

    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-remit_portal=")
    for attribute in ("Path=/", "Secure", "HttpOnly", "SameSite=Lax"):
        assert attribute in cookie


def test_a_link_expires_after_fifteen_minutes(acme: Billing, clock: SettableClock) -> None:
    browser = PortalBrowser()
    browser.ask_for_link(acme.org, "ap@globex.test")
    [message] = sign_in_links(acme.org)

    clock.advance(minutes=15, seconds=1)

    assert browser.sign_in_with(message["link"]).status == 404
    assert browser.get(f"/p/{acme.org}/account").status == 303  # not signed in: back to sign-in


def test_a_link_of_one_organisation_opens_nothing_in_another(acme: Billing, api: ApiClient) -> None:
    other = Billing(api, name="Initech")
    browser = PortalBrowser()
    browser.ask_for_link(acme.org, "ap@globex.test")
    [message] = sign_in_links(acme.org)
    secret = message["link"].rsplit("/", 1)[1]

    browser.get(f"/p/{other.org}/sign_in/{secret}")
    assert browser.post(f"/p/{other.org}/sign_in/{secret}").status == 404
    # ...and the link is spent all the same
    assert browser.sign_in_with(message["link"]).status == 404


def test_a_session_of_one_organisation_reaches_nothing_of_another(acme: Billing, api: ApiClient) -> None:
    other = Billing(api, name="Initech")
    browser = signed_in(acme)

    assert browser.get(f"/p/{other.org}/account").status == 303


def test_asking_for_links_is_throttled_per_email_and_per_client(acme: Billing) -> None:
    # Given three requests for one email (from different clients)
    for number in range(3):
        assert (
            PortalBrowser(client_ip=f"192.0.2.{number}").ask_for_link(acme.org, "ap@globex.test").status
            == 200
        )

    # Then a fourth is refused, known or not, and owes nothing more
    refused = PortalBrowser(client_ip="192.0.2.9").ask_for_link(acme.org, "ap@globex.test")
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "900"
    assert len(sign_in_links(acme.org)) == 3

    # And one client asking for many emails is refused after twenty
    client = PortalBrowser(client_ip="192.0.2.100")
    answers = [client.ask_for_link(acme.org, f"someone{n}@example.test").status for n in range(21)]
    assert answers == [200] * 20 + [429]


def test_the_sign_in_form_needs_its_csrf_token(acme: Billing) -> None:
    browser = PortalBrowser()
    browser.get(f"/p/{acme.org}")

    response = browser.post(f"/p/{acme.org}/sign_in", {"email": "ap@globex.test"}, csrf="forged")

    assert response.status == 403
    assert sign_in_links(acme.org) == []


def test_signing_out_ends_the_session(acme: Billing) -> None:
    browser = signed_in(acme)
    cookie = browser.cookies["__Host-remit_portal"]
    browser.get(f"/p/{acme.org}/account")

    response = browser.post(f"/p/{acme.org}/sign_out")

    assert response.status == 303
    assert "__Host-remit_portal" not in browser.cookies
    # the old cookie opens nothing any more
    browser.cookies["__Host-remit_portal"] = cookie
    assert browser.get(f"/p/{acme.org}/account").status == 303


def test_signing_out_needs_the_sessions_csrf_token(acme: Billing) -> None:
    browser = signed_in(acme)
    browser.get(f"/p/{acme.org}/account")

    assert browser.post(f"/p/{acme.org}/sign_out", csrf="forged").status == 403
    assert browser.get(f"/p/{acme.org}/account").status == 200


def test_deleting_the_customer_ends_its_sessions(acme: Billing) -> None:
    browser = signed_in(acme)
    assert acme.api.delete(f"{acme.base}/customers/{acme.customer}").status == 204

    assert browser.get(f"/p/{acme.org}/account").status == 303


def test_a_disabled_portal_is_not_found_and_ends_its_sessions(acme: Billing) -> None:
    browser = signed_in(acme)

    assert acme.api.patch(acme.base, {"portal": {"enabled": False}}).status == 200

    assert browser.get(f"/p/{acme.org}/account").status == 404
    assert PortalBrowser().get(f"/p/{acme.org}").status == 404


def test_an_unknown_portal_is_not_found(aws: None) -> None:
    assert PortalBrowser().get("/p/org_00000000000000000000000000").status == 404


def test_the_sign_in_email_carries_the_link_in_the_customers_language_and_forgets_it_once_sent(
    acme: Billing, monkeypatch: pytest.MonkeyPatch
) -> None:
    from remit.bootstrap import services

    monkeypatch.setenv("REMIT_MAIL_FROM", "invoices@remit.test")
    reset_remit()

    # Given a German-speaking customer's owed sign-in email
    acme.api.patch(f"{acme.base}/customers/{acme.customer}", {"preferred_locale": "de-DE"})
    PortalBrowser().ask_for_link(acme.org, "ap@globex.test")
    [message] = sign_in_links(acme.org)
    boto3.client("sesv2").create_email_identity(EmailIdentity=services().settings.mail_from)

    # When the notifications deliver it
    assert services().notifications.deliver(acme.org, message["id"]) == "sent"

    # Then it went to the contact with the link, from the organisation
    [raw] = sent_emails()
    shown = sent_email(raw)
    assert shown["to"] == ["ap@globex.test"]
    assert "Acme Ltd" in shown["subject"]
    assert message["link"] in shown["text"]
    assert 'lang="de-DE"' in shown["html"]
    assert message["link"] in shown["html"]
    assert "Acme Ltd" in shown["html"]
    # ...and the table no longer holds the link
    [after] = sign_in_links(acme.org)
    assert after["link"] is None


def test_a_link_used_twice_at_once_signs_in_once(served_aws: None) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from remit.bootstrap import services
    from remit.domain.errors import NotFound

    # Real threads against the moto server (the in-process mock does not serialize its writes)
    acme = Billing(new_account("Concurrent account"))
    PortalBrowser().ask_for_link(acme.org, "ap@globex.test")
    [message] = sign_in_links(acme.org)
    secret = message["link"].rsplit("/", 1)[1]
    portal = services().portal

    def use() -> str:
        try:
            portal.sign_in(acme.org, secret)
        except NotFound:
            return "refused"
        return "signed in"

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = sorted(pool.map(lambda _: use(), range(4)))

    assert outcomes == ["refused", "refused", "refused", "signed in"]


def test_changing_a_contacts_email_moves_the_sign_in_to_the_new_address(acme: Billing) -> None:
    # Given the billing contact's email is changed
    response = acme.api.patch(
        f"{acme.base}/customers/{acme.customer}",
        {"contacts": [{"name": "AP", "email": "Payables@Globex.test", "preferences": ["billing"]}]},
    )
    assert response.status == 200, response.body

    # When the old and the new address ask for a link
    old = asked(acme.org, "invoices@globex.test", 1)
    new = asked(acme.org, "payables@globex.test", 2)

    # Then both see the same answer, and only the new address is owed a link
    assert old == new
    assert links_to(acme.org) == [("payables@globex.test", acme.customer)]
    assert lookups_of(acme.customer) == ["payables@globex.test"]


def test_a_contact_who_stops_taking_billing_emails_gets_no_link(acme: Billing) -> None:
    # Given the billing contact now takes updates only, and another contact was added for legal mail
    contacts = [
        {"name": "AP", "email": "invoices@globex.test", "preferences": ["updates"]},
        {"name": "Legal", "email": "legal@globex.test", "preferences": ["legal"]},
    ]
    response = acme.api.patch(f"{acme.base}/customers/{acme.customer}", {"contacts": contacts})
    assert response.status == 200, response.body

    # When both ask for a link
    asked(acme.org, "invoices@globex.test", 1)
    asked(acme.org, "legal@globex.test", 2)

    # Then neither is owed one, and the customer has no lookup left
    assert links_to(acme.org) == []
    assert lookups_of(acme.customer) == []


def test_deleting_the_customer_removes_its_email_lookups(acme: Billing) -> None:
    # Given a customer found by its contact's email
    assert lookups_of(acme.customer) == ["invoices@globex.test"]

    # When it is deleted
    assert acme.api.delete(f"{acme.base}/customers/{acme.customer}").status == 204

    # Then its lookups are gone, and neither its own email nor its contact's is owed a link
    assert lookups_of(acme.customer) == []
    asked(acme.org, "invoices@globex.test", 1)
    asked(acme.org, "ap@globex.test", 2)
    assert links_to(acme.org) == []


def test_an_email_of_another_organisations_customer_gets_nothing(acme: Billing, api: ApiClient) -> None:
    # Given another organisation of the account whose customer bills a contact of its own
    other = Billing(api, name="Initech")
    response = api.patch(
        f"{other.base}/customers/{other.customer}",
        {"contacts": [{"email": "ar@initech.test", "preferences": ["billing"]}]},
    )
    assert response.status == 200, response.body

    # When that contact asks Acme's portal for a link
    theirs = asked(acme.org, "ar@initech.test", 1)
    unknown = asked(acme.org, "nobody@initech.test", 2)

    # Then the answer is the unknown email's, and nothing is owed by either organisation
    assert theirs == unknown
    assert links_to(acme.org) == []
    assert links_to(other.org) == []
    # ...while its own organisation's portal sends it
    asked(other.org, "ar@initech.test", 3)
    assert links_to(other.org) == [("ar@initech.test", other.customer)]


def test_an_email_billed_by_two_customers_gets_a_link_for_each(acme: Billing) -> None:
    # Given a second customer whose own email is the first one's billing contact
    initech = acme.new_customer(name="Initech", email="INVOICES@globex.test")

    # When that address asks for a link
    asked(acme.org, "invoices@globex.test", 1)

    # Then it is owed one link per customer
    assert links_to(acme.org) == sorted(
        [("invoices@globex.test", acme.customer), ("invoices@globex.test", initech)]
    )


def test_customers_stored_before_the_email_lookups_are_found_once_the_backfill_has_run(
    acme: Billing,
) -> None:
    from remit.admin import backfill_list_indexes

    # Given a customer stored as before the lookups: no lookup item, no list of them on its item
    client = boto3.client("dynamodb")
    table = os.environ["REMIT_BILLING_TABLE"]
    pk = {"S": f"ORG#{acme.org}"}
    client.delete_item(
        TableName=table, Key={"PK": pk, "SK": {"S": f"RECIPIENT#{acme.customer}#invoices@globex.test"}}
    )
    client.update_item(
        TableName=table,
        Key={"PK": pk, "SK": {"S": f"CUSTOMER#{acme.customer}"}},
        UpdateExpression="REMOVE recipient_lookups",
    )
    asked(acme.org, "invoices@globex.test", 1)
    assert links_to(acme.org) == []

    # When the backfill runs (twice)
    first = backfill_list_indexes(table)
    second = backfill_list_indexes(table)

    # Then the contact is found again, and the second run had nothing to do
    assert first == 1
    assert second is None
    assert lookups_of(acme.customer) == ["invoices@globex.test"]
    asked(acme.org, "invoices@globex.test", 2)
    assert links_to(acme.org) == [("invoices@globex.test", acme.customer)]


def test_concurrent_contact_changes_leave_only_the_last_ones_lookups(served_aws: None) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from remit.bootstrap import services
    from remit.domain.customer import CustomerChanges

    # Given a customer, and four changes of its billing contact made at once (real threads
    # against the moto server)
    account = new_account("Concurrent contacts")
    acme = Billing(account)
    customers = services().customers
    emails = [f"contact{n}@globex.test" for n in range(4)]

    def change(email: str) -> None:
        contacts = [{"email": email, "preferences": ["billing"]}]
        changes = CustomerChanges.model_validate({"contacts": contacts})
        customers.update_by_customer(acme.org, acme.customer, changes)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(change, emails))

    # Then the lookups are exactly the contact the customer ended with: none of the others is left
    [last] = acme.api.get(f"{acme.base}/customers/{acme.customer}").json()["contacts"]
    assert last["email"] in emails
    assert lookups_of(acme.customer) == [last["email"]]

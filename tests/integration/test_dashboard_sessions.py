"""Dashboard sessions through the dashboard function: sign-in (ok, refused, throttled), the CSRF
check, sign-out, and an account reaching only its own organisations.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import SettableClock
from tests.integration.dashboard_browser import PASSWORD, Browser, csrf_token

pytestmark = pytest.mark.usefixtures("user_pool")


@pytest.fixture
def ada() -> tuple[str, str]:
    """A user of a fresh account that owns one organisation: (email, organisation id)."""
    from remit.bootstrap import services
    from remit.domain.organisation import NewOrganisation

    account = services().accounts.create_account("Ada's account")
    organisation = services().organisations.create(
        account.account_id, NewOrganisation(name="Ada Ltd", default_currency="EUR")
    )
    services().users.create_user("ada@example.com", account.account_id, PASSWORD)
    return "ada@example.com", organisation.id


def test_a_user_signs_in_and_sees_their_organisations(ada: tuple[str, str]) -> None:
    browser = Browser()

    response = browser.sign_in(ada[0], PASSWORD)

    assert response["statusCode"] == 303
    cookie = response["headers"]["Set-Cookie"]
    assert cookie.startswith("__Host-remit_session=")
    for attribute in ("HttpOnly", "Secure", "SameSite=Lax", "Path=/"):
        assert attribute in cookie
    home = browser.request("GET", "/dashboard")
    assert home["statusCode"] == 200
    assert f'href="/dashboard/organisations/{ada[1]}"' in home["body"]
    assert "Ada Ltd" in home["body"]


def test_the_session_table_holds_the_id_only_as_a_digest(ada: tuple[str, str]) -> None:
    import boto3

    browser = Browser()
    browser.sign_in(ada[0], PASSWORD)

    items = boto3.client("dynamodb").scan(TableName="remit-sessions")["Items"]
    session_id = browser.cookies["__Host-remit_session"]
    assert items
    assert session_id not in json.dumps(items)


def test_a_wrong_password_is_refused_and_no_session_is_opened(ada: tuple[str, str]) -> None:
    browser = Browser()

    response = browser.sign_in(ada[0], "Wrong-horse-99")

    assert response["statusCode"] == 401
    assert "The email or password is not right." in response["body"]
    assert "__Host-remit_session" not in browser.cookies
    assert browser.request("GET", "/dashboard")["statusCode"] == 303


def test_after_five_failures_even_the_right_password_is_refused_with_the_same_message(
    ada: tuple[str, str],
) -> None:
    browser = Browser()
    for _ in range(5):
        assert browser.sign_in(ada[0], "Wrong-horse-99")["statusCode"] == 401

    response = browser.sign_in(ada[0], PASSWORD)

    assert response["statusCode"] == 401
    assert "The email or password is not right." in response["body"]
    assert "__Host-remit_session" not in browser.cookies


def test_a_sign_in_without_its_csrf_token_is_refused(ada: tuple[str, str]) -> None:
    browser = Browser()
    browser.request("GET", "/dashboard/sign-in")

    response = browser.request("POST", "/dashboard/sign-in", {"email": ada[0], "password": PASSWORD})

    assert response["statusCode"] == 403
    assert "__Host-remit_session" not in browser.cookies


def test_a_sign_out_without_its_csrf_token_is_refused_and_the_session_lives_on(ada: tuple[str, str]) -> None:
    browser = Browser()
    browser.sign_in(ada[0], PASSWORD)

    response = browser.request("POST", "/dashboard/sign-out", {})
    forged = browser.request("POST", "/dashboard/sign-out", {"csrf_token": "guessed"})

    assert (response["statusCode"], forged["statusCode"]) == (403, 403)
    assert browser.request("GET", "/dashboard")["statusCode"] == 200


def test_sign_out_ends_the_session(ada: tuple[str, str]) -> None:
    browser = Browser()
    browser.sign_in(ada[0], PASSWORD)
    session_cookie = browser.cookies["__Host-remit_session"]
    token = csrf_token(browser.request("GET", "/dashboard")["body"])

    response = browser.request("POST", "/dashboard/sign-out", {"csrf_token": token})

    assert response["statusCode"] == 303
    assert response["headers"]["Location"] == "/dashboard/sign-in"
    # Even a copy of the old cookie no longer opens anything.
    browser.cookies["__Host-remit_session"] = session_cookie
    assert browser.request("GET", "/dashboard")["statusCode"] == 303


def test_another_accounts_organisation_answers_the_not_found_page(ada: tuple[str, str]) -> None:
    from remit.bootstrap import services

    other = services().accounts.create_account("Other account")
    services().users.create_user("eve@example.com", other.account_id, PASSWORD)
    eve = Browser()
    eve.sign_in("eve@example.com", PASSWORD)

    theirs = eve.request("GET", f"/dashboard/organisations/{ada[1]}")
    nobody = eve.request("GET", "/dashboard/organisations/org_nobody")

    assert theirs["statusCode"] == 404
    assert theirs["body"] == nobody["body"]
    assert "Ada Ltd" not in eve.request("GET", "/dashboard")["body"]
    ada_browser = Browser()
    ada_browser.sign_in(ada[0], PASSWORD)
    assert ada_browser.request("GET", f"/dashboard/organisations/{ada[1]}")["statusCode"] == 200


def test_a_session_near_its_access_tokens_end_is_refreshed_and_ends_after_twelve_hours(
    ada: tuple[str, str], clock: SettableClock
) -> None:
    import boto3

    browser = Browser()
    browser.sign_in(ada[0], PASSWORD)

    def stored_access_token() -> str:
        (item,) = boto3.client("dynamodb").scan(
            TableName="remit-sessions",
            ScanFilter={"SK": {"AttributeValueList": [{"S": "SESSION"}], "ComparisonOperator": "EQ"}},
        )["Items"]
        return item["access_token"]["S"]

    first = stored_access_token()
    clock.advance(minutes=56)

    assert browser.request("GET", "/dashboard")["statusCode"] == 200
    assert stored_access_token() != first
    clock.advance(hours=12)
    assert browser.request("GET", "/dashboard")["statusCode"] == 303

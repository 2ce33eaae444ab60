"""A browser for the dashboard function in tests: it keeps cookies, reads CSRF tokens, signs in.

browser = Browser()
browser.sign_in(email, PASSWORD)
page = browser.request("GET", f"/dashboard/organisations/{organisation_id}/customers")
browser.post(path, {"name": "Globex"})   # with the session's CSRF token, confirmed
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from tests.integration.api_client import LambdaContext

SAMPLE = Path(__file__).resolve().parents[2] / "events" / "dashboard" / "sign_in_page.json"
PASSWORD = "Correct-horse-9"


class Browser:
    """Keeps the dashboard's cookies between requests, as a browser does."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, fields: dict[str, str] | list[tuple[str, str]] | None = None
    ) -> dict[str, Any]:
        from dashboard.app import lambda_handler

        event: dict[str, Any] = copy.deepcopy(json.loads(SAMPLE.read_text()))
        path, _, query = path.partition("?")
        parameters = dict(parse_qsl(query)) or None
        event.update(
            httpMethod=method,
            path=path,
            body=urlencode(fields) if fields is not None else None,
            queryStringParameters=parameters,
        )
        event["headers"]["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        event["requestContext"].update(requestId=str(uuid.uuid4()), path=path)
        response: dict[str, Any] = lambda_handler(event, LambdaContext(str(uuid.uuid4()), "remit-dashboard"))
        cookie = response["headers"].get("Set-Cookie")
        if cookie:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in cookie:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response

    def sign_in(self, email: str, password: str) -> dict[str, Any]:
        page = self.request("GET", "/dashboard/sign-in")
        token = csrf_token(page["body"])
        return self.request(
            "POST", "/dashboard/sign-in", {"email": email, "password": password, "csrf_token": token}
        )

    def post(
        self, path: str, fields: dict[str, str] | list[tuple[str, str]] | None = None, confirmed: bool = True
    ) -> dict[str, Any]:
        """POST a signed-in form with the session's CSRF token (and `confirmed=yes` unless told not)."""
        pairs = list(fields.items()) if isinstance(fields, dict) else list(fields or [])
        pairs.append(("csrf_token", self.csrf))
        if confirmed:
            pairs.append(("confirmed", "yes"))
        return self.request("POST", path, pairs)

    @property
    def csrf(self) -> str:
        """The session's CSRF token, as any signed-in page carries it."""
        return csrf_token(self.request("GET", "/dashboard/")["body"])


def csrf_token(body: str) -> str:
    marker = 'name="csrf_token" value="'
    start = body.index(marker) + len(marker)
    return body[start : body.index('"', start)]


def text_of(body: str) -> str:
    """A page's text without its tags and with runs of white space as one space, for assertions."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()


def account_with_user(
    email: str, organisation_name: str = "Ada Ltd", currency: str = "EUR"
) -> tuple[str, str]:
    """A fresh account owning one organisation, and a dashboard user of it: (account id, organisation id).
    Needs the `user_pool` fixture.
    """
    from remit.bootstrap import services
    from remit.domain.organisation import NewOrganisation

    account = services().accounts.create_account(f"{organisation_name}'s account")
    organisation = services().organisations.create(
        account.account_id, NewOrganisation(name=organisation_name, default_currency=currency)
    )
    services().users.create_user(email, account.account_id, PASSWORD)
    return account.account_id, organisation.id


def signed_in(email: str) -> Browser:
    browser = Browser()
    response = browser.sign_in(email, PASSWORD)
    assert response["statusCode"] == 303, response["body"]
    return browser

"""The dashboard function: `/dashboard` and `/dashboard/{proxy+}`, server-rendered HTML for people.

It calls the same services as the API (`remit.bootstrap.services()`), never the API over HTTP, so
a change made in one shows in the other at once. Pages hold no script and load nothing from
another origin; every response carries `PAGE_HEADERS`.

Sessions are server-side (`remit.services.dashboard_sessions`): the `__Host-remit_session` cookie
holds a random id only. Every POST form carries a CSRF token, checked before any service call:
the session's own once signed in, and before that the sign-in form's, which must match the
`__Host-remit_sign_in` cookie (so no other site can sign a browser in to its own account).
`docs/dashboard.md` says what comes next.
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from remit import snapstart
from remit.observability import logger

if TYPE_CHECKING:
    from jinja2 import Environment

    from remit.domain.sessions import DashboardSession

# SnapStart: the snapshot holds the templates; a restore renews random state, clients and settings.
snapstart.register_hooks()

TEMPLATES = Path(__file__).resolve().parent / "templates"

# Like the hosted page's: no script at all, styles inline, forms post only to this origin, never
# framed. Pages are private to the signed-in person, so nothing is cached.
PAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

SESSION_COOKIE = "__Host-remit_session"
SIGN_IN_COOKIE = "__Host-remit_sign_in"
# `__Host-`: Secure, no Domain, Path=/ — the browser keeps it for this origin only.
_COOKIE_ATTRIBUTES = "Path=/; Secure; HttpOnly; SameSite=Lax"

Page = dict[str, Any]
Handler = Callable[[dict[str, Any], re.Match[str]], Page]


@cache
def templates() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
    )


def html(status: int, template: str, **context: Any) -> Page:
    body = templates().get_template(template).render(**context)
    return {"statusCode": status, "headers": dict(PAGE_HEADERS), "body": body, "isBase64Encoded": False}


def redirect(location: str) -> Page:
    # 303: after a form post too, the browser follows with a GET.
    headers = {key: value for key, value in PAGE_HEADERS.items() if key != "Content-Type"}
    return {
        "statusCode": 303,
        "headers": {**headers, "Location": location},
        "body": "",
        "isBase64Encoded": False,
    }


def not_found() -> Page:
    return html(404, "not_found.html", title="Not found")


def forbidden() -> Page:
    return html(403, "forbidden.html", title="Form expired")


def with_cookie(page: Page, name: str, value: str, max_age: int) -> Page:
    page["headers"]["Set-Cookie"] = f"{name}={value}; Max-Age={max_age}; {_COOKIE_ATTRIBUTES}"
    return page


def cookies(event: dict[str, Any]) -> dict[str, str]:
    headers = {str(name).lower(): value for name, value in (event.get("headers") or {}).items()}
    found: dict[str, str] = {}
    for part in str(headers.get("cookie") or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name and name not in found:
            found[name] = value
    return found


def form(event: dict[str, Any]) -> dict[str, str]:
    """The posted form's fields (`application/x-www-form-urlencoded`), the first value of each."""
    from urllib.parse import parse_qs

    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", errors="replace")
    return {name: values[0] for name, values in parse_qs(body, max_num_fields=50).items()}


def signed_in(event: dict[str, Any]) -> DashboardSession | None:
    from remit.bootstrap import services

    return services().dashboard_sessions.current(cookies(event).get(SESSION_COOKIE))


def show_start(event: dict[str, Any], match: re.Match[str]) -> Page:
    from remit.bootstrap import services

    session = signed_in(event)
    if session is None:
        return redirect("/dashboard/sign-in")
    organisations = services().organisations.list(session.account_id, 100, None)
    return html(200, "home.html", title="Organisations", session=session, organisations=organisations.items)


def show_organisation(event: dict[str, Any], match: re.Match[str]) -> Page:
    from remit.bootstrap import services
    from remit.domain.errors import NotFound

    session = signed_in(event)
    if session is None:
        return redirect("/dashboard/sign-in")
    try:
        organisation = services().organisations.get(session.account_id, match["organisation_id"])
    except NotFound:
        return not_found()
    return html(200, "organisation.html", title=organisation.name, session=session, organisation=organisation)


def show_sign_in(event: dict[str, Any], match: re.Match[str]) -> Page:
    if signed_in(event) is not None:
        return redirect("/dashboard/")
    return sign_in_form(event, 200, email="", error=None)


def sign_in_form(event: dict[str, Any], status: int, email: str, error: str | None) -> Page:
    token = cookies(event).get(SIGN_IN_COOKIE) or secrets.token_urlsafe(32)
    page = html(status, "sign_in.html", title="Sign in", email=email, error=error, csrf_token=token)
    return with_cookie(page, SIGN_IN_COOKIE, token, 3600)


def sign_in(event: dict[str, Any], match: re.Match[str]) -> Page:
    from remit.bootstrap import services
    from remit.domain.errors import DomainError
    from remit.domain.sessions import SESSION_LIFETIME

    fields = form(event)
    expected = cookies(event).get(SIGN_IN_COOKIE, "")
    presented = fields.get("csrf_token", "")
    if not expected or not hmac.compare_digest(expected.encode(), presented.encode()):
        return forbidden()
    email = fields.get("email", "")
    try:
        session_id, _ = services().dashboard_sessions.sign_in(email, fields.get("password", ""))
    except DomainError as refused:
        # A wrong password, an unknown email and a throttled email read the same.
        return sign_in_form(event, 401, email=email, error=refused.detail)
    lifetime = int(SESSION_LIFETIME.total_seconds())
    return with_cookie(redirect("/dashboard/"), SESSION_COOKIE, session_id, lifetime)


def sign_out(event: dict[str, Any], match: re.Match[str]) -> Page:
    from remit.bootstrap import services
    from remit.domain.sessions import CsrfRefused

    session = signed_in(event)
    if session is None:
        return redirect("/dashboard/sign-in")
    sessions = services().dashboard_sessions
    try:
        sessions.check_csrf(session, form(event).get("csrf_token"))
    except CsrfRefused:
        return forbidden()
    sessions.sign_out(session)
    return with_cookie(redirect("/dashboard/sign-in"), SESSION_COOKIE, "", 0)


ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    ("GET", re.compile(r"^/dashboard/?$"), show_start),
    ("GET", re.compile(r"^/dashboard/sign-in$"), show_sign_in),
    ("POST", re.compile(r"^/dashboard/sign-in$"), sign_in),
    ("POST", re.compile(r"^/dashboard/sign-out$"), sign_out),
    (
        "GET",
        re.compile(r"^/dashboard/organisations/(?P<organisation_id>[A-Za-z0-9_-]{1,64})$"),
        show_organisation,
    ),
]


def route(event: dict[str, Any]) -> Page:
    """The page for the event's method and path: the not-found page for any other path, 405 for
    another method on a known path.
    """
    method = str(event.get("httpMethod") or "GET").upper()
    path = str(event.get("path") or "/")
    allowed: list[str] = []
    for route_method, pattern, handler in ROUTES:
        match = pattern.match(path)
        if match is None:
            continue
        allowed.append(route_method)
        if route_method == method or (method == "HEAD" and route_method == "GET"):
            return handler(event, match)
    if allowed:
        page = html(405, "not_found.html", title="Not allowed")
        page["headers"]["Allow"] = ", ".join(allowed)
        return page
    return not_found()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Page:
    return route(event)

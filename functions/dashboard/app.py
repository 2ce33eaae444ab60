"""The dashboard function: `/dashboard` and `/dashboard/{proxy+}`, server-rendered HTML for people.

It calls the same services as the API (`remit.bootstrap.services()`), never the API over HTTP, so
a change made in one shows in the other at once. Pages hold no script and load nothing from
another origin; every response carries `PAGE_HEADERS`.

What exists so far: the sign-in page (its form, not yet its authentication) and the not-found
page. `docs/dashboard.md` says what comes next.
"""

from __future__ import annotations

import re
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


def show_start(event: dict[str, Any], match: re.Match[str]) -> Page:
    return redirect("/dashboard/sign-in")


def show_sign_in(event: dict[str, Any], match: re.Match[str]) -> Page:
    return html(200, "sign_in.html", title="Sign in", email="", error=None)


ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    ("GET", re.compile(r"^/dashboard/?$"), show_start),
    ("GET", re.compile(r"^/dashboard/sign-in$"), show_sign_in),
]


def route(event: dict[str, Any]) -> Page:
    """The page for the event's method and path: the not-found page for any other path, 405 for
    another method on a known path.
    """
    method = str(event.get("httpMethod") or "GET").upper()
    path = str(event.get("path") or "/")
    known_path = False
    for route_method, pattern, handler in ROUTES:
        match = pattern.match(path)
        if match is None:
            continue
        known_path = True
        if route_method == method or (method == "HEAD" and route_method == "GET"):
            return handler(event, match)
    if known_path:
        page = html(405, "not_found.html", title="Not allowed")
        page["headers"]["Allow"] = "GET"
        return page
    return not_found()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Page:
    return route(event)

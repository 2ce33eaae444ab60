"""What a page answers: HTML rendered from `templates/` with the page headers, a 303 after a change,
the not-found and "Form expired" pages, cookies.

A handler answers a `Page` (a Powertools `Response`): `render(...)` for HTML, `see_other(...)`
after a change (POST, then redirect, then GET: a reload never repeats a change). Templates write
every link of this origin as `{{ url('/dashboard/…') }}` (`PageRequest.url`), which puts it under
the stage where there is one; the `Location` of a redirect goes through the same helper
(`dashboard.checks.read_request`). Autoescaping is on for every template.
"""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.shared.cookies import Cookie, SameSite
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from dashboard.formats import local_date, local_time, major, money
from dashboard.forms import row_count, row_fields
from dashboard.page_request import PageRequest
from remit.bootstrap import services

TEMPLATES = Path(__file__).resolve().parent / "templates"
ASSETS = Path(__file__).resolve().parent / "assets"
HTMX = "htmx-2.0.11.min.js"

# No inline script and nothing from another origin: scripts only from this origin (the vendored
# htmx), styles inline, forms post only here, never framed. Pages are private: nothing cached.
PAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

SESSION_COOKIE = "__Host-remit_session"
SIGN_IN_COOKIE = "__Host-remit_sign_in"
NOTICE_COOKIE = "__Host-remit_notice"

# What a handler answers: an HTML page, a redirect, a file.
Page = Response[Any]


@cache
def templates() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals.update(
        htmx=HTMX, query_string=query_string, row_count=row_count, row_fields=row_fields
    )
    environment.filters.update(money=money, local_date=local_date, local_time=local_time, major=major)
    return environment


def render(request: PageRequest, status: int, template: str, **context: Any) -> Page:
    context.setdefault("session", request.session)
    context.setdefault("organisation", request.organisation)
    notice = _notice(request)
    context.setdefault("notice", notice)
    context.setdefault("request", request)
    context.setdefault("url", request.url)
    context.setdefault("all_organisations", lambda: _organisations(request))
    context.setdefault("section", None)
    context.setdefault("may", request.may)
    body = templates().get_template(template).render(**context)
    page = Response(status_code=status, headers=dict(PAGE_HEADERS), body=body)
    if notice is not None:
        with_cookie(page, NOTICE_COOKIE, "", 0)  # shown once
    return page


def confirm(request: PageRequest, question: str, button: str, back: str, detail: str = "") -> Page | None:
    """The confirmation page for a change posted without `confirmed=yes` (None once confirmed).

    The page posts the same fields again with `confirmed=yes`: every change is confirmed, with
    script or without, and the first post changes nothing.
    """
    if request.field("confirmed") == "yes":
        return None
    fields = {
        name: values for name, values in request.form.items() if name not in {"csrf_token", "confirmed"}
    }
    return render(
        request,
        200,
        "confirm.html",
        title=question,
        question=question,
        button=button,
        back=back,
        detail=detail,
        path=request.path,
        fields=fields,
    )


def _organisations(request: PageRequest) -> list[Any]:
    if request.session is None:
        return []
    return services().organisations.list(request.account_id, 100, None).items


def see_other(location: str, notice: str | None = None) -> Page:
    """303 to `location` (a path of the dashboard; the stage is added on the way out): after a POST
    too the browser follows with a GET. `notice` is a short statement of what changed, shown once on
    the next page: it travels in a cookie only this origin can set, never in the URL, so no link
    can put words on a page.
    """
    headers = {key: value for key, value in PAGE_HEADERS.items() if key != "Content-Type"}
    page = Response(status_code=303, headers={**headers, "Location": location}, body="")
    if notice:
        encoded = base64.urlsafe_b64encode(notice.encode("utf-8")).decode("ascii")
        with_cookie(page, NOTICE_COOKIE, encoded, 60)
    return page


def download(
    content: bytes,
    media_type: str,
    file_name: str,
    *,
    inline: bool = False,
    headers: dict[str, str] | None = None,
) -> Response[bytes]:
    """A file, as the API answers it: never cached, its type not sniffed; shown in the browser
    when `inline` (a PDF), else saved as `file_name`."""
    return Response(
        status_code=200,
        headers={
            "Content-Type": media_type,
            "Content-Disposition": f'{"inline" if inline else "attachment"}; filename="{file_name}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
            **(headers or {}),
        },
        body=content,  # bytes: Powertools answers them base64-encoded, as API Gateway expects
    )


def _notice(request: PageRequest) -> str | None:
    encoded = request.cookies.get(NOTICE_COOKIE)
    if not encoded:
        return None
    try:
        return base64.urlsafe_b64decode(encoded.encode("ascii")).decode("utf-8")[:500]
    except ValueError:
        return None


def not_found(request: PageRequest) -> Page:
    return render(request, 404, "not_found.html", title="Not found")


def forbidden(request: PageRequest) -> Page:
    return render(request, 403, "forbidden.html", title="Form expired")


def with_cookie(page: Page, name: str, value: str, max_age: int) -> Page:
    """`page` setting cookie `name`: `__Host-` (Secure, no Domain, Path=/), so the browser keeps it
    for this origin only, out of reach of script, and sends it on this site's own navigations.
    """
    page.cookies.append(
        Cookie(
            name,
            value,
            path="/",
            secure=True,
            http_only=True,
            max_age=max_age,
            same_site=SameSite.LAX_MODE,
        )
    )
    return page


def query_string(**parameters: Any) -> str:
    present = {name: value for name, value in parameters.items() if value not in (None, "")}
    return ("?" + urlencode(present)) if present else ""

"""The dashboard's request handling: routes, sessions, CSRF, the organisation in the path, pages.

A page module declares its handlers with `@route("GET", "/organisations/{organisation_id}/…")`.
Unless `public=True`, a handler runs only for a signed-in person (others are sent to the sign-in
page), and only after:

* the CSRF check, for every POST: the form's `csrf_token` must be the session's, compared in
  constant time, before any service is called ("Form expired" page, nothing changed, otherwise);
* the organisation check, for every path naming `{organisation_id}`: it must be one of the
  person's account's, or the answer is the not-found page, exactly as for an id that does not
  exist.

Handlers reach the services as the signed-in person (`request.services`), so their role is
checked by the services at every operation; a refusal is the error page, 403, nothing changed.
Templates hide what the role cannot use (`may("billing.write")`).

A handler answers a `Page`: `render(...)` for HTML, `see_other(...)` after a change (POST, then
redirect, then GET: a reload never repeats a change). A `DomainError` a handler lets through
becomes the error page with the API's own message and status; `NotFound` the not-found page.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from jinja2 import Environment

    from remit.bootstrap import Services
    from remit.domain.organisation import Organisation
    from remit.domain.roles import Caller, Permission
    from remit.domain.sessions import DashboardSession

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
# `__Host-`: Secure, no Domain, Path=/ — the browser keeps it for this origin only.
_COOKIE_ATTRIBUTES = "Path=/; Secure; HttpOnly; SameSite=Lax"
_ID = r"[A-Za-z0-9_-]{1,64}"
MAX_FORM_FIELDS = 400

Page = dict[str, Any]


@dataclass
class Request:
    event: dict[str, Any]
    params: dict[str, str]
    session: DashboardSession | None = None
    organisation: Organisation | None = None
    caller: Caller | None = None

    @property
    def account_id(self) -> str:
        assert self.session is not None  # noqa: S101 - handlers without `public` always have one
        return self.session.account_id

    @property
    def services(self) -> Services:
        """The services as the signed-in person may use them: their role is checked at each operation."""
        from remit.bootstrap import services

        assert self.caller is not None  # noqa: S101 - handlers without `public` always have one
        return services().acting_as(self.caller)

    def may(self, permission: Permission) -> bool:
        """Whether the signed-in person's role holds `permission` (for what a page offers)."""
        return self.caller is not None and self.caller.may(permission)

    @property
    def org(self) -> Organisation:
        assert self.organisation is not None  # noqa: S101 - routes naming {organisation_id} have one
        return self.organisation

    @cached_property
    def query(self) -> dict[str, str]:
        parameters = self.event.get("queryStringParameters") or {}
        return {str(name): str(value) for name, value in parameters.items() if value is not None}

    @cached_property
    def form(self) -> dict[str, list[str]]:
        """The posted form's text fields, every value of each: `application/x-www-form-urlencoded`,
        or the text parts of `multipart/form-data` (its files are in `files`).
        """
        if self._multipart is not None:
            return self._multipart[0]
        body = self.event.get("body") or ""
        if self.event.get("isBase64Encoded"):
            body = base64.b64decode(body).decode("utf-8", errors="replace")
        return parse_qs(body, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)

    @cached_property
    def files(self) -> dict[str, list[Upload]]:
        """The files of a `multipart/form-data` form, by field name (none for another body)."""
        return self._multipart[1] if self._multipart is not None else {}

    @cached_property
    def _multipart(self) -> tuple[dict[str, list[str]], dict[str, list[Upload]]] | None:
        headers = {str(name).lower(): str(value) for name, value in (self.event.get("headers") or {}).items()}
        content_type = headers.get("content-type", "")
        if content_type.split(";", 1)[0].strip().lower() != "multipart/form-data":
            return None
        return parse_multipart(content_type, self._body_bytes())

    def _body_bytes(self) -> bytes:
        body = self.event.get("body") or ""
        if self.event.get("isBase64Encoded"):
            return base64.b64decode(body)
        return body.encode("utf-8")

    def field(self, name: str, default: str = "") -> str:
        values = self.form.get(name)
        return values[-1] if values else default

    @property
    def htmx(self) -> bool:
        headers = {str(name).lower(): value for name, value in (self.event.get("headers") or {}).items()}
        return headers.get("hx-request") == "true" and headers.get("hx-boosted") != "true"

    def org_path(self, *parts: str) -> str:
        return "/".join([f"/dashboard/organisations/{self.org.id}", *parts]).rstrip("/")


@dataclass(frozen=True)
class Upload:
    """A file of a `multipart/form-data` form: its bytes and what the browser said of them."""

    filename: str
    content_type: str
    content: bytes


def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, list[str]], dict[str, list[Upload]]]:
    """A `multipart/form-data` body (RFC 7578) as (text fields, files), read by the standard
    library's MIME parser; a part naming a file is a file, even an empty one. At most
    `MAX_FORM_FIELDS` parts are read; a body that is not multipart has none.
    """
    from email.parser import BytesParser
    from email.policy import HTTP

    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    fields: dict[str, list[str]] = {}
    files: dict[str, list[Upload]] = {}
    if not message.is_multipart():
        return fields, files
    for count, part in enumerate(message.iter_parts()):
        if count >= MAX_FORM_FIELDS:
            break
        name = part.get_param("name", header="content-disposition")
        if part.get_content_disposition() != "form-data" or not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files.setdefault(name, []).append(Upload(filename, part.get_content_type(), content))
        else:
            text = content.decode(part.get_content_charset() or "utf-8", errors="replace")
            fields.setdefault(name, []).append(text)
    return fields, files


Handler = Callable[[Request], Page]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    public: bool = False


ROUTES: list[Route] = []


def route(method: str, path: str, *, public: bool = False) -> Callable[[Handler], Handler]:
    """Register `handler` for `method` on `/dashboard<path>`; `{name}` matches an id."""
    regex = re.sub(r"\{(\w+)\}", lambda m: f"(?P<{m[1]}>{_ID})", path.rstrip("/"))
    pattern = re.compile(f"^/dashboard{regex}/?$")

    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(method, pattern, handler, public))
        return handler

    return register


# Pages ------------------------------------------------------------------------------------------


@cache
def templates() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    from dashboard.forms import row_count, row_fields

    environment.globals.update(
        htmx=HTMX, query_string=query_string, row_count=row_count, row_fields=row_fields
    )
    environment.filters.update(money=money, local_date=local_date, local_time=local_time, major=major)
    return environment


def render(request: Request | None, status: int, template: str, **context: Any) -> Page:
    context.setdefault("session", request.session if request else None)
    context.setdefault("organisation", request.organisation if request else None)
    notice = _notice(request)
    context.setdefault("notice", notice)
    context.setdefault("request", request)
    context.setdefault("all_organisations", lambda: _organisations(request))
    context.setdefault("section", None)
    context.setdefault("may", request.may if request else lambda permission: False)
    body = _under_stage(templates().get_template(template).render(**context), request)
    page = {"statusCode": status, "headers": dict(PAGE_HEADERS), "body": body, "isBase64Encoded": False}
    if notice is not None:
        with_cookie(page, NOTICE_COOKIE, "", 0)  # shown once
    return page


def confirm(request: Request, question: str, button: str, back: str, detail: str = "") -> Page | None:
    """The confirmation page for a change posted without `confirmed=yes` (None once confirmed).

    The page posts the same fields again with `confirmed=yes`: every change is confirmed, with
    script or without, and the first post changes nothing.
    """
    if request.field("confirmed") == "yes":
        return None
    fields = {
        name: values for name, values in request.form.items() if name not in {"csrf_token", "confirmed"}
    }
    path = str(request.event.get("path") or "")
    return render(
        request,
        200,
        "confirm.html",
        title=question,
        question=question,
        button=button,
        back=back,
        detail=detail,
        path=path,
        fields=fields,
    )


def _organisations(request: Request | None) -> list[Any]:
    from remit.bootstrap import services

    if request is None or request.session is None:
        return []
    return services().organisations.list(request.account_id, 100, None).items


def see_other(location: str, notice: str | None = None) -> Page:
    """303 to `location`: after a POST too the browser follows with a GET. `notice` is a short
    statement of what changed, shown once on the next page: it travels in a cookie only this
    origin can set, never in the URL, so no link can put words on a page.
    """
    headers = {key: value for key, value in PAGE_HEADERS.items() if key != "Content-Type"}
    page = {
        "statusCode": 303,
        "headers": {**headers, "Location": location},
        "body": "",
        "isBase64Encoded": False,
    }
    if notice:
        encoded = base64.urlsafe_b64encode(notice.encode("utf-8")).decode("ascii")
        with_cookie(page, NOTICE_COOKIE, encoded, 60)
    return page


# A page's own paths, in the attributes that hold them: `href="/dashboard/…"`, `src="/assets/…"`.
_OWN_PATHS = re.compile(r'((?:href|src|action|hx-get|hx-post)=")/(dashboard|assets)\b')


def _stage(request: Request | None) -> str:
    from remit.public_url import stage_prefix

    if request is None:
        return ""
    context = request.event.get("requestContext") or {}
    return stage_prefix(context.get("domainName"), context.get("stage"))


def _under_stage(body: str, request: Request | None) -> str:
    """The page with its own paths under the stage on API Gateway's own host (`/prod/dashboard/…`):
    templates write root paths, this is the one place that knows where the root is.
    """
    prefix = _stage(request)
    return _OWN_PATHS.sub(lambda match: f"{match[1]}{prefix}/{match[2]}", body) if prefix else body


def _notice(request: Request | None) -> str | None:
    encoded = cookies(request.event).get(NOTICE_COOKIE) if request else None
    if not encoded:
        return None
    try:
        return base64.urlsafe_b64decode(encoded.encode("ascii")).decode("utf-8")[:500]
    except ValueError:
        return None


def not_found(request: Request | None = None) -> Page:
    return render(request, 404, "not_found.html", title="Not found")


def forbidden(request: Request | None = None) -> Page:
    return render(request, 403, "forbidden.html", title="Form expired")


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


def query_string(**parameters: Any) -> str:
    present = {name: value for name, value in parameters.items() if value not in (None, "")}
    return ("?" + urlencode(present)) if present else ""


def public_base_url(request: Request) -> str:
    """Where the API is reached from outside (a sent invoice's hosted page, a logo), as the API
    computes it: the dashboard is served by the same API Gateway.
    """
    from remit.bootstrap import services
    from remit.public_url import public_base_url as base_url

    context = request.event.get("requestContext") or {}
    headers = {str(name).lower(): str(value) for name, value in (request.event.get("headers") or {}).items()}
    domain = context.get("domainName") or headers.get("host")
    return base_url(services().settings.public_base_url, domain, context.get("stage"))


# Formats ----------------------------------------------------------------------------------------


def _babel_locale(organisation: Organisation | None) -> str:
    from remit.adapters.localization import format_locale

    return format_locale(organisation.locale if organisation else "en")


def money(amount: int | None, currency: str, organisation: Organisation | None = None) -> str:
    """Minor units as the organisation's locale writes amounts of `currency` ("1.234,56 €")."""
    from remit.adapters.money_format import format_money

    return format_money(amount or 0, currency, _babel_locale(organisation))


def major(amount: int | None, currency: str) -> str:
    """Minor units as a form shows them, in the major unit ("19.99")."""
    from dashboard.forms import major_units
    from remit.domain.values import currency_exponent

    return major_units(amount or 0, currency_exponent(currency))


def local_time(moment: datetime | None, organisation: Organisation | None = None) -> str:
    """A moment in the organisation's time zone, with the zone's abbreviation."""
    if moment is None:
        return ""
    zone = ZoneInfo(organisation.timezone if organisation else "UTC")
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def local_date(day: date | datetime | None, organisation: Organisation | None = None) -> str:
    """A date in the organisation's locale (a moment first moved to its time zone)."""
    from babel.dates import format_date

    if day is None:
        return ""
    if isinstance(day, datetime):
        day = day.astimezone(ZoneInfo(organisation.timezone if organisation else "UTC")).date()
    return str(format_date(day, format="medium", locale=_babel_locale(organisation)))


# Dispatch ---------------------------------------------------------------------------------------


def dispatch(event: dict[str, Any]) -> Page:
    """The page for the event's method and path: the not-found page for any other path, 405 with
    `Allow` for another method on a known path.
    """
    method = str(event.get("httpMethod") or "GET").upper()
    path = str(event.get("path") or "/")
    allowed: list[str] = []
    for candidate in ROUTES:
        match = candidate.pattern.match(path)
        if match is None:
            continue
        allowed.append(candidate.method)
        if candidate.method == method or (method == "HEAD" and candidate.method == "GET"):
            request = Request(event, match.groupdict())
            page = _answered(candidate, request)
            location = page["headers"].get("Location")
            if location and location.startswith("/"):
                page["headers"]["Location"] = _stage(request) + location
            return page
    if allowed:
        page = render(None, 405, "not_found.html", title="Not allowed")
        page["headers"]["Allow"] = ", ".join(sorted(set(allowed)))
        return page
    return not_found()


def _answered(candidate: Route, request: Request) -> Page:
    """The handler's page; for a failure that is not a refusal, a page that says so (503 and
    `Retry-After` for AWS throttling or timeouts beyond botocore's retries, as the API answers; 500
    otherwise), logged with the request's id, instead of API Gateway's bare 502.
    """
    from remit.adapters.aws_errors import RETRY_AFTER_SECONDS, is_transient
    from remit.observability import logger

    try:
        return _run(candidate, request)
    except Exception as error:
        request_id = str((request.event.get("requestContext") or {}).get("requestId") or "")
        if is_transient(error):
            logger.warning("Transient AWS failure", exc_info=error)
            page = render(
                request,
                503,
                "refused.html",
                title="Busy",
                detail=f"Remit is busy; try again shortly. ({request_id})",
            )
            page["headers"]["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return page
        logger.exception("Unhandled error")
        detail = f"Something went wrong on our side. Reference: {request_id}"
        return render(
            request, 500, "refused.html", title="Something went wrong", detail=detail, unchanged=False
        )


def _run(candidate: Route, request: Request) -> Page:
    from remit.bootstrap import services
    from remit.domain.errors import DocumentUnavailable, DomainError, NotFound
    from remit.domain.sessions import CsrfRefused
    from remit.problem_details import status_of

    if candidate.method == "POST":
        try:
            request.form  # noqa: B018 - parsed once, here, so a body no form can be is refused first
        except ValueError:  # more than MAX_FORM_FIELDS fields, or a body that is not what it says
            return render(
                request, 400, "refused.html", title="Not a form", detail="The form sent could not be read."
            )
    if not candidate.public:
        sessions = services().dashboard_sessions
        signed_in = sessions.current(cookies(request.event).get(SESSION_COOKIE))
        if signed_in is None:
            return see_other("/dashboard/sign-in")
        request.session, request.caller = signed_in.session, signed_in.caller
        if candidate.method == "POST":
            try:
                sessions.check_csrf(request.session, request.field("csrf_token"))
            except CsrfRefused:
                return forbidden(request)
        if "organisation_id" in request.params:
            try:
                request.organisation = services().organisations.get(
                    request.account_id, request.params["organisation_id"]
                )
            except NotFound:
                return not_found(request)
    try:
        return candidate.handler(request)
    except NotFound:
        return not_found(request)
    except DomainError as refused:
        status, _ = status_of(refused)
        page = render(request, status, "refused.html", title="Not done", detail=refused.detail)
        if isinstance(refused, DocumentUnavailable):
            page["headers"]["Retry-After"] = str(refused.retry_after)
        return page

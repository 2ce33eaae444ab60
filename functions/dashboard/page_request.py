"""The request a page reads: who is signed in, the organisation in the path, the query, the posted
form and its files, the cookies, and the stage its own links go under.

The first middleware (`dashboard.checks.read_request`) builds one `PageRequest` per event and
keeps it in the resolver's context; the later checks fill in the session, the person and the
organisation; a handler reads it with `page_request(router)`.

Forms are read by standard parsers, never by hand: `application/x-www-form-urlencoded` by
`urllib.parse.parse_qs`, `multipart/form-data` by `python-multipart` (Starlette's parser). Both
read at most `MAX_FORM_FIELDS` fields; the body's size and shape were checked before
(`remit.request_bodies`, in `dashboard.checks.refuse_unreadable_form`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from remit.bootstrap import Services, services
from remit.multipart_forms import MAX_FORM_FIELDS, Upload, parse_multipart
from remit.public_url import public_base_url as base_url
from remit.public_url import stage_prefix

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

    from remit.domain.organisation import Organisation
    from remit.domain.roles import Caller, Permission
    from remit.domain.sessions import DashboardSession


@dataclass
class PageRequest:
    """One request as the pages read it; `event` is the API Gateway proxy event, `params` the ids
    in the path. The session, person and organisation are set by the checks (`dashboard.checks`)
    before a signed-in page runs; a public page has none of them.
    """

    event: dict[str, Any]
    params: dict[str, str] = field(default_factory=dict)
    session: DashboardSession | None = None
    organisation: Organisation | None = None
    caller: Caller | None = None

    @property
    def account_id(self) -> str:
        assert self.session is not None  # noqa: S101 - the session check ran before any signed-in page
        return self.session.account_id

    @property
    def services(self) -> Services:
        """The services as the signed-in person may use them: their role is checked at each operation."""
        assert self.caller is not None  # noqa: S101 - the session check ran before any signed-in page
        return services().acting_as(self.caller)

    def may(self, permission: Permission) -> bool:
        """Whether the signed-in person's role holds `permission` (for what a page offers)."""
        return self.caller is not None and self.caller.may(permission)

    @property
    def org(self) -> Organisation:
        assert self.organisation is not None  # noqa: S101 - the organisation check ran for its paths
        return self.organisation

    @property
    def method(self) -> str:
        return str(self.event.get("httpMethod") or "GET").upper()

    @property
    def path(self) -> str:
        return str(self.event.get("path") or "/")

    @cached_property
    def headers(self) -> dict[str, str]:
        """The request's headers, by lower-case name."""
        return {str(name).lower(): str(value) for name, value in (self.event.get("headers") or {}).items()}

    @property
    def request_id(self) -> str:
        return str((self.event.get("requestContext") or {}).get("requestId") or "")

    @cached_property
    def cookies(self) -> dict[str, str]:
        """The cookies the browser sent, by name (the first of a name wins)."""
        found: dict[str, str] = {}
        for part in self.headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name and name not in found:
                found[name] = value
        return found

    @cached_property
    def query(self) -> dict[str, str]:
        parameters = self.event.get("queryStringParameters") or {}
        return {str(name): str(value) for name, value in parameters.items() if value is not None}

    @cached_property
    def form(self) -> dict[str, list[str]]:
        """The posted form's text fields, every value of each: `application/x-www-form-urlencoded`,
        or the text parts of `multipart/form-data` (its files are in `files`). Raises `ValueError`
        for more than `MAX_FORM_FIELDS` fields.
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
        content_type = self.headers.get("content-type", "")
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
        """Whether htmx asked for a fragment (not a boosted link or form, which wants the page)."""
        return self.headers.get("hx-request") == "true" and self.headers.get("hx-boosted") != "true"

    @cached_property
    def stage(self) -> str:
        context = self.event.get("requestContext") or {}
        return stage_prefix(context.get("domainName"), context.get("stage"))

    def url(self, path: str) -> str:
        """`path` as a page links to it: a path of this origin (`/dashboard/…`, `/assets/…`) under the
        stage on API Gateway's own host (`/prod/dashboard/…`); anything else (`?cursor=…`, `#part`,
        another origin) as it is. Templates write every link as `{{ url('/dashboard/…') }}`, and
        a redirect's `Location` goes through here too.
        """
        if path.startswith("/") and not path.startswith("//"):
            return self.stage + path
        return path

    def org_path(self, *parts: str) -> str:
        return "/".join([f"/dashboard/organisations/{self.org.id}", *parts]).rstrip("/")


def page_request(router: BaseRouter) -> PageRequest:
    """The request being answered, as the checks left it (see `dashboard.checks.read_request`)."""
    request: PageRequest = router.context["page_request"]
    return request


def public_base_url(request: PageRequest) -> str:
    """Where the API is reached from outside (a sent invoice's hosted page, a logo), as the API
    computes it: the dashboard is served by the same API Gateway.
    """
    context = request.event.get("requestContext") or {}
    domain = context.get("domainName") or request.headers.get("host")
    return base_url(services().settings.public_base_url, domain, context.get("stage"))

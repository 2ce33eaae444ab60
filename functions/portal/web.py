"""What every portal page needs: the request as pages read it (cookies, form, client, the stage
links go under), the signed-in customer, the CSRF checks, and the answers (a page, a redirect,
the not-found page) with the portal's headers and cookies.

Two cookies, both `__Host-` (Secure, Path=/, this origin only), HttpOnly and SameSite=Lax:
`__Host-remit_portal` holds a signed-in session's id; `__Host-remit_portal_form` a random token
that the sign-in forms (before there is a session) carry back, so that another site cannot post
them. Signed in, every form carries the session's own CSRF token instead.
"""

from __future__ import annotations

import base64
import hmac
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from portal.messages import DOCUMENT_UNAVAILABLE
from remit.bootstrap import portal_pages, services
from remit.domain.customer import Customer
from remit.domain.documents import document_locale
from remit.domain.organisation import Organisation
from remit.domain.portal import PORTAL_SESSION_LIFETIME, PortalSession
from remit.domain.sessions import new_secret
from remit.public_url import public_base_url, stage_prefix

SESSION_COOKIE = "__Host-remit_portal"
FORM_COOKIE = "__Host-remit_portal_form"
MAX_FORM_FIELDS = 200

# Like the hosted invoice page: no script at all, images (the logo) from the web, styles inline,
# forms post here or to the card provider's checkout (a redirect), never framed, nothing cached.
PAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": (
        "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; "
        "form-action 'self' https:; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

Page = Response[Any]


@dataclass(frozen=True)
class SignedInCustomer:
    organisation: Organisation
    customer: Customer
    session: PortalSession

    @property
    def locale(self) -> str:
        return document_locale(self.customer.preferred_locale, self.organisation.locale)


@dataclass
class PortalRequest:
    event: dict[str, Any]

    @cached_property
    def headers(self) -> dict[str, str]:
        return {str(k).lower(): str(v) for k, v in (self.event.get("headers") or {}).items()}

    @cached_property
    def cookies(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for part in self.headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name and name not in found:
                found[name] = value
        return found

    @cached_property
    def form(self) -> dict[str, list[str]]:
        body = self.event.get("body") or ""
        if self.event.get("isBase64Encoded"):
            body = base64.b64decode(body).decode("utf-8", errors="replace")
        try:
            return parse_qs(body, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
        except ValueError:
            return {}

    def field(self, name: str) -> str:
        values = self.form.get(name) or [""]
        return values[0]

    @property
    def context(self) -> dict[str, Any]:
        return dict(self.event.get("requestContext") or {})

    @property
    def base(self) -> str:
        """What this origin's links start with: the stage on API Gateway's own host, else nothing."""
        return stage_prefix(self.context.get("domainName"), self.context.get("stage"))

    @property
    def public_url(self) -> str:
        """Where the portal is reached from outside (the base of emailed links)."""
        return public_base_url(
            services().settings.public_base_url, self.context.get("domainName"), self.context.get("stage")
        )

    @property
    def client(self) -> str:
        """Who asks, for throttling: the client's address as API Gateway saw it."""
        return str((self.context.get("identity") or {}).get("sourceIp") or "unknown")

    def signed_in(self, organisation_id: str) -> SignedInCustomer | None:
        found = services().portal.current(organisation_id, self.cookies.get(SESSION_COOKIE))
        if found is None:
            return None
        session, customer = found
        organisation = services().portal.portal_of(organisation_id)
        return SignedInCustomer(organisation, customer, session)

    def accepts_session_csrf(self, session: PortalSession) -> bool:
        return session.accepts_csrf(self.field("csrf_token") or None)

    def accepts_form_csrf(self) -> bool:
        """Whether a sign-in form came back with the token its page set in the form cookie."""
        cookie, given = self.cookies.get(FORM_COOKIE, ""), self.field("csrf_token")
        return bool(cookie) and hmac.compare_digest(cookie.encode(), given.encode())

    def form_token(self) -> str:
        """The form cookie's token, or a new one (`with_form_cookie` sets it)."""
        return self.cookies.get(FORM_COOKIE) or new_secret()


def page(
    request: PortalRequest,
    status: int,
    template: str,
    title: str,
    organisation: Organisation | None,
    locale: str = "en",
    **context: Any,
) -> Page:
    cards_link = bool(organisation and organisation.payment_methods.card)
    html = portal_pages().page(
        locale, template, organisation, base=request.base, page_title=title, cards_link=cards_link, **context
    )
    return Response(status, PAGE_HEADERS["Content-Type"], html, headers=dict(PAGE_HEADERS))


def unavailable(
    request: PortalRequest, retry_after: int, organisation: Organisation | None = None, locale: str = "en"
) -> Page:
    """The 503 page of a document that cannot be made now (`DocumentUnavailable`), with `Retry-After`."""
    answer = page(
        request,
        503,
        "refused.html",
        "Try again in a moment",
        organisation,
        locale,
        message=DOCUMENT_UNAVAILABLE,
        back="",
    )
    answer.headers["Retry-After"] = str(retry_after)
    return answer


def not_found(request: PortalRequest, organisation: Organisation | None = None, locale: str = "en") -> Page:
    return page(request, 404, "not_found.html", "Not found", organisation, locale)


def see_other(location: str) -> Page:
    return Response(303, headers={"Location": location, "Cache-Control": "no-store"})


def with_cookie(answer: Page, name: str, value: str, max_age: int) -> Page:
    answer.cookies.append(
        Cookie(
            name, value, path="/", secure=True, http_only=True, max_age=max_age, same_site=SameSite.LAX_MODE
        )
    )
    return answer


def with_session(answer: Page, session_id: str) -> Page:
    return with_cookie(answer, SESSION_COOKIE, session_id, int(PORTAL_SESSION_LIFETIME.total_seconds()))


def with_form_cookie(answer: Page, token: str) -> Page:
    return with_cookie(answer, FORM_COOKIE, token, 3600)

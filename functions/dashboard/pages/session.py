"""Sign-in, sign-out and the vendored script: the pages reached without a session."""

from __future__ import annotations

import hmac
import secrets

from dashboard.web import (
    ASSETS,
    HTMX,
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    Page,
    Request,
    cookies,
    forbidden,
    render,
    route,
    see_other,
    with_cookie,
)


@route("GET", f"/assets/{HTMX}", public=True)
def htmx_script(request: Request) -> Page:
    """htmx, vendored (`assets/htmx-LICENSE.txt`): the same bytes for a year, as the name is versioned."""
    return {
        "statusCode": 200,
        "headers": {
            "Content-Type": "text/javascript; charset=utf-8",
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
        },
        "body": (ASSETS / HTMX).read_text(encoding="utf-8"),
        "isBase64Encoded": False,
    }


def _signed_in(request: Request) -> bool:
    from remit.bootstrap import services

    return services().dashboard_sessions.current(cookies(request.event).get(SESSION_COOKIE)) is not None


@route("GET", "/sign-in", public=True)
def show_sign_in(request: Request) -> Page:
    if _signed_in(request):
        return see_other("/dashboard/")
    return sign_in_form(request, 200, email="", error=None)


def sign_in_form(request: Request, status: int, email: str, error: str | None) -> Page:
    token = cookies(request.event).get(SIGN_IN_COOKIE) or secrets.token_urlsafe(32)
    page = render(
        request, status, "sign_in.html", title="Sign in", email=email, error=error, csrf_token=token
    )
    return with_cookie(page, SIGN_IN_COOKIE, token, 3600)


@route("POST", "/sign-in", public=True)
def sign_in(request: Request) -> Page:
    """The sign-in form's CSRF token is a double-submit one: it must match the sign-in cookie, so
    no other site can sign a browser in to an account of its choosing.
    """
    from remit.bootstrap import services
    from remit.domain.errors import DomainError
    from remit.domain.sessions import SESSION_LIFETIME
    from remit.domain.users import SignInStep

    expected = cookies(request.event).get(SIGN_IN_COOKIE, "")
    presented = request.field("csrf_token")
    if not expected or not hmac.compare_digest(expected.encode(), presented.encode()):
        return forbidden(request)
    email = request.field("email")
    try:
        session_id, _ = services().dashboard_sessions.sign_in(email, request.field("password"))
    except SignInStep as step:
        # A new password or a TOTP code: the step's page (dashboard/pages/sign_in_steps.py).
        from dashboard.pages.sign_in_steps import step_redirect

        page = step_redirect(step.challenge, step.step_id)
        if page is not None:
            return page
        return sign_in_form(request, 401, email=email, error=step.detail)
    except DomainError as refused:
        # A wrong password, an unknown email and a throttled email read the same.
        return sign_in_form(request, 401, email=email, error=refused.detail)
    lifetime = int(SESSION_LIFETIME.total_seconds())
    return with_cookie(see_other("/dashboard/"), SESSION_COOKIE, session_id, lifetime)


@route("POST", "/sign-out")
def sign_out(request: Request) -> Page:
    from remit.bootstrap import services

    assert request.session is not None  # noqa: S101 - not a public route
    services().dashboard_sessions.sign_out(request.session)
    return with_cookie(see_other("/dashboard/sign-in"), SESSION_COOKIE, "", 0)

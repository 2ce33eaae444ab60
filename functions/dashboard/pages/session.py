"""Sign-in, sign-out and the vendored script. Sign-in and the script are public (see
`dashboard.checks.PUBLIC_PATHS`); sign-out is a signed-in form like any other.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from dashboard.page_request import page_request
from dashboard.pages.sign_in_forms import double_submit_ok, sign_in_form, step_redirect
from dashboard.rendering import ASSETS, HTMX, SESSION_COOKIE, Page, forbidden, see_other, with_cookie
from remit.bootstrap import services
from remit.domain.errors import DomainError
from remit.domain.sessions import SESSION_LIFETIME
from remit.domain.users import SignInStep

router = APIGatewayRouter()


@router.get(f"/assets/{HTMX}")
def htmx_script() -> Page:
    """htmx, vendored (`assets/htmx-LICENSE.txt`): the same bytes for a year, as the name is versioned."""
    return Response(
        status_code=200,
        headers={
            "Content-Type": "text/javascript; charset=utf-8",
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
        },
        body=(ASSETS / HTMX).read_text(encoding="utf-8"),
    )


@router.get("/assets/copy-link.js")
def copy_link_script() -> Page:
    """The "Copy" button of a link shown once (progressive enhancement: the field works without it)."""
    return Response(
        status_code=200,
        headers={
            "Content-Type": "text/javascript; charset=utf-8",
            "Cache-Control": "public, max-age=3600",
            "X-Content-Type-Options": "nosniff",
        },
        body=(ASSETS / "copy-link.js").read_text(encoding="utf-8"),
    )


@router.get("/sign-in")
def show_sign_in() -> Page:
    request = page_request(router)
    if services().dashboard_sessions.current(request.cookies.get(SESSION_COOKIE)) is not None:
        return see_other("/dashboard/")
    return sign_in_form(request, 200, email="", error=None)


@router.post("/sign-in")
def sign_in() -> Page:
    """The sign-in form's CSRF token is a double-submit one: it must match the sign-in cookie, so
    no other site can sign a browser in to an account of its choosing.
    """
    request = page_request(router)
    if not double_submit_ok(request):
        return forbidden(request)
    email = request.field("email")
    try:
        session_id, _ = services().dashboard_sessions.sign_in(email, request.field("password"))
    except SignInStep as step:
        # A new password or a TOTP code: the step's page (dashboard/pages/sign_in_steps.py).
        page = step_redirect(step.challenge, step.step_id)
        if page is not None:
            return page
        return sign_in_form(request, 401, email=email, error=step.detail)
    except DomainError as refused:
        # A wrong password, an unknown email and a throttled email read the same.
        return sign_in_form(request, 401, email=email, error=refused.detail)
    lifetime = int(SESSION_LIFETIME.total_seconds())
    return with_cookie(see_other("/dashboard/"), SESSION_COOKIE, session_id, lifetime)


@router.post("/sign-out")
def sign_out() -> Page:
    request = page_request(router)
    assert request.session is not None  # noqa: S101 - not a public route
    services().dashboard_sessions.sign_out(request.session)
    return with_cookie(see_other("/dashboard/sign-in"), SESSION_COOKIE, "", 0)

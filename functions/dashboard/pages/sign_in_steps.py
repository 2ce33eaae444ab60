"""Sign-in's further steps: a new password (invited users, `create-user`'s first sign-in) and a TOTP
code (users who set up an authenticator app).

The pending step stays on the server (the sessions table, with the user pool's session for it);
the browser holds only a random id for it, in a short-lived `__Host-` cookie. The forms carry the
sign-in page's double-submit CSRF token, and wrong codes count against the email as wrong
passwords do.
"""

from __future__ import annotations

import hmac

from dashboard.web import (
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

STEP_COOKIE = "__Host-remit_sign_in_step"
STEP_PAGES = {
    "NEW_PASSWORD_REQUIRED": "/dashboard/sign-in/new-password",
    "SOFTWARE_TOKEN_MFA": "/dashboard/sign-in/code",
}
EXPIRED = "This sign-in has expired or is not right; sign in again."


def step_redirect(challenge: str, step_id: str) -> Page | None:
    """The redirect to the page of a further step, with its cookie; None for a step not handled."""
    from remit.domain.sessions import SIGN_IN_STEP_LIFETIME

    path = STEP_PAGES.get(challenge)
    if path is None:
        return None
    return with_cookie(see_other(path), STEP_COOKIE, step_id, int(SIGN_IN_STEP_LIFETIME.total_seconds()))


def _step_id(request: Request) -> str | None:
    return cookies(request.event).get(STEP_COOKIE) or None


def _csrf_ok(request: Request) -> bool:
    expected = cookies(request.event).get(SIGN_IN_COOKIE, "")
    presented = request.field("csrf_token")
    return bool(expected) and hmac.compare_digest(expected.encode(), presented.encode())


def _form(request: Request, status: int, template: str, title: str, **context: object) -> Page:
    token = cookies(request.event).get(SIGN_IN_COOKIE, "")
    return render(request, status, f"account/{template}", title=title, csrf_token=token, **context)


def _expired(request: Request) -> Page:
    from dashboard.pages.session import sign_in_form

    return sign_in_form(request, 401, email="", error=EXPIRED)


def _pending(request: Request, challenge: str) -> bool:
    from remit.bootstrap import services

    return services().dashboard_sessions.pending_step(_step_id(request)) == challenge


def _answer(request: Request, answers: dict[str, str], again: str, title: str) -> Page:
    """Answer the pending step; the signed-in home, the next step, or the sign-in page again."""
    from remit.bootstrap import services
    from remit.domain.errors import DomainError, InvalidInput
    from remit.domain.sessions import SESSION_LIFETIME
    from remit.domain.users import SignInStep

    try:
        session_id, _ = services().dashboard_sessions.continue_sign_in(_step_id(request), answers)
    except SignInStep as step:
        return step_redirect(step.challenge, step.step_id) or _expired(request)
    except InvalidInput as refused:
        errors = {problem.field: problem.message for problem in refused.problems}
        return _form(request, 422, again, title, errors=errors, error=None)
    except DomainError:
        # A wrong code while the step lasts: the code page again; an expired step: sign in again.
        if again == "code.html" and _pending(request, "SOFTWARE_TOKEN_MFA"):
            return _form(request, 401, again, title, error="The code is not right; try the current one.")
        return _expired(request)
    lifetime = int(SESSION_LIFETIME.total_seconds())
    return with_cookie(see_other("/dashboard/"), SESSION_COOKIE, session_id, lifetime)


@route("GET", "/sign-in/new-password", public=True)
def new_password_page(request: Request) -> Page:
    if not _pending(request, "NEW_PASSWORD_REQUIRED"):
        return see_other("/dashboard/sign-in")
    return _form(request, 200, "new_password.html", "Choose your password", errors={}, error=None)


@route("POST", "/sign-in/new-password", public=True)
def set_new_password(request: Request) -> Page:
    if not _csrf_ok(request):
        return forbidden(request)
    password = request.field("new_password")
    title = "Choose your password"
    if not password:
        return _form(
            request, 422, "new_password.html", title, errors={"new_password": "Type a password."}, error=None
        )
    if password != request.field("repeat_password"):
        errors = {"repeat_password": "The two passwords differ; type the same one twice."}
        return _form(request, 422, "new_password.html", title, errors=errors, error=None)
    return _answer(request, {"NEW_PASSWORD": password}, "new_password.html", title)


@route("GET", "/sign-in/code", public=True)
def code_page(request: Request) -> Page:
    if not _pending(request, "SOFTWARE_TOKEN_MFA"):
        return see_other("/dashboard/sign-in")
    return _form(request, 200, "code.html", "Authenticator code", error=None)


@route("POST", "/sign-in/code", public=True)
def send_code(request: Request) -> Page:
    if not _csrf_ok(request):
        return forbidden(request)
    return _answer(
        request, {"SOFTWARE_TOKEN_MFA_CODE": request.field("code").strip()}, "code.html", "Authenticator code"
    )

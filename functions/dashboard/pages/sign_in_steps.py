"""Sign-in's further steps: a new password (invited users, `create-user`'s first sign-in) and a TOTP
code (users who set up an authenticator app).

The pending step stays on the server (the sessions table, with the user pool's session for it);
the browser holds only a random id for it, in a short-lived `__Host-` cookie. The forms carry the
sign-in page's double-submit CSRF token, and wrong codes count against the email as wrong
passwords do.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from dashboard.page_request import PageRequest, page_request
from dashboard.pages.sign_in_forms import STEP_COOKIE, double_submit_ok, sign_in_form, step_redirect
from dashboard.rendering import (
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    Page,
    forbidden,
    render,
    see_other,
    with_cookie,
)
from remit.bootstrap import services
from remit.domain.errors import DomainError, InvalidInput
from remit.domain.sessions import SESSION_LIFETIME
from remit.domain.users import SignInStep

router = APIGatewayRouter()

EXPIRED = "This sign-in has expired or is not right; sign in again."


def _step_id(request: PageRequest) -> str | None:
    return request.cookies.get(STEP_COOKIE) or None


def _form(request: PageRequest, status: int, template: str, title: str, **context: object) -> Page:
    token = request.cookies.get(SIGN_IN_COOKIE, "")
    return render(request, status, f"account/{template}", title=title, csrf_token=token, **context)


def _expired(request: PageRequest) -> Page:
    return sign_in_form(request, 401, email="", error=EXPIRED)


def _pending(request: PageRequest, challenge: str) -> bool:
    return services().dashboard_sessions.pending_step(_step_id(request)) == challenge


def _answer(request: PageRequest, answers: dict[str, str], again: str, title: str) -> Page:
    """Answer the pending step; the signed-in home, the next step, or the sign-in page again."""
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


@router.get("/sign-in/new-password")
def new_password_page() -> Page:
    request = page_request(router)
    if not _pending(request, "NEW_PASSWORD_REQUIRED"):
        return see_other("/dashboard/sign-in")
    return _form(request, 200, "new_password.html", "Choose your password", errors={}, error=None)


@router.post("/sign-in/new-password")
def set_new_password() -> Page:
    request = page_request(router)
    if not double_submit_ok(request):
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


@router.get("/sign-in/code")
def code_page() -> Page:
    request = page_request(router)
    if not _pending(request, "SOFTWARE_TOKEN_MFA"):
        return see_other("/dashboard/sign-in")
    return _form(request, 200, "code.html", "Authenticator code", error=None)


@router.post("/sign-in/code")
def send_code() -> Page:
    request = page_request(router)
    if not double_submit_ok(request):
        return forbidden(request)
    return _answer(
        request, {"SOFTWARE_TOKEN_MFA_CODE": request.field("code").strip()}, "code.html", "Authenticator code"
    )

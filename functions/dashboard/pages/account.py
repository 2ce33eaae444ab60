"""The account's own pages (not under an organisation): its people, its API keys, and the signed-in
user's sign-in security (TOTP).

People: listed from the account's member list (`request.services.account_people`) with their
roles, invited by email with a role (the user pool emails a temporary password; the local stack
shows it here instead, once), given another role (confirmed), removed (confirmed; signed out
everywhere). API keys (`request.services.accounts`): created with a name, full or read-only, and
shown once, listed by name, last characters, who made each and when it was last used, renamed,
revoked (confirmed; it authenticates no more).

Every operation is checked against the signed-in person's role by the services; the pages offer
only what the role may do (people: owners; keys: owners and admins).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from dashboard.forms import FormErrors, defaults_of, errors_of, fields_of, parse, values_of
from dashboard.page_request import PageRequest, page_request
from dashboard.rendering import Page, confirm, render, see_other
from remit.domain.account import ApiKeyChanges, NewApiKey
from remit.domain.errors import InvalidInput
from remit.domain.roles import PERMISSION_DESCRIPTIONS, ROLES, permissions_of, table_of_roles
from remit.domain.users import Invitation, RoleChange, TotpSetup

router = APIGatewayRouter()

PEOPLE = "/dashboard/account/users"
KEYS = "/dashboard/account/api-keys"
SECURITY = "/dashboard/account/security"
PAGE_SIZE = 20


def _render(request: PageRequest, status: int, template: str, title: str, **context: Any) -> Page:
    context.setdefault("currency", None)
    return render(request, status, f"account/{template}", title=title, **context)


def _email(request: PageRequest) -> str:
    assert request.session is not None  # noqa: S101 - not a public route
    return request.session.email


# People -----------------------------------------------------------------------------------------


@router.get("/account/users")
def people() -> Page:
    request = page_request(router)
    return _people(request, 200, {}, FormErrors())


def _people(request: PageRequest, status: int, values: dict[str, list[str]], errors: FormErrors) -> Page:

    page = request.services.account_people.list(request.account_id, PAGE_SIZE, request.query.get("cursor"))
    return _render(
        request,
        status,
        "people.html",
        "People",
        members=page.items,
        next_cursor=page.next_cursor,
        me=_email(request),
        roles=ROLES,
        table_of_roles=table_of_roles(),
        form_fields=fields_of(Invitation),
        values=values or defaults_of(Invitation),
        errors=errors,
    )


@router.post("/account/users")
def invite() -> Page:
    request = page_request(router)

    invitation, errors = parse(Invitation, request.form)
    if invitation is not None:
        try:
            invited = request.services.account_people.invite(request.account_id, invitation, _email(request))
        except InvalidInput as refused:
            errors = errors_of(refused.problems, fields_of(Invitation))
        else:
            if invited.temporary_password is None:
                return see_other(
                    PEOPLE,
                    f"{invited.member.email} invited: they have an email with a temporary password.",
                )
            # The local stack's pool sends no email: the password is shown here, once.
            return _render(request, 200, "invited.html", "User invited", invited=invited)
    return _people(request, 422, request.form, errors)


@router.post("/account/users/<member_id>/remove")
def remove(member_id: str) -> Page:
    request = page_request(router)
    member = request.services.account_people.get(request.account_id, member_id)
    page = confirm(
        request,
        f"Remove {member.email} from the account?",
        "Remove user",
        back=PEOPLE,
        detail="They are signed out everywhere at once and can no longer sign in.",
    )
    if page:
        return page
    removed = request.services.account_people.remove(request.account_id, member.id, _email(request))
    return see_other(PEOPLE, f"{removed.email} removed: signed out and no longer able to sign in.")


@router.post("/account/users/<member_id>/role")
def change_role(member_id: str) -> Page:
    request = page_request(router)

    member = request.services.account_people.get(request.account_id, member_id)
    change, _ = parse(RoleChange, request.form)
    if change is None:
        detail = f"Choose one of the roles: {', '.join(ROLES)}."
        return render(request, 422, "refused.html", title="Not done", detail=detail)
    allowed = "; ".join(PERMISSION_DESCRIPTIONS[each] for each in sorted(permissions_of(change.role)))
    page = confirm(
        request,
        f"Make {member.email} {change.role}?",
        f"Make {change.role}",
        back=PEOPLE,
        detail=f"From their next page on, they may: {allowed}.",
    )
    if page:
        return page
    changed = request.services.account_people.change_role(request.account_id, member.id, change)
    return see_other(PEOPLE, f"{changed.email} is now {changed.role}.")


# API keys ---------------------------------------------------------------------------------------


@router.get("/account/api-keys")
def api_keys() -> Page:
    request = page_request(router)
    return _keys(request, 200, {}, FormErrors())


def _keys(request: PageRequest, status: int, values: dict[str, list[str]], errors: FormErrors) -> Page:

    page = request.services.accounts.list_keys(request.account_id, PAGE_SIZE, request.query.get("cursor"))
    return _render(
        request,
        status,
        "api_keys.html",
        "API keys",
        keys=page.items,
        next_cursor=page.next_cursor,
        form_fields=fields_of(NewApiKey),
        values=values,
        errors=errors,
    )


@router.post("/account/api-keys")
def create_key() -> Page:
    request = page_request(router)

    new, errors = parse(NewApiKey, request.form)
    if new is None:
        return _keys(request, 422, request.form, errors)
    created = request.services.accounts.create_key(request.account_id, new, _email(request))
    # Shown in this answer only: the key is stored as its digest and cannot be shown again.
    return _render(request, 201, "api_key_created.html", "API key created", created=created)


@router.get("/account/api-keys/<key_id>")
def api_key(key_id: str) -> Page:
    request = page_request(router)

    found = request.services.accounts.get_key(request.account_id, key_id)
    fields = fields_of(ApiKeyChanges)
    return _key(request, 200, found, values_of({"name": found.name}, fields), FormErrors())


def _key(
    request: PageRequest, status: int, found: Any, values: dict[str, list[str]], errors: FormErrors
) -> Page:

    return _render(
        request,
        status,
        "api_key.html",
        f"API key {found.name}",
        key=found,
        form_fields=fields_of(ApiKeyChanges),
        values=values,
        errors=errors,
    )


@router.post("/account/api-keys/<key_id>")
def rename_key(key_id: str) -> Page:
    request = page_request(router)

    found = request.services.accounts.get_key(request.account_id, key_id)
    changes, errors = parse(ApiKeyChanges, request.form)
    if changes is None:
        return _key(request, 422, found, request.form, errors)
    renamed = request.services.accounts.rename_key(request.account_id, found.id, changes)
    return see_other(KEYS, f"API key “{found.name}” renamed to “{renamed.name}”.")


@router.post("/account/api-keys/<key_id>/revoke")
def revoke_key(key_id: str) -> Page:
    request = page_request(router)
    found = request.services.accounts.get_key(request.account_id, key_id)
    page = confirm(
        request,
        f"Revoke the API key “{found.name}” (…{found.hint})?",
        "Revoke key",
        back=KEYS,
        detail="Requests with this key are refused from now on; this cannot be undone.",
    )
    if page:
        return page
    revoked = request.services.accounts.revoke_key(request.account_id, found.id)
    return see_other(KEYS, f"API key “{revoked.name}” (…{revoked.hint}) revoked: it no longer authenticates.")


# Sign-in security (TOTP) ------------------------------------------------------------------------


@router.get("/account/security")
def security() -> Page:
    request = page_request(router)
    assert request.session is not None  # noqa: S101 - not a public route
    enabled = request.services.account_people.totp_enabled(request.session.tokens.access_token)
    return _render(request, 200, "security.html", "Sign-in security", enabled=enabled)


@router.post("/account/security/totp")
def start_totp() -> Page:
    """A new secret, not in use until a code of it is confirmed: nothing to confirm here."""
    request = page_request(router)
    assert request.session is not None  # noqa: S101 - not a public route
    setup = request.services.account_people.start_totp(
        request.session.tokens.access_token, request.session.email
    )
    return _render(request, 200, "totp.html", "Set up an authenticator app", setup=setup, error=None)


@router.post("/account/security/totp/verify")
def verify_totp() -> Page:
    request = page_request(router)

    assert request.session is not None  # noqa: S101 - not a public route
    try:
        request.services.account_people.confirm_totp(
            request.session.tokens.access_token, request.field("code")
        )
    except InvalidInput as refused:
        setup = TotpSetup(request.field("secret"), request.field("uri"))
        message = refused.problems[0].message if refused.problems else refused.detail
        return _render(request, 422, "totp.html", "Set up an authenticator app", setup=setup, error=message)
    return see_other(SECURITY, "Authenticator app set up: signing in now asks for its code.")

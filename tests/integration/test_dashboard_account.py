"""The account's pages: people (invite, first sign-in with a new password, remove), API keys
(create shown once, rename, revoke), sign-in security (TOTP), and their refusals and isolation.
"""

from __future__ import annotations

import re

import pytest

from tests.integration.api_client import ApiClient
from tests.integration.conftest import SettableClock
from tests.integration.dashboard_browser import Browser, account_with_user, csrf_token, signed_in, text_of

pytestmark = pytest.mark.usefixtures("user_pool")

PEOPLE = "/dashboard/account/users"
KEYS = "/dashboard/account/api-keys"


def _temporary_password(body: str) -> str:
    found = re.search(r"<code>([^<]+)</code>", body.split("Temporary password", 1)[1])
    assert found
    return found.group(1)


def _invite(browser: Browser, email: str) -> str:
    response = browser.post(PEOPLE, {"email": email}, confirmed=False)
    assert response["statusCode"] == 200, response["body"]
    return _temporary_password(response["body"])


def _member_id(account_id: str, email: str) -> str:
    from remit.bootstrap import services

    members = services().account_people.list(account_id, 100, None).items
    return next(member.id for member in members if member.email == email)


# People -----------------------------------------------------------------------------------------


def test_the_people_page_lists_the_signed_in_user() -> None:
    account_with_user("ada@example.com")
    browser = signed_in("ada@example.com")

    page = browser.request("GET", PEOPLE)

    assert page["statusCode"] == 200
    text = text_of(page["body"])
    assert "ada@example.com You" in text
    assert 'aria-current="page">People' in page["body"]
    assert "Remove ada@example.com" not in text  # no one removes themself


def test_an_invited_user_exists_in_the_pool_signs_in_with_the_temporary_password_and_sets_their_own() -> None:
    import boto3

    from remit.bootstrap import services

    account_id, _ = account_with_user("ada@example.com")
    browser = signed_in("ada@example.com")

    password = _invite(browser, "Bob@Example.com")

    pool = services().settings.user_pool_id
    user = boto3.client("cognito-idp").admin_get_user(UserPoolId=pool, Username="bob@example.com")
    attributes = {item["Name"]: item["Value"] for item in user["UserAttributes"]}
    assert attributes["custom:account_id"] == account_id
    assert "bob@example.com" in text_of(browser.request("GET", PEOPLE)["body"])

    bob = Browser()
    first = bob.sign_in("bob@example.com", password)
    assert first["statusCode"] == 303
    assert first["headers"]["Location"] == "/dashboard/sign-in/new-password"
    assert "remit_sign_in_step" in first["headers"]["Set-Cookie"]
    assert password not in str(bob.cookies)  # only the step's random id is in the browser
    form = bob.request("GET", "/dashboard/sign-in/new-password")
    assert form["statusCode"] == 200
    token = csrf_token(form["body"])

    differ = bob.request(
        "POST",
        "/dashboard/sign-in/new-password",
        {"new_password": "Bobs-own-pass-1", "repeat_password": "Bobs-own-pass-2", "csrf_token": token},
    )
    assert differ["statusCode"] == 422
    assert 'id="repeat_password-error"' in differ["body"]

    weak = bob.request(
        "POST",
        "/dashboard/sign-in/new-password",
        {"new_password": "short", "repeat_password": "short", "csrf_token": token},
    )
    assert weak["statusCode"] == 422
    assert 'id="new_password-error"' in weak["body"]

    done = bob.request(
        "POST",
        "/dashboard/sign-in/new-password",
        {"new_password": "Bobs-own-pass-1", "repeat_password": "Bobs-own-pass-1", "csrf_token": token},
    )
    assert done["statusCode"] == 303, done["body"]
    assert done["headers"]["Location"] == "/dashboard/"
    assert bob.request("GET", PEOPLE)["statusCode"] == 200
    assert Browser().sign_in("bob@example.com", "Bobs-own-pass-1")["headers"]["Location"] == "/dashboard/"


def test_the_new_password_step_without_the_sign_in_token_or_a_pending_step_changes_nothing() -> None:
    account_with_user("ada@example.com")
    browser = signed_in("ada@example.com")
    password = _invite(browser, "bob@example.com")
    bob = Browser()
    bob.sign_in("bob@example.com", password)

    forged = bob.request(
        "POST",
        "/dashboard/sign-in/new-password",
        {"new_password": "Bobs-own-pass-1", "repeat_password": "Bobs-own-pass-1", "csrf_token": "forged"},
    )
    assert forged["statusCode"] == 403

    stranger = Browser()
    page = stranger.request("GET", "/dashboard/sign-in")
    stale = stranger.request(
        "POST",
        "/dashboard/sign-in/new-password",
        {
            "new_password": "Bobs-own-pass-1",
            "repeat_password": "Bobs-own-pass-1",
            "csrf_token": csrf_token(page["body"]),
        },
    )
    assert stale["statusCode"] == 401
    assert stranger.request("GET", "/dashboard/sign-in/new-password")["statusCode"] == 303
    # The temporary password still leads to the step: nothing was set.
    assert Browser().sign_in("bob@example.com", password)["headers"]["Location"].endswith("/new-password")


def test_an_invitation_with_a_bad_or_taken_email_is_refused_next_to_the_field() -> None:
    from remit.bootstrap import services

    account_id, _ = account_with_user("ada@example.com")
    account_with_user("eve@example.com", "Eve Ltd")
    browser = signed_in("ada@example.com")

    bad = browser.post(PEOPLE, {"email": "not-an-email"}, confirmed=False)
    taken = browser.post(PEOPLE, {"email": "eve@example.com"}, confirmed=False)

    for response in (bad, taken):
        assert response["statusCode"] == 422
        assert 'id="f-email-error"' in response["body"]
    assert "A user with this email exists." in text_of(taken["body"])
    assert 'value="not-an-email"' in bad["body"]
    emails = [member.email for member in services().account_people.list(account_id, 10, None).items]
    assert emails == ["ada@example.com"]


def test_a_removed_user_is_signed_out_and_cannot_sign_in_again() -> None:
    from remit.bootstrap import services

    account_id, _ = account_with_user("ada@example.com")
    services().users.create_user("bob@example.com", account_id, "Correct-horse-9")
    bob = signed_in("bob@example.com")
    ada = signed_in("ada@example.com")
    member = _member_id(account_id, "bob@example.com")

    asked = ada.post(f"{PEOPLE}/{member}/remove", {}, confirmed=False)
    assert asked["statusCode"] == 200
    assert "Remove bob@example.com from the account?" in text_of(asked["body"])
    assert bob.request("GET", PEOPLE)["statusCode"] == 200  # the question changed nothing

    removed = ada.post(f"{PEOPLE}/{member}/remove", {})

    assert removed["statusCode"] == 303
    assert "bob@example.com removed" in text_of(ada.request("GET", removed["headers"]["Location"])["body"])
    assert bob.request("GET", PEOPLE)["statusCode"] == 303  # their session has ended
    refused = Browser().sign_in("bob@example.com", "Correct-horse-9")
    assert refused["statusCode"] == 401
    emails = [m.email for m in services().account_people.list(account_id, 10, None).items]
    assert emails == ["ada@example.com"]


def test_a_user_cannot_remove_themself() -> None:
    from remit.bootstrap import services

    account_id, _ = account_with_user("ada@example.com")
    ada = signed_in("ada@example.com")

    response = ada.post(f"{PEOPLE}/{_member_id(account_id, 'ada@example.com')}/remove", {})

    assert response["statusCode"] == 409
    assert "You cannot remove yourself" in text_of(response["body"])
    assert [m.email for m in services().account_people.list(account_id, 10, None).items] == [
        "ada@example.com"
    ]


def test_another_accounts_user_can_be_neither_seen_nor_removed() -> None:
    account_with_user("ada@example.com")
    eve_account, _ = account_with_user("eve@example.com", "Eve Ltd")
    signed_in("eve@example.com")  # listed in her account
    ada = signed_in("ada@example.com")

    assert "eve@example.com" not in ada.request("GET", PEOPLE)["body"]
    response = ada.post(f"{PEOPLE}/{_member_id(eve_account, 'eve@example.com')}/remove", {})

    assert response["statusCode"] == 404
    assert signed_in("eve@example.com").request("GET", PEOPLE)["statusCode"] == 200


def test_a_post_without_the_csrf_token_changes_nothing() -> None:
    from remit.bootstrap import services

    account_id, _ = account_with_user("ada@example.com")
    ada = signed_in("ada@example.com")

    invited = ada.request("POST", PEOPLE, {"email": "bob@example.com"})
    created = ada.request("POST", KEYS, {"name": "CI"})

    assert invited["statusCode"] == 403
    assert created["statusCode"] == 403
    assert [m.email for m in services().account_people.list(account_id, 10, None).items] == [
        "ada@example.com"
    ]
    assert [k.name for k in services().accounts.list_keys(account_id, 10, None).items] == ["Default"]


# API keys ---------------------------------------------------------------------------------------


def _create_key(browser: Browser, name: str) -> str:
    response = browser.post(KEYS, {"name": name}, confirmed=False)
    assert response["statusCode"] == 201, response["body"]
    found = re.search(r'id="new-api-key" type="text" readonly value="([^"]+)"', response["body"])
    assert found
    return found.group(1)


def test_a_new_key_is_shown_once_listed_by_its_last_characters_and_authenticates() -> None:
    account_id, _ = account_with_user("ada@example.com")
    ada = signed_in("ada@example.com")

    key = _create_key(ada, "CI deploys")

    listing = ada.request("GET", KEYS)
    assert listing["statusCode"] == 200
    assert key not in listing["body"]
    text = text_of(listing["body"])
    assert f"CI deploys …{key[-4:]}" in text
    assert "ada@example.com" in text
    assert "Default" in text  # the account's first key
    answer = ApiClient(key).request("GET", "/v1/organisations")
    assert answer.status == 200
    assert [org["name"] for org in answer.json()["data"]] == ["Ada Ltd"]
    assert account_id


def test_a_key_needs_a_name() -> None:
    from remit.bootstrap import services

    account_id, _ = account_with_user("ada@example.com")
    ada = signed_in("ada@example.com")

    response = ada.post(KEYS, {"name": "   "}, confirmed=False)

    assert response["statusCode"] == 422
    assert 'id="f-name-error"' in response["body"]
    assert [k.name for k in services().accounts.list_keys(account_id, 10, None).items] == ["Default"]


def test_a_key_is_renamed_and_a_blank_name_is_refused() -> None:
    from remit.bootstrap import services

    account_id, _ = account_with_user("ada@example.com")
    ada = signed_in("ada@example.com")
    _create_key(ada, "CI")
    key_id = next(k.id for k in services().accounts.list_keys(account_id, 10, None).items if k.name == "CI")

    page = ada.request("GET", f"{KEYS}/{key_id}")
    assert page["statusCode"] == 200
    assert 'value="CI"' in page["body"]
    blank = ada.post(f"{KEYS}/{key_id}", {"name": ""}, confirmed=False)
    assert blank["statusCode"] == 422
    assert 'id="f-name-error"' in blank["body"]
    assert services().accounts.get_key(account_id, key_id).name == "CI"

    renamed = ada.post(f"{KEYS}/{key_id}", {"name": "Deploys"}, confirmed=False)

    assert renamed["statusCode"] == 303
    assert "renamed to “Deploys”" in text_of(ada.request("GET", KEYS)["body"])
    assert services().accounts.get_key(account_id, key_id).name == "Deploys"


def test_a_revoked_key_is_refused_at_once() -> None:
    from remit.bootstrap import services

    account_id, _ = account_with_user("ada@example.com")
    ada = signed_in("ada@example.com")
    key = _create_key(ada, "CI")
    api = ApiClient(key)
    assert api.request("GET", "/v1/organisations").status == 200  # cached as known in this process
    key_id = next(k.id for k in services().accounts.list_keys(account_id, 10, None).items if k.name == "CI")

    asked = ada.post(f"{KEYS}/{key_id}/revoke", {}, confirmed=False)
    assert asked["statusCode"] == 200
    assert api.request("GET", "/v1/organisations").status == 200  # the question changed nothing

    revoked = ada.post(f"{KEYS}/{key_id}/revoke", {})

    assert revoked["statusCode"] == 303
    assert "revoked" in text_of(ada.request("GET", KEYS)["body"])
    assert api.request("GET", "/v1/organisations").status == 401
    assert [k.name for k in services().accounts.list_keys(account_id, 10, None).items] == ["Default"]


def test_another_accounts_key_answers_not_found() -> None:
    from remit.bootstrap import services

    account_with_user("ada@example.com")
    eve_account, _ = account_with_user("eve@example.com", "Eve Ltd")
    eve_key = services().accounts.list_keys(eve_account, 10, None).items[0]
    ada = signed_in("ada@example.com")

    assert ada.request("GET", f"{KEYS}/{eve_key.id}")["statusCode"] == 404
    assert ada.post(f"{KEYS}/{eve_key.id}", {"name": "Mine"}, confirmed=False)["statusCode"] == 404
    assert ada.post(f"{KEYS}/{eve_key.id}/revoke", {})["statusCode"] == 404
    assert eve_key.id not in ada.request("GET", KEYS)["body"]
    assert services().accounts.get_key(eve_account, eve_key.id).name == "Default"


def test_a_key_issued_before_named_keys_keeps_working_and_is_listed_as_default_after_its_first_use() -> None:
    from datetime import UTC, datetime

    import boto3

    from remit.adapters.dynamodb import DynamoTable
    from remit.adapters.dynamodb_accounts import DynamoAccountRepository
    from remit.bootstrap import services
    from remit.domain.account import Account, api_key_digest

    old_key = "rk_legacy_key_for_the_migration_test_000001"
    # As create-account stored an account before keys had names: a pointer, no record.
    legacy = DynamoAccountRepository(DynamoTable(lambda: boto3.client("dynamodb"), "remit-billing"))
    legacy.add(Account("acct_legacy", "Legacy", datetime(2026, 1, 5, tzinfo=UTC)), api_key_digest(old_key))
    assert services().accounts.list_keys("acct_legacy", 10, None).items == []

    assert ApiClient(old_key).request("GET", "/v1/organisations").status == 200
    services().accounts._known_keys.clear()
    assert ApiClient(old_key).request("GET", "/v1/organisations").status == 200

    adopted = services().accounts.list_keys("acct_legacy", 10, None).items
    assert [(k.name, k.hint, k.created_at.year) for k in adopted] == [("Default", old_key[-4:], 2026)]
    services().accounts.revoke_key("acct_legacy", adopted[0].id)
    assert ApiClient(old_key).request("GET", "/v1/organisations").status == 401


# Sign-in security -------------------------------------------------------------------------------


def test_the_security_page_shows_totp_off_and_starts_a_setup_with_the_secret_as_text() -> None:
    account_with_user("ada@example.com")
    ada = signed_in("ada@example.com")

    page = ada.request("GET", "/dashboard/account/security")
    assert page["statusCode"] == 200
    assert "Authenticator app (TOTP) Off" in text_of(page["body"])

    setup = ada.post("/dashboard/account/security/totp", {}, confirmed=False)

    assert setup["statusCode"] == 200
    secret = re.search(r'<code id="totp-secret">([A-Za-z2-7=]+)</code>', setup["body"])
    assert secret
    assert f"otpauth://totp/Remit%3Aada%40example.com?secret={secret.group(1)}" in setup["body"]


def _code(secret: str) -> str:
    """The authenticator app's current code for `secret` (RFC 6238: SHA-1, 6 digits, 30 s)."""
    import base64
    import time

    from cryptography.hazmat.primitives.hashes import SHA1
    from cryptography.hazmat.primitives.twofactor.totp import TOTP

    padded = secret + "=" * (-len(secret) % 8)
    totp = TOTP(base64.b32decode(padded, casefold=True), 6, SHA1(), 30, enforce_key_length=False)  # noqa: S303
    return totp.generate(time.time()).decode()


def test_totp_is_set_up_with_a_code_and_then_asked_for_at_sign_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")  # moto checks the codes
    account_with_user("ada@example.com")
    ada = signed_in("ada@example.com")
    setup = ada.post("/dashboard/account/security/totp", {}, confirmed=False)
    found = re.search(r'<code id="totp-secret">([A-Za-z2-7=]+)</code>', setup["body"])
    assert found
    secret = found.group(1)

    wrong = ada.post(
        "/dashboard/account/security/totp/verify",
        {"code": "000000" if _code(secret) != "000000" else "111111", "secret": secret, "uri": "x"},
        confirmed=False,
    )
    assert wrong["statusCode"] == 422
    assert 'id="code-error"' in wrong["body"]
    assert secret in wrong["body"]  # the setup goes on with the same secret
    assert "Off" in text_of(ada.request("GET", "/dashboard/account/security")["body"])

    done = ada.post(
        "/dashboard/account/security/totp/verify", {"code": _code(secret), "secret": secret}, confirmed=False
    )
    assert done["statusCode"] == 303
    assert "Authenticator app (TOTP) On" in text_of(ada.request("GET", "/dashboard/account/security")["body"])

    again = Browser()
    first = again.sign_in("ada@example.com", "Correct-horse-9")
    assert first["headers"]["Location"] == "/dashboard/sign-in/code"
    form = again.request("GET", "/dashboard/sign-in/code")
    assert form["statusCode"] == 200
    token = csrf_token(form["body"])
    bad = again.request("POST", "/dashboard/sign-in/code", {"code": "12345x", "csrf_token": token})
    assert bad["statusCode"] == 401
    assert "The code is not right" in text_of(bad["body"])
    assert again.request("GET", PEOPLE)["statusCode"] == 303  # not signed in

    good = again.request("POST", "/dashboard/sign-in/code", {"code": _code(secret), "csrf_token": token})

    assert good["statusCode"] == 303, good["body"]
    assert good["headers"]["Location"] == "/dashboard/"
    assert again.request("GET", PEOPLE)["statusCode"] == 200


def test_wrong_codes_are_throttled_as_wrong_passwords_are(monkeypatch: pytest.MonkeyPatch) -> None:
    from remit.bootstrap import services
    from remit.domain.sessions import MAX_FAILED_SIGN_INS

    monkeypatch.setenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")
    account_with_user("ada@example.com")
    users = services().users
    tokens = users.sign_in("ada@example.com", "Correct-horse-9")
    secret = users.start_totp(tokens.access_token, "ada@example.com").secret
    users.confirm_totp(tokens.access_token, _code(secret))
    browser = Browser()
    browser.sign_in("ada@example.com", "Correct-horse-9")
    token = csrf_token(browser.request("GET", "/dashboard/sign-in/code")["body"])
    wrong = "000000" if _code(secret) != "000000" else "111111"

    for _ in range(MAX_FAILED_SIGN_INS):
        refused = browser.request("POST", "/dashboard/sign-in/code", {"code": wrong, "csrf_token": token})
        assert refused["statusCode"] == 401
    throttled = browser.request(
        "POST", "/dashboard/sign-in/code", {"code": _code(secret), "csrf_token": token}
    )

    assert throttled["statusCode"] == 401
    assert browser.request("GET", PEOPLE)["statusCode"] == 303


def test_a_sign_in_step_expires_after_three_minutes(clock: SettableClock) -> None:
    account_with_user("ada@example.com")
    password = _invite(signed_in("ada@example.com"), "bob@example.com")
    bob = Browser()
    bob.sign_in("bob@example.com", password)
    token = csrf_token(bob.request("GET", "/dashboard/sign-in/new-password")["body"])

    clock.advance(minutes=3, seconds=1)

    late = bob.request(
        "POST",
        "/dashboard/sign-in/new-password",
        {"new_password": "Bobs-own-pass-1", "repeat_password": "Bobs-own-pass-1", "csrf_token": token},
    )
    assert late["statusCode"] == 401
    assert "This sign-in has expired" in text_of(late["body"])
    assert bob.request("GET", "/dashboard/sign-in/new-password")["statusCode"] == 303
    # Nothing was set: the temporary password still leads to the step.
    assert Browser().sign_in("bob@example.com", password)["headers"]["Location"].endswith("/new-password")


def test_keys_are_listed_a_page_at_a_time() -> None:
    from remit.bootstrap import services
    from remit.domain.account import NewApiKey

    account_id, _ = account_with_user("ada@example.com")
    for number in range(20):
        services().accounts.create_key(account_id, NewApiKey(name=f"Key {number:02d}"), "ada@example.com")
    ada = signed_in("ada@example.com")

    first = ada.request("GET", KEYS)
    found = re.search(r'href="(/dashboard/account/api-keys\?cursor=[^"]+)">Next page', first["body"])
    assert found
    second = ada.request("GET", found.group(1).replace("&amp;", "&"))

    assert second["statusCode"] == 200
    assert "Default" in text_of(first["body"])
    assert "Key 19" in text_of(second["body"])
    assert "Next page" not in second["body"]
    assert ada.request("GET", f"{KEYS}?cursor=forged")["statusCode"] == 422

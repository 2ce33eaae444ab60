"""The dashboard's user directory against moto's Cognito: sign-in, refresh, the user's account, sign-out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from local.cloudformation import create_user_pool
from remit.adapters.cognito_users import CognitoUserDirectory
from remit.domain.errors import InvalidInput, Unauthenticated
from remit.domain.users import SignInNeedsMoreSteps, SignInRefused
from tests.clocks import SettableClock

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def directory() -> Iterator[CognitoUserDirectory]:
    # The pool and app client as template.yaml's DashboardUserPool and DashboardUserPoolClient say.
    with mock_aws():
        client = boto3.client("cognito-idp", region_name="eu-west-1")
        pool_id, client_id = create_user_pool(
            client, "DashboardUserPool", "DashboardUserPoolClient", "remit-test-dashboard"
        )
        yield CognitoUserDirectory(lambda: client, pool_id, client_id, SettableClock(NOW))


def test_a_user_signs_in_and_belongs_to_their_account(directory: CognitoUserDirectory) -> None:
    directory.create_user("ada@example.com", "acc_1", "Correct-horse-9")

    tokens = directory.sign_in("ada@example.com", "Correct-horse-9")

    assert tokens.refresh_token
    assert tokens.expires_at > NOW
    user = directory.user_of(tokens.access_token)
    assert (user.email, user.account_id) == ("ada@example.com", "acc_1")


def test_a_wrong_password_and_an_unknown_email_are_refused_alike(directory: CognitoUserDirectory) -> None:
    directory.create_user("ada@example.com", "acc_1", "Correct-horse-9")

    with pytest.raises(SignInRefused) as wrong_password:
        directory.sign_in("ada@example.com", "Wrong-horse-99")
    with pytest.raises(SignInRefused) as unknown_email:
        directory.sign_in("nobody@example.com", "Correct-horse-9")

    assert wrong_password.value.detail == unknown_email.value.detail


def test_a_session_is_refreshed_with_its_refresh_token(directory: CognitoUserDirectory) -> None:
    directory.create_user("ada@example.com", "acc_1", "Correct-horse-9")
    first = directory.sign_in("ada@example.com", "Correct-horse-9")
    assert first.refresh_token is not None

    renewed = directory.refresh("ada@example.com", first.refresh_token)

    assert directory.user_of(renewed.access_token).account_id == "acc_1"


def test_after_sign_out_the_access_token_is_no_longer_honoured(directory: CognitoUserDirectory) -> None:
    directory.create_user("ada@example.com", "acc_1", "Correct-horse-9")
    tokens = directory.sign_in("ada@example.com", "Correct-horse-9")

    directory.sign_out(tokens.access_token)

    with pytest.raises(Unauthenticated):
        directory.user_of(tokens.access_token)


def test_the_same_email_cannot_be_created_twice(directory: CognitoUserDirectory) -> None:
    directory.create_user("ada@example.com", "acc_1", "Correct-horse-9")

    with pytest.raises(InvalidInput):
        directory.create_user("ada@example.com", "acc_2", "Correct-horse-9")


def test_the_pool_from_the_template_refuses_a_password_without_an_upper_case_letter(
    directory: CognitoUserDirectory,
) -> None:
    with pytest.raises(InvalidInput):
        directory.create_user("ada@example.com", "acc_1", "correct-horse-9")


def test_the_services_sign_in_against_the_pool_their_settings_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from remit import bootstrap

    with mock_aws():
        pool_id, client_id = create_user_pool(
            boto3.client("cognito-idp", region_name="eu-west-1"),
            "DashboardUserPool",
            "DashboardUserPoolClient",
            "remit-test-dashboard",
        )
        monkeypatch.setenv("REMIT_USER_POOL_ID", pool_id)
        monkeypatch.setenv("REMIT_USER_POOL_CLIENT_ID", client_id)
        bootstrap.reset()
        try:
            users = bootstrap.services().users
            users.create_user("ada@example.com", "acc_1", "Correct-horse-9")

            tokens = users.sign_in("ada@example.com", "Correct-horse-9")

            assert users.user_of(tokens.access_token).account_id == "acc_1"
        finally:
            bootstrap.reset()


# Invitations, sign-in steps, removal, TOTP -------------------------------------------------------


def test_an_invited_user_must_choose_a_password_the_pools_policy_accepts(
    directory: CognitoUserDirectory,
) -> None:
    directory.invite("bob@example.com", "acc_1", "Temporary-pass-1")

    with pytest.raises(SignInNeedsMoreSteps) as step:
        directory.sign_in("bob@example.com", "Temporary-pass-1")
    assert step.value.challenge == "NEW_PASSWORD_REQUIRED"
    assert step.value.session

    with pytest.raises(InvalidInput) as weak:
        directory.respond(
            "bob@example.com", "NEW_PASSWORD_REQUIRED", step.value.session, {"NEW_PASSWORD": "weak"}
        )
    assert weak.value.problems[0].field == "new_password"

    tokens = directory.respond(
        "bob@example.com", "NEW_PASSWORD_REQUIRED", step.value.session, {"NEW_PASSWORD": "Bobs-own-pass-1"}
    )
    assert directory.user_of(tokens.access_token).account_id == "acc_1"
    assert directory.sign_in("bob@example.com", "Bobs-own-pass-1").access_token


def test_a_step_with_an_unknown_session_or_no_answer_is_refused(directory: CognitoUserDirectory) -> None:
    directory.invite("bob@example.com", "acc_1", "Temporary-pass-1")

    with pytest.raises(SignInRefused):
        directory.respond(
            "bob@example.com",
            "NEW_PASSWORD_REQUIRED",
            "an-expired-session-0000000000",
            {"NEW_PASSWORD": "Bobs-own-pass-1"},
        )
    with pytest.raises(SignInRefused):
        directory.respond("bob@example.com", "SOFTWARE_TOKEN_MFA", "whatever", {})


def test_an_invitation_of_a_taken_email_is_refused(directory: CognitoUserDirectory) -> None:
    directory.create_user("ada@example.com", "acc_1", "Correct-horse-9")

    with pytest.raises(InvalidInput) as taken:
        directory.invite("ada@example.com", "acc_2", None)
    assert taken.value.problems[0].field == "email"


def test_a_removed_user_is_signed_out_and_cannot_sign_in(directory: CognitoUserDirectory) -> None:
    directory.create_user("ada@example.com", "acc_1", "Correct-horse-9")
    tokens = directory.sign_in("ada@example.com", "Correct-horse-9")
    assert tokens.refresh_token is not None

    directory.remove("ada@example.com")
    directory.remove("ada@example.com")  # idempotent

    with pytest.raises(SignInRefused):
        directory.sign_in("ada@example.com", "Correct-horse-9")
    with pytest.raises(Unauthenticated):
        directory.refresh("ada@example.com", tokens.refresh_token)


def test_totp_is_confirmed_with_a_code_and_then_asked_for_at_sign_in(
    directory: CognitoUserDirectory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")
    directory.create_user("ada@example.com", "acc_1", "Correct-horse-9")
    tokens = directory.sign_in("ada@example.com", "Correct-horse-9")
    assert not directory.totp_enabled(tokens.access_token)

    setup = directory.start_totp(tokens.access_token, "ada@example.com")
    assert setup.uri.startswith("otpauth://totp/Remit%3Aada%40example.com?secret=")
    with pytest.raises(InvalidInput) as wrong:
        directory.confirm_totp(tokens.access_token, _other_code(_code(setup.secret)))
    assert wrong.value.problems[0].field == "code"
    directory.confirm_totp(tokens.access_token, _code(setup.secret))

    assert directory.totp_enabled(tokens.access_token)
    with pytest.raises(SignInNeedsMoreSteps) as step:
        directory.sign_in("ada@example.com", "Correct-horse-9")
    assert step.value.challenge == "SOFTWARE_TOKEN_MFA"
    with pytest.raises(SignInRefused):
        directory.respond(
            "ada@example.com",
            "SOFTWARE_TOKEN_MFA",
            step.value.session,
            {"SOFTWARE_TOKEN_MFA_CODE": _other_code(_code(setup.secret))},
        )
    signed_in = directory.respond(
        "ada@example.com",
        "SOFTWARE_TOKEN_MFA",
        step.value.session,
        {"SOFTWARE_TOKEN_MFA_CODE": _code(setup.secret)},
    )
    assert directory.user_of(signed_in.access_token).email == "ada@example.com"


def test_an_invitation_without_a_temporary_password_lets_cognito_email_it() -> None:
    """moto sends no email: the request itself is checked with botocore's Stubber."""
    from botocore.stub import Stubber

    client = boto3.client("cognito-idp", region_name="eu-west-1")
    directory = CognitoUserDirectory(lambda: client, "eu-west-1_pool", "client", SettableClock(NOW))
    with Stubber(client) as stub:
        stub.add_response(
            "admin_create_user",
            {"User": {"Username": "bob@example.com"}},
            {
                "UserPoolId": "eu-west-1_pool",
                "Username": "bob@example.com",
                "UserAttributes": [
                    {"Name": "email", "Value": "bob@example.com"},
                    {"Name": "email_verified", "Value": "true"},
                    {"Name": "custom:account_id", "Value": "acc_1"},
                ],
                "DesiredDeliveryMediums": ["EMAIL"],
            },
        )
        directory.invite("bob@example.com", "acc_1", None)
        stub.assert_no_pending_responses()


def _code(secret: str) -> str:
    import base64
    import time

    from cryptography.hazmat.primitives.hashes import SHA1
    from cryptography.hazmat.primitives.twofactor.totp import TOTP

    padded = secret + "=" * (-len(secret) % 8)
    totp = TOTP(base64.b32decode(padded, casefold=True), 6, SHA1(), 30, enforce_key_length=False)  # noqa: S303
    return totp.generate(time.time()).decode()


def _other_code(code: str) -> str:
    return "000000" if code != "000000" else "111111"

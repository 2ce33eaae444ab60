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
from remit.domain.users import SignInRefused

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


class FixedClock:
    def now(self) -> datetime:
        return NOW


@pytest.fixture
def directory() -> Iterator[CognitoUserDirectory]:
    # The pool and app client as template.yaml's DashboardUserPool and DashboardUserPoolClient say.
    with mock_aws():
        client = boto3.client("cognito-idp", region_name="eu-west-1")
        pool_id, client_id = create_user_pool(
            client, "DashboardUserPool", "DashboardUserPoolClient", "remit-test-dashboard"
        )
        yield CognitoUserDirectory(lambda: client, pool_id, client_id, FixedClock())


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

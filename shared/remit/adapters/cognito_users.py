"""The dashboard's users in an Amazon Cognito user pool: email as the username, the account in the
`custom:account_id` attribute (set by an administrator; the app client cannot write it).

Sign-in is server-side (`ADMIN_USER_PASSWORD_AUTH`): the password reaches the dashboard function
and Cognito, never a script in the page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from remit.domain.errors import FieldProblem, InvalidInput, Unauthenticated
from remit.domain.users import DashboardUser, SessionTokens, SignInNeedsMoreSteps, SignInRefused
from remit.ports import Clock

ACCOUNT_ATTRIBUTE = "custom:account_id"
# Cognito's answers to a wrong password, an unknown or disabled user, a revoked token.
_REFUSALS = frozenset({"NotAuthorizedException", "UserNotFoundException", "UserNotConfirmedException"})


class CognitoUserDirectory:
    """`remit.ports.UserDirectory` over the `cognito-idp` API."""

    def __init__(self, client: Callable[[], Any], user_pool_id: str, client_id: str, clock: Clock) -> None:
        self._client = client
        self._user_pool_id = user_pool_id
        self._client_id = client_id
        self._clock = clock

    def sign_in(self, email: str, password: str) -> SessionTokens:
        try:
            answer = self._client().admin_initiate_auth(
                UserPoolId=self._user_pool_id,
                ClientId=self._client_id,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": email, "PASSWORD": password},
            )
        except ClientError as error:
            if _code(error) in _REFUSALS:
                raise SignInRefused() from None
            raise
        if "AuthenticationResult" not in answer:
            raise SignInNeedsMoreSteps(str(answer.get("ChallengeName", "unknown")))
        return self._tokens(answer["AuthenticationResult"])

    def refresh(self, email: str, refresh_token: str) -> SessionTokens:
        try:
            answer = self._client().admin_initiate_auth(
                UserPoolId=self._user_pool_id,
                ClientId=self._client_id,
                AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": refresh_token, "USERNAME": email},
            )
        except ClientError as error:
            if _code(error) in _REFUSALS:
                raise Unauthenticated("The session has ended; sign in again.") from None
            raise
        return self._tokens(answer["AuthenticationResult"])

    def user_of(self, access_token: str) -> DashboardUser:
        try:
            answer = self._client().get_user(AccessToken=access_token)
        except ClientError as error:
            if _code(error) in _REFUSALS:
                raise Unauthenticated("The session has ended; sign in again.") from None
            raise
        attributes = {item["Name"]: item["Value"] for item in answer.get("UserAttributes", [])}
        account_id = attributes.get(ACCOUNT_ATTRIBUTE)
        if not account_id:
            # A user nobody gave an account reaches nothing.
            raise Unauthenticated("This user belongs to no account.")
        return DashboardUser(email=attributes.get("email", answer["Username"]), account_id=account_id)

    def sign_out(self, access_token: str) -> None:
        try:
            self._client().global_sign_out(AccessToken=access_token)
        except ClientError as error:
            if _code(error) not in _REFUSALS:
                raise

    def create_user(self, email: str, account_id: str, password: str) -> None:
        """Create a confirmed user of `account_id` with a permanent password; no email is sent.

        Raises `InvalidInput` for a password the pool's policy refuses or an email already taken.
        """
        client = self._client()
        try:
            client.admin_create_user(
                UserPoolId=self._user_pool_id,
                Username=email,
                UserAttributes=[
                    {"Name": "email", "Value": email},
                    {"Name": "email_verified", "Value": "true"},
                    {"Name": ACCOUNT_ATTRIBUTE, "Value": account_id},
                ],
                MessageAction="SUPPRESS",
            )
            client.admin_set_user_password(
                UserPoolId=self._user_pool_id, Username=email, Password=password, Permanent=True
            )
        except ClientError as error:
            if _code(error) == "UsernameExistsException":
                raise InvalidInput([FieldProblem("email", "A user with this email exists.")]) from None
            if _code(error) == "InvalidPasswordException":
                message = error.response.get("Error", {}).get("Message", "The password is too weak.")
                raise InvalidInput([FieldProblem("password", message)]) from None
            raise

    def _tokens(self, result: dict[str, Any]) -> SessionTokens:
        expires_at: datetime = self._clock.now() + timedelta(seconds=int(result.get("ExpiresIn", 3600)))
        return SessionTokens(
            access_token=result["AccessToken"],
            refresh_token=result.get("RefreshToken"),
            expires_at=expires_at,
        )


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))

"""The dashboard's users in an Amazon Cognito user pool: email as the username, the account in the
`custom:account_id` attribute (set by an administrator; the app client cannot write it).

Sign-in is server-side (`ADMIN_USER_PASSWORD_AUTH`): the password reaches the dashboard function
and Cognito, never a script in the page. Its further steps (`NEW_PASSWORD_REQUIRED` for invited
users, `SOFTWARE_TOKEN_MFA` for users with TOTP) are answered with `AdminRespondToAuthChallenge`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from botocore.exceptions import ClientError

from remit.domain.errors import FieldProblem, InvalidInput, Unauthenticated
from remit.domain.users import (
    DashboardUser,
    SessionTokens,
    SignInNeedsMoreSteps,
    SignInRefused,
    SignInStepExpired,
    TotpSetup,
)
from remit.ports.clock import Clock

ACCOUNT_ATTRIBUTE = "custom:account_id"
# Cognito's answers to a wrong password, an unknown or disabled user, a revoked token.
_REFUSALS = frozenset({"NotAuthorizedException", "UserNotFoundException", "UserNotConfirmedException"})
# Cognito's answers to a wrong TOTP code (the step stands: another code may follow), and to a
# step's session that has expired or was spent (sign in again).
_WRONG_CODE = frozenset({"CodeMismatchException"})
_STEP_OVER = _REFUSALS | {"ExpiredCodeException", "InvalidParameterException", "ResourceNotFoundException"}
_CHALLENGE_ANSWERS = {
    "NEW_PASSWORD_REQUIRED": "NEW_PASSWORD",
    "SOFTWARE_TOKEN_MFA": "SOFTWARE_TOKEN_MFA_CODE",
}
ISSUER = "Remit"


class CognitoUserDirectory:
    """`remit.ports.people.UserDirectory` over the `cognito-idp` API."""

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
        return self._result(answer)

    def respond(self, email: str, challenge: str, session: str, answers: Mapping[str, str]) -> SessionTokens:
        wanted = _CHALLENGE_ANSWERS.get(challenge)
        if wanted is None or not answers.get(wanted):
            raise SignInRefused()
        try:
            answer = self._client().admin_respond_to_auth_challenge(
                UserPoolId=self._user_pool_id,
                ClientId=self._client_id,
                ChallengeName=challenge,
                ChallengeResponses={"USERNAME": email, wanted: answers[wanted]},
                Session=session,
            )
        except ClientError as error:
            if _code(error) == "InvalidPasswordException":
                raise InvalidInput([FieldProblem("new_password", _message(error))]) from None
            if _code(error) in _WRONG_CODE:
                raise SignInRefused() from None
            if _code(error) in _STEP_OVER:
                raise SignInStepExpired() from None
            raise
        return self._result(answer)

    def _result(self, answer: dict[str, Any]) -> SessionTokens:
        if "AuthenticationResult" not in answer:
            raise SignInNeedsMoreSteps(
                str(answer.get("ChallengeName", "unknown")), str(answer.get("Session", ""))
            )
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

    def invite(self, email: str, account_id: str, temporary_password: str | None) -> None:
        request: dict[str, Any] = {
            "UserPoolId": self._user_pool_id,
            "Username": email,
            "UserAttributes": [
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
                {"Name": ACCOUNT_ATTRIBUTE, "Value": account_id},
            ],
            "DesiredDeliveryMediums": ["EMAIL"],
        }
        if temporary_password is not None:
            request.update(TemporaryPassword=temporary_password, MessageAction="SUPPRESS")
        try:
            self._client().admin_create_user(**request)
        except ClientError as error:
            if _code(error) == "UsernameExistsException":
                raise InvalidInput([FieldProblem("email", "A user with this email exists.")]) from None
            if _code(error) == "InvalidParameterException":
                raise InvalidInput([FieldProblem("email", _message(error))]) from None
            raise

    def remove(self, email: str) -> None:
        client = self._client()
        try:
            client.admin_user_global_sign_out(UserPoolId=self._user_pool_id, Username=email)
            client.admin_delete_user(UserPoolId=self._user_pool_id, Username=email)
        except ClientError as error:
            if _code(error) != "UserNotFoundException":
                raise

    def start_totp(self, access_token: str, email: str) -> TotpSetup:
        try:
            answer = self._client().associate_software_token(AccessToken=access_token)
        except ClientError as error:
            if _code(error) in _REFUSALS:
                raise Unauthenticated("The session has ended; sign in again.") from None
            raise
        secret = str(answer["SecretCode"])
        label = quote(f"{ISSUER}:{email}")
        return TotpSetup(secret, f"otpauth://totp/{label}?{urlencode({'secret': secret, 'issuer': ISSUER})}")

    def confirm_totp(self, access_token: str, code: str) -> None:
        client = self._client()
        try:
            answer = client.verify_software_token(
                AccessToken=access_token, UserCode=code.strip(), FriendlyDeviceName="Remit dashboard"
            )
        except ClientError as error:
            if _code(error) in {
                "CodeMismatchException",
                "EnableSoftwareTokenMFAException",
                "InvalidParameterException",
            }:
                raise InvalidInput(
                    [FieldProblem("code", "The code is not right; try the current one.")]
                ) from None
            raise
        if answer.get("Status") != "SUCCESS":
            raise InvalidInput([FieldProblem("code", "The code is not right; try the current one.")])
        client.set_user_mfa_preference(
            AccessToken=access_token, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
        )

    def totp_enabled(self, access_token: str) -> bool:
        try:
            answer = self._client().get_user(AccessToken=access_token)
        except ClientError as error:
            if _code(error) in _REFUSALS:
                raise Unauthenticated("The session has ended; sign in again.") from None
            raise
        return "SOFTWARE_TOKEN_MFA" in (answer.get("UserMFASettingList") or []) or (
            answer.get("PreferredMfaSetting") == "SOFTWARE_TOKEN_MFA"
        )

    def _tokens(self, result: dict[str, Any]) -> SessionTokens:
        expires_at: datetime = self._clock.now() + timedelta(seconds=int(result.get("ExpiresIn", 3600)))
        return SessionTokens(
            access_token=result["AccessToken"],
            refresh_token=result.get("RefreshToken"),
            expires_at=expires_at,
        )


def _message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", "")) or "This value is refused."


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))

"""The people of an account: members and roles, the user directory, dashboard sessions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from remit.domain.pagination import Page
from remit.domain.roles import Role
from remit.domain.sessions import DashboardSession
from remit.domain.users import AccountMember, DashboardUser, PendingSignIn, SessionTokens, TotpSetup


class MemberRepository(Protocol):
    """The dashboard users each account lists, with their roles (written on invite, on first
    sign-in, on a role change, on removal).

    `change_role` and `mark_removing` commit only if the member still has the role it was read
    with and is not being removed, and, when `keep_owner` names another member, only if that
    member is still an owner not being removed (one transaction): two owners taking each other's
    ownership at once can never leave the account without one. `ConcurrentUpdate` otherwise.
    """

    def add_member(self, member: AccountMember) -> bool:
        """Record the member; False when already recorded (nothing changed)."""
        ...

    def get_member(self, account_id: str, member_id: str) -> AccountMember | None: ...

    def list_members(self, account_id: str, limit: int, cursor: str | None) -> Page[AccountMember]: ...

    def all_members(self, account_id: str) -> list[AccountMember]:
        """Every member of the account (an account has few people)."""
        ...

    def change_role(self, member: AccountMember, role: Role, keep_owner: str | None) -> None: ...

    def mark_removing(self, member: AccountMember, keep_owner: str | None) -> None: ...

    def remove_member(self, account_id: str, member_id: str) -> None: ...


class UserDirectory(Protocol):
    """The dashboard's users (Amazon Cognito in AWS, moto's in the local stack and the tests).

    `sign_in` raises `SignInRefused` for a wrong email or password and `SignInNeedsMoreSteps` when
    the directory asks for more (TOTP, a new password); `refresh` and `user_of` raise
    `Unauthenticated` for a token the directory no longer honours.
    """

    def sign_in(self, email: str, password: str) -> SessionTokens: ...

    def refresh(self, email: str, refresh_token: str) -> SessionTokens: ...

    def user_of(self, access_token: str) -> DashboardUser: ...

    def sign_out(self, access_token: str) -> None: ...

    def create_user(self, email: str, account_id: str, password: str) -> None: ...

    def invite(self, email: str, account_id: str, temporary_password: str | None) -> None:
        """Create a user of `account_id` who must set a new password at first sign-in: the
        directory emails a temporary password it makes, or `temporary_password` is set and nothing
        is sent. `InvalidInput` (field `email`) for an email already taken or refused.
        """
        ...

    def respond(self, email: str, challenge: str, session: str, answers: Mapping[str, str]) -> SessionTokens:
        """Answer a sign-in step (`NEW_PASSWORD` or `SOFTWARE_TOKEN_MFA_CODE` in `answers`).

        Raises `SignInNeedsMoreSteps` for yet another step, `SignInRefused` for a wrong code or an
        expired step, `InvalidInput` (field `new_password`) for a password the policy refuses.
        """
        ...

    def remove(self, email: str) -> None:
        """Sign the user out everywhere (refresh tokens revoked) and delete them. Idempotent."""
        ...

    def start_totp(self, access_token: str, email: str) -> TotpSetup:
        """A new software-token secret for the signed-in user (not in use until confirmed)."""
        ...

    def confirm_totp(self, access_token: str, code: str) -> None:
        """Check a code of the new secret and make TOTP the user's sign-in step.

        `InvalidInput` (field `code`) for a wrong code.
        """
        ...

    def totp_enabled(self, access_token: str) -> bool: ...


class SessionStore(Protocol):
    """Dashboard sessions and failed sign-in counters (DynamoDB's `SessionsTable`, expired by TTL).

    `get` returns None for an unknown or expired session; `failed_sign_ins` counts the failures of
    one email digest in the window that starts at `window_start`.
    """

    def add(self, session: DashboardSession) -> None: ...

    def get(self, session_digest: str, now: datetime) -> DashboardSession | None: ...

    def replace_tokens(self, session_digest: str, tokens: SessionTokens) -> None: ...

    def remove(self, session_digest: str) -> None: ...

    def count_failed_sign_in(
        self, email_digest: str, window_start: datetime, window_end: datetime
    ) -> int: ...

    def failed_sign_ins(self, email_digest: str, window_start: datetime) -> int: ...

    def remove_sessions_of(self, email_digest: str) -> int:
        """End every session of the email (the user was removed); returns how many ended."""
        ...

    def add_pending(self, pending: PendingSignIn) -> None:
        """Keep a sign-in waiting for its next step (replacing one of the same digest)."""
        ...

    def get_pending(self, step_digest: str, now: datetime) -> PendingSignIn | None: ...

    def remove_pending(self, step_digest: str) -> None: ...

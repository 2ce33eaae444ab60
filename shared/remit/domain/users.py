"""The people who sign in to the dashboard: each belongs to exactly one account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from remit.domain.errors import DomainError
from remit.domain.roles import DEFAULT_INVITED_ROLE, Membership, Role
from remit.domain.values import EmailAddress, Strict


@dataclass(frozen=True)
class SessionTokens:
    """What a successful sign-in or refresh hands back: opaque tokens and when the access ends.

    `refresh_token` is None after a refresh (the directory keeps the one it had issued).
    """

    access_token: str
    refresh_token: str | None
    expires_at: datetime


@dataclass(frozen=True)
class DashboardUser:
    """A signed-in person: their email and the one account whose organisations they reach."""

    email: str
    account_id: str


class SignInRefused(DomainError):
    """Wrong email or password, or an unknown or disabled user: the page never says which."""

    def __init__(self) -> None:
        super().__init__("The email or password is not right.")


class SignInStepExpired(SignInRefused):
    """The directory no longer honours the pending step (expired, spent): sign in again."""


class SignInNeedsMoreSteps(DomainError):
    """The directory asks for a further step (a TOTP code, a new password) before it signs in;
    `session` is the directory's own token for the step (kept on the server, never in a page).
    """

    def __init__(self, challenge: str, session: str = "") -> None:
        super().__init__(f"Signing in needs a further step: {challenge}.")
        self.challenge = challenge
        self.session = session


class Invitation(Strict):
    """A person to invite to the account's dashboard, by email, with the role they will have
    (the dashboard's form).
    """

    email: EmailAddress
    role: Role = DEFAULT_INVITED_ROLE


class RoleChange(Strict):
    """A member's new role (the people page's form)."""

    role: Role


class SignInStep(DomainError):
    """Signing in goes on with a further step: `challenge` is `NEW_PASSWORD_REQUIRED` or
    `SOFTWARE_TOKEN_MFA`; `step_id` names the pending step kept on the server (for a cookie only).
    """

    def __init__(self, challenge: str, step_id: str) -> None:
        super().__init__(f"Signing in needs a further step: {challenge}.")
        self.challenge = challenge
        self.step_id = step_id


@dataclass(frozen=True)
class PendingSignIn:
    """A sign-in waiting for its next step: the directory's session for it stays on the server."""

    step_digest: str
    email: str
    challenge: str
    directory_session: str
    expires_at: datetime


@dataclass(frozen=True)
class AccountMember:
    """A dashboard user as their account lists them (the directory cannot list by account), with
    their role. A member `removing` is being removed: no longer a member (refused at sign-in and
    at every request), listed until the removal is finished.
    """

    id: str  # a digest of the email: stable, and fit for a path
    account_id: str
    email: str
    added_at: datetime
    added_by: str | None
    role: Role
    removing: bool = False

    @property
    def membership(self) -> Membership:
        return Membership(self.id, self.role, self.removing)


@dataclass(frozen=True)
class Invited:
    """An invited user; `temporary_password` only where the stack shows it (the local stack)."""

    member: AccountMember
    temporary_password: str | None


@dataclass(frozen=True)
class TotpSetup:
    """A software token being set up: the secret, as text and as an otpauth:// URI."""

    secret: str
    uri: str


def member_id(email: str) -> str:
    """The member's id: the first 32 hex digits of the SHA-256 of the lower-case email."""
    import hashlib

    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]

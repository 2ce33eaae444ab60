"""The people who sign in to the dashboard: each belongs to exactly one account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from remit.domain.errors import DomainError


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


class SignInNeedsMoreSteps(DomainError):
    """The directory asks for a further step (a TOTP code, a new password) before it signs in."""

    def __init__(self, challenge: str) -> None:
        super().__init__(f"Signing in needs a further step: {challenge}.")
        self.challenge = challenge

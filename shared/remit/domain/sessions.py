"""A signed-in person's dashboard session, and the rules that bound it.

The browser holds only a random session id (in the `__Host-remit_session` cookie); the store
keys the session by that id's SHA-256, so a leaked table reveals no cookie. Each session has its
own CSRF token, which every state-changing form carries back.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from remit.domain.errors import DomainError
from remit.domain.roles import Caller
from remit.domain.users import AccountMember, SessionTokens

#: A session lasts as long as the pool's refresh token (template.yaml: 12 hours).
SESSION_LIFETIME = timedelta(hours=12)
#: The access token is refreshed once it has less than this left.
REFRESH_MARGIN = timedelta(minutes=5)
#: Failed sign-ins of one email counted per window; at the limit, sign-in is refused until it ends.
SIGN_IN_WINDOW = timedelta(minutes=15)
MAX_FAILED_SIGN_INS = 5
#: A sign-in waiting for a new password or a TOTP code: as long as the pool's session for it
#: (Cognito's default, 3 minutes).
SIGN_IN_STEP_LIFETIME = timedelta(minutes=3)


@dataclass(frozen=True)
class DashboardSession:
    """What the server keeps for a session: who, in which account, their tokens, the CSRF token."""

    session_digest: str
    email: str
    account_id: str
    tokens: SessionTokens
    refresh_token: str
    csrf_token: str
    expires_at: datetime

    def needs_refresh(self, now: datetime) -> bool:
        return self.tokens.expires_at - now < REFRESH_MARGIN

    def accepts_csrf(self, presented: str | None) -> bool:
        """Whether a form's token is this session's, compared in constant time."""
        return presented is not None and hmac.compare_digest(presented.encode(), self.csrf_token.encode())


@dataclass(frozen=True)
class SignedIn:
    """A session as one request finds it: the session, and its person as the account lists them
    now (read for this request only, so a role change or a removal counts from the next request).
    """

    session: DashboardSession
    member: AccountMember

    @property
    def caller(self) -> Caller:
        return Caller.member(self.session.account_id, self.session.email, self.member.role)


class SignInThrottled(DomainError):
    """Too many failed sign-ins for this email lately: answered exactly as a wrong password is."""

    def __init__(self) -> None:
        super().__init__("The email or password is not right.")


class CsrfRefused(DomainError):
    """A state-changing form came without this session's CSRF token."""

    def __init__(self) -> None:
        super().__init__("This form has expired; reload the page and try again.")


def new_secret() -> str:
    """A random, URL-safe secret (256 bits): a session id or a CSRF token."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """The SHA-256 of a session id or an email, as the store keys it."""
    return hashlib.sha256(secret.encode()).hexdigest()

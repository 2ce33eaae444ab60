"""Dashboard sessions: sign-in with throttling, the signed-in session (refreshed before it
expires), the CSRF check, sign-out.

The browser holds a random session id only; the tokens stay on the server.
"""

from __future__ import annotations

from datetime import UTC, datetime

from remit.domain.errors import Unauthenticated
from remit.domain.sessions import (
    MAX_FAILED_SIGN_INS,
    SESSION_LIFETIME,
    SIGN_IN_WINDOW,
    CsrfRefused,
    DashboardSession,
    SignInThrottled,
    digest,
    new_secret,
)
from remit.domain.users import SignInRefused
from remit.ports import Clock, SessionStore, UserDirectory


class DashboardSessionService:
    def __init__(self, users: UserDirectory, store: SessionStore, clock: Clock) -> None:
        self._users = users
        self._store = store
        self._clock = clock

    def sign_in(self, email: str, password: str) -> tuple[str, DashboardSession]:
        """Sign in and open a session; return the session id (for the cookie only) and the session.

        Raises `SignInRefused` for a wrong email or password, counting the failure against the
        email; `SignInThrottled` (the same message) when the email has failed
        `MAX_FAILED_SIGN_INS` times in the current window, without asking the directory;
        `SignInNeedsMoreSteps` when the directory asks for more.
        """
        email = email.strip().lower()
        now = self._clock.now()
        email_digest = digest(email)
        window_start, window_end = _window(now)
        if self._store.failed_sign_ins(email_digest, window_start) >= MAX_FAILED_SIGN_INS:
            raise SignInThrottled()
        try:
            tokens = self._users.sign_in(email, password)
        except SignInRefused:
            self._store.count_failed_sign_in(email_digest, window_start, window_end)
            raise
        user = self._users.user_of(tokens.access_token)
        if tokens.refresh_token is None:
            raise Unauthenticated("The directory issued no refresh token.")
        session_id = new_secret()
        session = DashboardSession(
            session_digest=digest(session_id),
            email=user.email,
            account_id=user.account_id,
            tokens=tokens,
            refresh_token=tokens.refresh_token,
            csrf_token=new_secret(),
            expires_at=now + SESSION_LIFETIME,
        )
        self._store.add(session)
        return session_id, session

    def current(self, session_id: str | None) -> DashboardSession | None:
        """The session the cookie names, its access token refreshed when under five minutes are
        left; None for no cookie, an unknown or expired session, or one the directory ended.
        """
        if not session_id:
            return None
        now = self._clock.now()
        session = self._store.get(digest(session_id), now)
        if session is None or not session.needs_refresh(now):
            return session
        try:
            tokens = self._users.refresh(session.email, session.refresh_token)
        except Unauthenticated:
            self._store.remove(session.session_digest)
            return None
        self._store.replace_tokens(session.session_digest, tokens)
        return DashboardSession(**{**session.__dict__, "tokens": tokens})

    @staticmethod
    def check_csrf(session: DashboardSession, presented: str | None) -> None:
        """Raise `CsrfRefused` unless `presented` is the session's CSRF token (constant time)."""
        if not session.accepts_csrf(presented):
            raise CsrfRefused()

    def sign_out(self, session: DashboardSession) -> None:
        """Sign the user out of the directory everywhere and delete the session. Idempotent."""
        self._users.sign_out(session.tokens.access_token)
        self._store.remove(session.session_digest)


def _window(now: datetime) -> tuple[datetime, datetime]:
    """The throttling window `now` falls in: fixed windows of `SIGN_IN_WINDOW` since the epoch."""
    size = int(SIGN_IN_WINDOW.total_seconds())
    start = int(now.timestamp()) // size * size
    return datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(start + size, UTC)

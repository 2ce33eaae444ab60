"""Dashboard sessions: sign-in with throttling and its further steps (a new password, a TOTP
code), the signed-in session (refreshed before it expires), the CSRF check, sign-out.

The browser holds a random session id only; the tokens stay on the server. A sign-in waiting for
a further step is kept on the server too (with the directory's session for it); the browser holds
only a random id for it.

Every request reads the person's membership afresh (`current`): a session whose person is no
longer a member of the account, or is being removed, ends at its next request, whether or not
ending their sessions at removal went through; their role is the one recorded now.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from remit.domain.errors import Unauthenticated
from remit.domain.roles import UNRECORDED_ROLE
from remit.domain.sessions import (
    MAX_FAILED_SIGN_INS,
    SESSION_LIFETIME,
    SIGN_IN_STEP_LIFETIME,
    SIGN_IN_WINDOW,
    CsrfRefused,
    DashboardSession,
    SignedIn,
    SignInThrottled,
    digest,
    new_secret,
)
from remit.domain.users import (
    AccountMember,
    PendingSignIn,
    SessionTokens,
    SignInNeedsMoreSteps,
    SignInRefused,
    SignInStep,
    SignInStepExpired,
    member_id,
)
from remit.ports.clock import Clock
from remit.ports.people import MemberRepository, SessionStore, UserDirectory


class DashboardSessionService:
    def __init__(
        self, users: UserDirectory, store: SessionStore, clock: Clock, members: MemberRepository
    ) -> None:
        self._users = users
        self._store = store
        self._clock = clock
        self._members = members

    def sign_in(self, email: str, password: str) -> tuple[str, DashboardSession]:
        """Sign in and open a session; return the session id (for the cookie only) and the session.

        Raises `SignInRefused` for a wrong email or password, counting the failure against the
        email; `SignInThrottled` (the same message) when the email has failed
        `MAX_FAILED_SIGN_INS` times in the current window, without asking the directory;
        `SignInStep` when the directory asks for more (then `continue_sign_in`).
        """
        email = email.strip().lower()
        self._check_throttle(email)
        try:
            tokens = self._users.sign_in(email, password)
        except SignInRefused:
            self._count_failure(email)
            raise
        except SignInNeedsMoreSteps as step:
            raise self._pending(email, step) from None
        return self._open(tokens)

    def continue_sign_in(
        self, step_id: str | None, answers: Mapping[str, str]
    ) -> tuple[str, DashboardSession]:
        """Answer the pending step `step_id` names (`NEW_PASSWORD` or `SOFTWARE_TOKEN_MFA_CODE`).

        Raises `SignInRefused` for an unknown or expired step or a wrong code (counted against the
        email, throttled as the password step is), `SignInStep` for yet another step,
        `InvalidInput` for a new password the directory's policy refuses (the step stays).
        """
        now = self._clock.now()
        pending = self._store.get_pending(digest(step_id), now) if step_id else None
        if pending is None:
            raise SignInRefused()
        self._check_throttle(pending.email)
        try:
            tokens = self._users.respond(pending.email, pending.challenge, pending.directory_session, answers)
        except SignInRefused as refused:
            self._count_failure(pending.email)
            if isinstance(refused, SignInStepExpired):
                self._store.remove_pending(pending.step_digest)
            raise
        except SignInNeedsMoreSteps as step:
            self._store.remove_pending(pending.step_digest)
            raise self._pending(pending.email, step) from None
        self._store.remove_pending(pending.step_digest)
        return self._open(tokens)

    def pending_step(self, step_id: str | None) -> str | None:
        """The challenge a pending sign-in waits for, None if it is unknown or expired."""
        if not step_id:
            return None
        pending = self._store.get_pending(digest(step_id), self._clock.now())
        return pending.challenge if pending else None

    def end_sessions_of(self, email: str) -> int:
        """End every dashboard session of `email` (the user was removed); how many ended."""
        return self._store.remove_sessions_of(digest(email.strip().lower()))

    def _check_throttle(self, email: str) -> None:
        window_start, _ = _window(self._clock.now())
        if self._store.failed_sign_ins(digest(email), window_start) >= MAX_FAILED_SIGN_INS:
            raise SignInThrottled()

    def _count_failure(self, email: str) -> None:
        window_start, window_end = _window(self._clock.now())
        self._store.count_failed_sign_in(digest(email), window_start, window_end)

    def _pending(self, email: str, step: SignInNeedsMoreSteps) -> SignInStep:
        step_id = new_secret()
        expires_at = self._clock.now() + SIGN_IN_STEP_LIFETIME
        self._store.add_pending(
            PendingSignIn(digest(step_id), email, step.challenge, step.session, expires_at)
        )
        return SignInStep(step.challenge, step_id)

    def _open(self, tokens: SessionTokens) -> tuple[str, DashboardSession]:
        now = self._clock.now()
        user = self._users.user_of(tokens.access_token)
        if tokens.refresh_token is None:
            raise Unauthenticated("The directory issued no refresh token.")
        self._admit(user.email, user.account_id, now)
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

    def _admit(self, email: str, account_id: str, now: datetime) -> None:
        """List a user the account does not list yet (made before accounts listed their members,
        or by `create-user`: the account's first user, an owner); `SignInRefused` for one being
        removed, whom the directory still knew.
        """
        unlisted = AccountMember(member_id(email), account_id, email, now, None, UNRECORDED_ROLE)
        if self._members.add_member(unlisted):
            return
        member = self._members.get_member(account_id, unlisted.id)
        if member is None or member.removing:
            raise SignInRefused()

    def current(self, session_id: str | None) -> SignedIn | None:
        """The session the cookie names and its person's membership as recorded now, the access
        token refreshed when under five minutes are left. None for no cookie, an unknown or expired
        session, one the directory ended, or one whose person is no longer a member of the
        account (or is being removed): that session is ended.
        """
        if not session_id:
            return None
        now = self._clock.now()
        session = self._store.get(digest(session_id), now)
        if session is None:
            return None
        member = self._members.get_member(session.account_id, member_id(session.email))
        if member is None or member.removing:
            self._store.remove(session.session_digest)
            return None
        if not session.needs_refresh(now):
            return SignedIn(session, member)
        try:
            tokens = self._users.refresh(session.email, session.refresh_token)
        except Unauthenticated:
            self._store.remove(session.session_digest)
            return None
        self._store.replace_tokens(session.session_digest, tokens)
        return SignedIn(DashboardSession(**{**session.__dict__, "tokens": tokens}), member)

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

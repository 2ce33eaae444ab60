"""An account's dashboard users: listed, invited, removed; and a user's own TOTP sign-in step.

The user pool cannot list users by a custom attribute, so the account keeps its list of members
(`MemberRepository`): written on invite, on each user's sign-in (users made before the list, or by
`python -m remit.admin create-user`, appear at their first sign-in) and on removal.
"""

from __future__ import annotations

import secrets
import string

from remit.domain.errors import Conflict, NotFound
from remit.domain.pagination import Page
from remit.domain.users import AccountMember, Invitation, Invited, TotpSetup, member_id
from remit.ports import Clock, MemberRepository, UserDirectory
from remit.services.dashboard_sessions import DashboardSessionService


class AccountPeopleService:
    def __init__(
        self,
        users: UserDirectory,
        members: MemberRepository,
        sessions: DashboardSessionService,
        clock: Clock,
        show_temporary_passwords: bool,
    ) -> None:
        self._users = users
        self._members = members
        self._sessions = sessions
        self._clock = clock
        # Only the local stack, whose pool sends no email, shows an invitee's temporary password.
        self._show_temporary_passwords = show_temporary_passwords

    def list(self, account_id: str, limit: int, cursor: str | None) -> Page[AccountMember]:
        return self._members.list_members(account_id, limit, cursor)

    def get(self, account_id: str, member: str) -> AccountMember:
        """The account's member; `NotFound` for an unknown id or another account's user."""
        found = self._members.get_member(account_id, member)
        if found is None:
            raise NotFound("user", member)
        return found

    def invite(self, account_id: str, invitation: Invitation, invited_by: str) -> Invited:
        """Create the user in the directory (it emails a temporary password, or, in the local stack,
        the password is answered here) and list them. `InvalidInput` for a taken email.
        """
        email = invitation.email.strip().lower()
        temporary = temporary_password() if self._show_temporary_passwords else None
        self._users.invite(email, account_id, temporary)
        member = AccountMember(member_id(email), account_id, email, self._clock.now(), invited_by)
        self._members.add_member(member)
        return Invited(member, temporary)

    def remove(self, account_id: str, member: str, removed_by: str) -> AccountMember:
        """Delete the user from the directory (signed out everywhere), end their dashboard sessions
        and unlist them. `Conflict` for oneself; `NotFound` for another account's user.
        """
        found = self.get(account_id, member)
        if found.email == removed_by.strip().lower():
            raise Conflict("You cannot remove yourself; ask another user of the account.")
        self._users.remove(found.email)
        self._sessions.end_sessions_of(found.email)
        self._members.remove_member(account_id, found.id)
        return found

    def start_totp(self, access_token: str, email: str) -> TotpSetup:
        return self._users.start_totp(access_token, email)

    def confirm_totp(self, access_token: str, code: str) -> None:
        self._users.confirm_totp(access_token, code)

    def totp_enabled(self, access_token: str) -> bool:
        return self._users.totp_enabled(access_token)


def temporary_password() -> str:
    """A random temporary password the pool's policy accepts (12+ characters, upper, lower, digit)."""
    alphabet = string.ascii_letters + string.digits
    body = "".join(secrets.choice(alphabet) for _ in range(16))
    return (
        body
        + secrets.choice(string.ascii_uppercase)
        + secrets.choice(string.ascii_lowercase)
        + secrets.choice(string.digits)
    )

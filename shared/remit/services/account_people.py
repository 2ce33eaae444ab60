"""An account's dashboard users: listed, invited with a role, their role changed, removed; and a
user's own TOTP sign-in step.

The user pool cannot list users by a custom attribute, so the account keeps its list of members
(`MemberRepository`), with each one's role: written on invite (before the directory knows the
person, so no one invited can appear unlisted), on each user's sign-in (users made before the
list, or by `python -m remit.admin create-user`, appear at their first sign-in, as owners), on a
role change and on removal.

The account always keeps an owner: the last one can be neither removed nor made anything else
(`Conflict`), also when two owners act at once (see `MemberRepository`).
"""

from __future__ import annotations

import secrets
import string
from dataclasses import replace

from remit.domain.errors import Conflict, FieldProblem, InvalidInput, NotFound
from remit.domain.pagination import Page
from remit.domain.roles import owner_to_keep
from remit.domain.users import AccountMember, Invitation, Invited, RoleChange, TotpSetup, member_id
from remit.ports.clock import Clock
from remit.ports.people import MemberRepository, UserDirectory
from remit.services.dashboard_sessions import DashboardSessionService
from remit.services.retry import retry_on_conflict


class AccountPeopleService:
    def __init__(
        self,
        users: UserDirectory,
        members: MemberRepository,
        sessions: DashboardSessionService,
        clock: Clock,
        *,
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
        """List the person with the invitation's role, then create the user in the directory (it
        emails a temporary password, or, in the local stack, the password is answered here).

        `InvalidInput` (field `email`) for someone the account already lists, or an email the
        directory refuses or has taken (then nothing stays listed).
        """
        email = invitation.email.strip().lower()
        member = AccountMember(
            member_id(email), account_id, email, self._clock.now(), invited_by, invitation.role
        )
        if not self._members.add_member(member):
            raise InvalidInput([FieldProblem("email", "This person is already a user of the account.")])
        temporary = temporary_password() if self._show_temporary_passwords else None
        try:
            self._users.invite(email, account_id, temporary)
        except InvalidInput:
            # Refused by the directory: no user was made. (On any other failure the user may exist,
            # so the listing, with its role, stays: the person never appears unlisted as an owner.)
            self._members.remove_member(account_id, member.id)
            raise
        return Invited(member, temporary)

    def change_role(self, account_id: str, member: str, change: RoleChange) -> AccountMember:
        """Give the member `change.role`, from their next request on. Idempotent.

        `NotFound` for another account's user; `Conflict` for the last owner made anything else or
        a member being removed. Retries when another change lands between read and write.
        """

        def attempt() -> AccountMember:
            found = self.get(account_id, member)
            if found.removing:
                raise Conflict(f"{found.email} is being removed; remove them again to finish.")
            if found.role == change.role:
                return found
            everyone = [each.membership for each in self._members.all_members(account_id)]
            keep = owner_to_keep(everyone, found.membership, change.role)
            self._members.change_role(found, change.role, keep)
            return replace(found, role=change.role)

        return retry_on_conflict(attempt)

    def remove(self, account_id: str, member: str, removed_by: str) -> AccountMember:
        """Remove the member: marked as being removed (from then on no member: refused at sign-in
        and at their sessions' next request), deleted from the directory (signed out everywhere),
        their dashboard sessions ended, then unlisted. Removing a member whose removal stopped half
        way finishes it.

        `Conflict` for oneself or the last owner; `NotFound` for another account's user.
        """
        found = self.get(account_id, member)
        if found.email == removed_by.strip().lower():
            raise Conflict("You cannot remove yourself; ask another user of the account.")
        if not found.removing:

            def mark() -> None:
                current = self.get(account_id, member)
                if current.removing:
                    return
                everyone = [each.membership for each in self._members.all_members(account_id)]
                keep = owner_to_keep(everyone, current.membership, None)
                self._members.mark_removing(current, keep)

            retry_on_conflict(mark)
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

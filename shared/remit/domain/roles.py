"""Who may do what: the roles of an account's people, the permissions each holds, and the caller
(a signed-in person or an API key) that every service operation is checked against.

A role is account-wide: it applies to every organisation of the account. The operations each
permission covers are listed in `remit.services.access`; this module is the rule itself.

* `owner`: everything, people included;
* `admin`: everything but people;
* `billing`: customers, charges, invoices, credit notes, payments, subscriptions, billing
  templates and bulk billing; no settings, keys or people;
* `viewer`: reads only.

Every role reads everything of the account (lists of people and keys included: names, emails,
the last characters of a key, never a secret) and manages its own sign-in security (TOTP).

An API key acts for the account, not for the person who made it: a full key may do everything
the API offers (reads, billing, settings; the API has no people or keys), a read-only key may
only read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from remit.domain.errors import Conflict, NotPermitted

Role = Literal["owner", "admin", "billing", "viewer"]
Permission = Literal[
    "read",
    "billing.write",
    "settings.write",
    "keys.manage",
    "people.manage",
    "sign_in.own",
]

ROLES: tuple[Role, ...] = get_args(Role)
PERMISSIONS: tuple[Permission, ...] = get_args(Permission)

#: What each permission allows, as a refusal or a table of roles says it.
PERMISSION_DESCRIPTIONS: Mapping[Permission, str] = {
    "read": "read the account's organisations and everything in them",
    "billing.write": (
        "change customers, charges, invoices, credit notes, payments, subscriptions, "
        "billing templates and bulk billing"
    ),
    "settings.write": "create organisations and change their settings (branding, numbering, "
    "payment methods, card provider, reminders, customer emails)",
    "keys.manage": "create, rename and revoke API keys",
    "people.manage": "invite people, change their roles and remove them",
    "sign_in.own": "set up their own sign-in security (an authenticator app)",
}

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    "owner": frozenset(PERMISSIONS),
    "admin": frozenset(PERMISSIONS) - {"people.manage"},
    "billing": frozenset({"read", "billing.write", "sign_in.own"}),
    "viewer": frozenset({"read", "sign_in.own"}),
}

#: An API key's permissions: everything the API offers (it has no people, keys or sign-in pages).
FULL_KEY_PERMISSIONS: frozenset[Permission] = frozenset({"read", "billing.write", "settings.write"})
READ_ONLY_KEY_PERMISSIONS: frozenset[Permission] = frozenset({"read"})

#: The role of a member recorded before roles existed, and of a user who appears at their first
#: sign-in without being listed (the account's first user, made by `create-user` or the local
#: stack's dev user): each could do everything before, so each is an owner.
UNRECORDED_ROLE: Role = "owner"
#: The role an invitation proposes unless another is chosen: the day-to-day work, nothing more.
DEFAULT_INVITED_ROLE: Role = "billing"


def permissions_of(role: Role) -> frozenset[Permission]:
    return ROLE_PERMISSIONS[role]


@dataclass(frozen=True)
class Caller:
    """Who a service operation is done for: the account, the permissions held, and how to name
    the caller in a refusal. Made by `member` or `api_key`, never by hand.
    """

    account_id: str
    permissions: frozenset[Permission]
    role: Role | None = None  # a person's role; None for an API key
    email: str | None = None
    key_id: str | None = None

    @classmethod
    def member(cls, account_id: str, email: str, role: Role) -> Caller:
        return cls(account_id, permissions_of(role), role=role, email=email)

    @classmethod
    def api_key(cls, account_id: str, key_id: str | None, *, read_only: bool) -> Caller:
        permissions = READ_ONLY_KEY_PERMISSIONS if read_only else FULL_KEY_PERMISSIONS
        return cls(account_id, permissions, key_id=key_id)

    @property
    def reads_only(self) -> bool:
        """True when the caller may change nothing at all (a viewer, a read-only key)."""
        return self.permissions <= {"read", "sign_in.own"}

    def may(self, permission: Permission) -> bool:
        return permission in self.permissions

    def check(self, permission: Permission) -> None:
        """Raise `NotPermitted` (naming the caller and what they may not do) unless the caller
        holds `permission`.
        """
        if permission not in self.permissions:
            raise self.refusal(PERMISSION_DESCRIPTIONS[permission])

    def refusal(self, action: str) -> NotPermitted:
        """The refusal of `action` ("change customers, …", "POST /v1/…"), naming the caller."""
        if self.role is not None:
            return NotPermitted(
                f"Your role is {self.role}: it may not {action}. An owner can change your role."
            )
        if self.reads_only:
            return NotPermitted(f"This API key is read-only: it may not {action}.")
        return NotPermitted(f"An API key may not {action}.")


@dataclass(frozen=True)
class Membership:
    """One person's standing for the last-owner rule: their id, role, and whether they are being
    removed (a member being removed counts for nothing).
    """

    id: str
    role: Role
    removing: bool = False


def owner_to_keep(members: Iterable[Membership], changing: Membership, new_role: Role | None) -> str | None:
    """Whether `changing` may take `new_role` (None: be removed) without leaving the account
    ownerless: the id of another owner who must stay one for the change to hold (None when the
    change takes no owner away). Raises `Conflict` when `changing` is the last owner.
    """
    if changing.role != "owner" or changing.removing or new_role == "owner":
        return None
    for member in members:
        if member.id != changing.id and member.role == "owner" and not member.removing:
            return member.id
    action = "removed" if new_role is None else f"made {new_role}"
    raise Conflict(f"The account's last owner cannot be {action}: make someone else an owner first.")


def table_of_roles() -> list[tuple[str, dict[Role, bool]]]:
    """Each permission's description and which roles hold it: the table docs/dashboard.md shows."""
    return [
        (PERMISSION_DESCRIPTIONS[permission], {role: permission in ROLE_PERMISSIONS[role] for role in ROLES})
        for permission in PERMISSIONS
    ]

"""An account with one signed-in dashboard user of each role, for the role tests.

people = account_with_roles()
people.browsers["viewer"].request("GET", …)
"""

from __future__ import annotations

from dataclasses import dataclass

from remit.domain.roles import ROLES, Role
from tests.integration.dashboard_browser import PASSWORD, Browser, account_with_user, signed_in


@dataclass
class AccountWithRoles:
    account_id: str
    organisation_id: str
    emails: dict[Role, str]
    browsers: dict[Role, Browser]


def email_of(role: Role) -> str:
    return f"{role}@roles.test"


def account_with_roles(roles: tuple[Role, ...] = ROLES) -> AccountWithRoles:
    """A fresh account whose first user (`owner@roles.test`) is its owner, and one more user for each
    other role, each given their role by the owner (as the people page does) and signed in.
    Needs the `user_pool` fixture.
    """
    from remit.bootstrap import services
    from remit.domain.users import RoleChange, member_id

    account_id, organisation_id = account_with_user(email_of("owner"), "Roles Ltd")
    browsers = {"owner": signed_in(email_of("owner"))}
    for role in roles:
        if role == "owner":
            continue
        services().users.create_user(email_of(role), account_id, PASSWORD)
        browsers[role] = signed_in(email_of(role))  # listed at first sign-in, as an owner
        services().account_people.change_role(account_id, member_id(email_of(role)), RoleChange(role=role))
    return AccountWithRoles(
        account_id, organisation_id, {role: email_of(role) for role in browsers}, dict(browsers)
    )

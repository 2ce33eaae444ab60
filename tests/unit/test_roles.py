"""The role rule: which role holds which permission, what a key may do, how a refusal reads, and
the account's last owner.
"""

from __future__ import annotations

import itertools

import pytest

from remit.domain.errors import Conflict, NotPermitted
from remit.domain.roles import (
    PERMISSIONS,
    ROLE_PERMISSIONS,
    ROLES,
    UNRECORDED_ROLE,
    Caller,
    Membership,
    owner_to_keep,
    table_of_roles,
)


def test_an_owner_may_do_everything() -> None:
    assert ROLE_PERMISSIONS["owner"] == frozenset(PERMISSIONS)


def test_an_admin_may_do_everything_but_manage_people() -> None:
    assert frozenset(PERMISSIONS) - ROLE_PERMISSIONS["admin"] == {"people.manage"}


def test_billing_changes_the_books_but_not_settings_keys_or_people() -> None:
    billing = Caller.member("acct_1", "bo@example.com", "billing")

    assert billing.may("billing.write")
    assert not billing.may("settings.write")
    assert not billing.may("keys.manage")
    assert not billing.may("people.manage")


def test_a_viewer_only_reads_and_sets_up_their_own_sign_in() -> None:
    viewer = Caller.member("acct_1", "vi@example.com", "viewer")

    assert viewer.permissions == {"read", "sign_in.own"}
    assert viewer.reads_only


def test_every_role_reads_and_each_holds_what_the_role_below_holds() -> None:
    assert all(ROLE_PERMISSIONS[role] >= {"read", "sign_in.own"} for role in ROLES)
    for higher, lower in itertools.pairwise(ROLES):
        assert ROLE_PERMISSIONS[higher] > ROLE_PERMISSIONS[lower]


def test_a_full_api_key_does_what_the_api_offers_and_a_read_only_key_only_reads() -> None:
    full = Caller.api_key("acct_1", "key_1", read_only=False)
    read_only = Caller.api_key("acct_1", "key_2", read_only=True)

    assert full.permissions == {"read", "billing.write", "settings.write"}
    assert not full.reads_only
    assert read_only.permissions == {"read"}
    assert read_only.reads_only


def test_a_refusal_names_the_role_and_what_it_may_not_do() -> None:
    viewer = Caller.member("acct_1", "vi@example.com", "viewer")

    with pytest.raises(NotPermitted) as refused:
        viewer.check("billing.write")

    assert refused.value.detail.startswith(
        "Your role is viewer: it may not change customers, charges, invoices"
    )
    assert "An owner can change your role." in refused.value.detail


def test_a_refusal_of_a_read_only_key_says_the_key_is_read_only() -> None:
    read_only = Caller.api_key("acct_1", "key_2", read_only=True)

    with pytest.raises(NotPermitted) as refused:
        read_only.check("settings.write")

    assert refused.value.detail.startswith("This API key is read-only: it may not create organisations")


def test_a_permission_held_passes_the_check() -> None:
    Caller.member("acct_1", "ad@example.com", "admin").check("keys.manage")


def test_people_recorded_before_roles_are_owners_and_invitations_propose_billing() -> None:
    from remit.domain.users import Invitation

    assert UNRECORDED_ROLE == "owner"
    assert Invitation(email="new@example.com").role == "billing"


OWNER_A, OWNER_B = Membership("a", "owner"), Membership("b", "owner")
ADMIN = Membership("c", "admin")


@pytest.mark.parametrize("new_role", ["admin", "billing", "viewer", None])
def test_the_last_owner_can_be_neither_made_anything_else_nor_removed(new_role: str | None) -> None:
    with pytest.raises(Conflict) as refused:
        owner_to_keep([OWNER_A, ADMIN], OWNER_A, new_role)  # type: ignore[arg-type]

    assert "last owner" in refused.value.detail


def test_an_owner_leaving_names_another_owner_who_must_stay_one() -> None:
    assert owner_to_keep([OWNER_A, OWNER_B, ADMIN], OWNER_A, None) == "b"
    assert owner_to_keep([OWNER_A, OWNER_B, ADMIN], OWNER_A, "viewer") == "b"


def test_an_owner_being_removed_counts_for_no_one() -> None:
    leaving = Membership("b", "owner", removing=True)

    with pytest.raises(Conflict):
        owner_to_keep([OWNER_A, leaving], OWNER_A, "admin")


def test_a_change_that_takes_no_owner_away_needs_no_owner_kept() -> None:
    assert owner_to_keep([OWNER_A, ADMIN], ADMIN, "viewer") is None
    assert owner_to_keep([OWNER_A, ADMIN], ADMIN, None) is None
    assert owner_to_keep([OWNER_A, ADMIN], ADMIN, "owner") is None
    assert owner_to_keep([OWNER_A], OWNER_A, "owner") is None


def test_the_table_of_roles_has_a_row_per_permission_and_a_column_per_role() -> None:
    table = table_of_roles()

    assert len(table) == len(PERMISSIONS)
    assert all(set(holders) == set(ROLES) for _, holders in table)


def test_the_table_of_roles_in_the_dashboard_guide_is_the_domains() -> None:
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[2] / "docs" / "dashboard.md").read_text()
    rows = [
        f"| {description} | " + " | ".join("yes" if holders[role] else "—" for role in ROLES) + " |"
        for description, holders in table_of_roles()
    ]
    table = ["| may | " + " | ".join(ROLES) + " |", "|---|" + "---|" * len(ROLES), *rows]

    assert "\n".join(table) in guide

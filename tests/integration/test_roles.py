"""Roles as people meet them: who is an owner, changing roles, the last owner, removal ending every
session, and API keys' read-only flag, maker and last use.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from remit.domain.errors import ConcurrentUpdate, Conflict, NotPermitted
from remit.domain.roles import Caller
from remit.domain.users import Invitation, RoleChange, member_id
from tests.integration.api_client import ApiClient
from tests.integration.conftest import SettableClock, reset_remit
from tests.integration.dashboard_browser import PASSWORD, Browser, account_with_user, signed_in, text_of
from tests.integration.roles import account_with_roles

pytestmark = pytest.mark.usefixtures("user_pool")

PEOPLE = "/dashboard/account/users"
KEYS = "/dashboard/account/api-keys"


def _members(account_id: str) -> dict[str, tuple[str, bool]]:
    from remit.bootstrap import services

    listed = services().account_people.list(account_id, 100, None).items
    return {member.email: (member.role, member.removing) for member in listed}


def _repository() -> Any:
    import boto3

    from remit.adapters.dynamodb import DynamoTable
    from remit.adapters.dynamodb_accounts import DynamoAccountRepository
    from remit.bootstrap import services

    return DynamoAccountRepository(
        DynamoTable(lambda: boto3.client("dynamodb"), services().settings.billing_table)
    )


# Who is an owner -----------------------------------------------------------------------------------


def test_the_accounts_first_user_is_its_owner() -> None:
    account_id, _ = account_with_user("ada@example.com")
    signed_in("ada@example.com")

    assert _members(account_id) == {"ada@example.com": ("owner", False)}


def test_a_member_recorded_before_roles_reads_as_an_owner_and_can_be_given_a_role() -> None:
    import boto3

    from remit.bootstrap import services

    account_id, _ = account_with_user("ada@example.com")
    signed_in("ada@example.com")
    boto3.client("dynamodb").put_item(
        TableName=services().settings.billing_table,
        Item={
            "PK": {"S": f"ACCOUNT#{account_id}"},
            "SK": {"S": f"USER#{member_id('old@example.com')}"},
            "id": {"S": member_id("old@example.com")},
            "email": {"S": "old@example.com"},
            "added_at": {"S": "2026-01-01T00:00:00+00:00"},
        },
    )

    assert _members(account_id)["old@example.com"] == ("owner", False)
    services().account_people.change_role(account_id, member_id("old@example.com"), RoleChange(role="viewer"))
    assert _members(account_id)["old@example.com"] == ("viewer", False)


def test_an_invited_person_has_the_role_chosen_billing_unless_told() -> None:
    account_id, _ = account_with_user("ada@example.com")
    ada = signed_in("ada@example.com")

    ada.post(PEOPLE, {"email": "bob@example.com"}, confirmed=False)
    ada.post(PEOPLE, {"email": "cy@example.com", "role": "admin"}, confirmed=False)

    assert _members(account_id)["bob@example.com"] == ("billing", False)
    assert _members(account_id)["cy@example.com"] == ("admin", False)


# Changing roles and the last owner -------------------------------------------------------------------


def test_a_role_change_counts_from_the_persons_next_request() -> None:
    people = account_with_roles(("owner", "admin"))
    admin = people.browsers["admin"]
    organisations = f"/dashboard/organisations/{people.organisation_id}/customers"
    asked = people.browsers["owner"].post(
        f"{PEOPLE}/{member_id(people.emails['admin'])}/role", {"role": "viewer"}, confirmed=False
    )
    assert "Make admin@roles.test viewer?" in text_of(asked["body"])

    changed = people.browsers["owner"].post(
        f"{PEOPLE}/{member_id(people.emails['admin'])}/role", {"role": "viewer"}
    )
    refused = admin.post(organisations, {"name": "Initech", "email": "ap@initech.test"})

    assert changed["statusCode"] == 303
    assert refused["statusCode"] == 403
    assert "Your role is viewer: it may not change customers" in text_of(refused["body"])
    assert "Nothing was changed" in text_of(refused["body"])
    assert "Initech" not in admin.request("GET", organisations)["body"]


def test_the_last_owner_can_be_neither_demoted_nor_removed_and_nothing_changes() -> None:
    from remit.bootstrap import services

    people = account_with_roles(("owner", "admin"))
    owner_id = member_id(people.emails["owner"])
    owners = services().acting_as(Caller.member(people.account_id, people.emails["owner"], "owner"))

    demoted = people.browsers["owner"].post(f"{PEOPLE}/{owner_id}/role", {"role": "admin"})
    with pytest.raises(Conflict, match="last owner cannot be removed"):
        owners.account_people.remove(people.account_id, owner_id, people.emails["admin"])

    assert demoted["statusCode"] == 409
    assert "last owner cannot be made admin: make someone else an owner first" in text_of(demoted["body"])
    assert _members(people.account_id)[people.emails["owner"]] == ("owner", False)


def test_with_two_owners_one_may_leave_then_the_other_is_the_last() -> None:
    from remit.bootstrap import services

    people = account_with_roles(("owner", "admin"))
    account_people = services().account_people
    account_people.change_role(people.account_id, member_id(people.emails["admin"]), RoleChange(role="owner"))

    account_people.change_role(
        people.account_id, member_id(people.emails["owner"]), RoleChange(role="viewer")
    )

    with pytest.raises(Conflict, match="last owner"):
        account_people.change_role(
            people.account_id, member_id(people.emails["admin"]), RoleChange(role="viewer")
        )
    assert _members(people.account_id)[people.emails["admin"]] == ("owner", False)


def test_two_owners_taking_each_others_ownership_at_once_leave_one_owner() -> None:
    people = account_with_roles(("owner", "admin"))
    repository = _repository()
    first = member_id(people.emails["owner"])
    second = member_id(people.emails["admin"])
    from remit.bootstrap import services

    services().account_people.change_role(people.account_id, second, RoleChange(role="owner"))
    # Both read while both were owners; each keeps the other as the owner who stays.
    first_read = repository.get_member(people.account_id, first)
    second_read = repository.get_member(people.account_id, second)

    repository.change_role(first_read, "admin", keep_owner=second)
    with pytest.raises(ConcurrentUpdate):
        repository.mark_removing(second_read, keep_owner=first)

    assert _members(people.account_id) == {
        people.emails["owner"]: ("admin", False),
        people.emails["admin"]: ("owner", False),
    }


def test_only_an_owner_manages_people_and_the_services_refuse_the_others() -> None:
    from remit.bootstrap import services

    people = account_with_roles(("owner", "admin"))
    admins = services().acting_as(Caller.member(people.account_id, people.emails["admin"], "admin"))

    with pytest.raises(NotPermitted, match="Your role is admin: it may not invite people"):
        admins.account_people.invite(
            people.account_id, Invitation(email="eve@example.com", role="owner"), "x"
        )
    page = people.browsers["admin"].request("GET", PEOPLE)

    assert "eve@example.com" not in _members(people.account_id)
    assert 'action="/dashboard/account/users"' not in page["body"]  # no invitation form
    assert "/role" not in page["body"]
    assert "/remove" not in page["body"]


# Removal ends every session ----------------------------------------------------------------------


def test_a_removed_users_session_ends_at_its_next_request_even_if_ending_sessions_failed() -> None:
    import boto3

    from remit.adapters.dynamodb import DynamoTable
    from remit.adapters.dynamodb_sessions import DynamoSessionStore
    from remit.bootstrap import services
    from remit.services.account_people import AccountPeopleService
    from remit.services.dashboard_sessions import DashboardSessionService

    class SessionsThatFailToEnd(DashboardSessionService):
        def end_sessions_of(self, email: str) -> int:
            raise RuntimeError("the sessions table is unreachable")

    people = account_with_roles(("owner", "billing"))
    everything = services()
    failing = AccountPeopleService(
        everything.users,
        _repository(),
        SessionsThatFailToEnd(
            everything.users,
            DynamoSessionStore(
                DynamoTable(lambda: boto3.client("dynamodb"), everything.settings.sessions_table)
            ),
            SettableClock(),
            _repository(),
        ),
        SettableClock(),
        show_temporary_passwords=True,
    )
    billing = people.browsers["billing"]
    assert billing.request("GET", PEOPLE)["statusCode"] == 200

    with pytest.raises(RuntimeError):
        failing.remove(people.account_id, member_id(people.emails["billing"]), people.emails["owner"])

    assert billing.request("GET", PEOPLE)["headers"]["Location"] == "/dashboard/sign-in"
    assert _members(people.account_id)[people.emails["billing"]] == ("billing", True)
    owners_page = text_of(people.browsers["owner"].request("GET", PEOPLE)["body"])
    assert "Being removed" in owners_page
    # Removing again finishes the removal.
    again = people.browsers["owner"].post(f"{PEOPLE}/{member_id(people.emails['billing'])}/remove", {})
    assert again["statusCode"] == 303
    assert people.emails["billing"] not in _members(people.account_id)


def test_a_session_whose_person_is_no_longer_listed_ends_at_its_next_request() -> None:
    people = account_with_roles(("owner", "viewer"))
    viewer = people.browsers["viewer"]

    _repository().remove_member(people.account_id, member_id(people.emails["viewer"]))

    assert viewer.request("GET", "/dashboard/")["statusCode"] == 303
    assert viewer.request("GET", "/dashboard/")["headers"]["Location"] == "/dashboard/sign-in"


def test_a_person_being_removed_cannot_sign_in_even_while_the_directory_still_knows_them() -> None:
    people = account_with_roles(("owner", "viewer"))
    repository = _repository()
    repository.mark_removing(
        repository.get_member(people.account_id, member_id(people.emails["viewer"])), None
    )

    refused = Browser().sign_in(people.emails["viewer"], PASSWORD)

    assert refused["statusCode"] == 401


# API keys ---------------------------------------------------------------------------------------


@pytest.fixture
def uncached_keys(monkeypatch: pytest.MonkeyPatch, clock: SettableClock) -> SettableClock:
    """Every request checks its key afresh (no process cache), at the clock's time."""
    monkeypatch.setenv("REMIT_API_KEY_CACHE_SECONDS", "0")
    reset_remit()
    from remit import bootstrap

    bootstrap.use_clock(clock)
    return clock


def test_the_key_list_shows_who_made_each_its_access_and_when_it_was_last_used(
    uncached_keys: SettableClock,
) -> None:
    from remit.bootstrap import services

    account_id, _ = account_with_user("ada@example.com")
    ada = signed_in("ada@example.com")
    created = ada.post(KEYS, {"name": "Reports", "read_only": "true"}, confirmed=False)
    assert "It is read-only" in text_of(created["body"])
    api_key = created["body"].split('id="new-api-key" type="text" readonly value="', 1)[1].split('"', 1)[0]
    key = next(
        each for each in services().accounts.list_keys(account_id, 10, None).items if each.name == "Reports"
    )
    assert (key.created_by, key.read_only, key.last_used_at) == ("ada@example.com", True, None)

    ApiClient(api_key).get("/v1/organisations")
    first_use = services().accounts.get_key(account_id, key.id).last_used_at
    uncached_keys.advance(minutes=10)
    ApiClient(api_key).get("/v1/organisations")
    still = services().accounts.get_key(account_id, key.id).last_used_at
    uncached_keys.advance(minutes=6)
    ApiClient(api_key).get("/v1/organisations")
    later = services().accounts.get_key(account_id, key.id).last_used_at

    assert first_use == uncached_keys.current - timedelta(minutes=16)
    assert still == first_use  # within 15 minutes: not written again
    assert later == uncached_keys.current
    listed = text_of(ada.request("GET", KEYS)["body"])
    assert "Reports …" in listed
    assert "Read-only" in listed
    assert "ada@example.com" in listed
    assert "ada@example.com 2026-11-22 09:16 UTC" in listed  # the clock's time, 16 minutes on


def test_a_key_made_by_a_removed_person_keeps_working_and_still_names_them() -> None:
    from remit.bootstrap import services
    from remit.domain.account import NewApiKey

    people = account_with_roles(("owner", "admin"))
    made = services().accounts.create_key(people.account_id, NewApiKey(name="CI"), people.emails["admin"])
    people.browsers["owner"].post(f"{PEOPLE}/{member_id(people.emails['admin'])}/remove", {})

    answer = ApiClient(made.api_key).get("/v1/organisations")

    assert answer.status == 200
    assert people.emails["admin"] in text_of(people.browsers["owner"].request("GET", KEYS)["body"])


def test_only_owners_and_admins_are_offered_key_changes() -> None:
    people = account_with_roles(("owner", "billing"))

    billing_page = people.browsers["billing"].request("GET", KEYS)["body"]
    owner_page = people.browsers["owner"].request("GET", KEYS)["body"]

    assert "Create key" not in billing_page
    assert "Create key" in owner_page
    assert 'name="read_only"' in owner_page

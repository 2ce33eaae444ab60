"""`python -m remit.admin create-user`: an account's first dashboard user, against moto's Cognito."""

from __future__ import annotations

import pytest

from tests.integration.dashboard_browser import Browser, csrf_token

pytestmark = pytest.mark.usefixtures("user_pool")


def _pool() -> tuple[str, str]:
    from remit.bootstrap import services

    return services().settings.user_pool_id, services().settings.user_pool_client_id


def _printed(output: str, name: str) -> str:
    line = next(line for line in output.splitlines() if line.startswith(f"{name}:"))
    return line.split(":", 1)[1].strip()


def test_create_user_prints_a_temporary_password_once_and_the_user_chooses_their_own_at_first_sign_in(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import boto3

    from remit.admin import main
    from remit.bootstrap import services

    account = services().accounts.create_account("Acme")
    pool_id, client_id = _pool()

    pool = ["--user-pool-id", pool_id, "--client-id", client_id]
    code = main(["create-user", "--email", "Ada@Example.com", "--account", account.account_id, *pool])

    assert code == 0
    output = capsys.readouterr().out
    password = _printed(output, "temporary_password")
    user = boto3.client("cognito-idp").admin_get_user(UserPoolId=pool_id, Username="ada@example.com")
    attributes = {item["Name"]: item["Value"] for item in user["UserAttributes"]}
    assert attributes["custom:account_id"] == account.account_id
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"

    browser = Browser()
    assert (
        browser.sign_in("ada@example.com", password)["headers"]["Location"]
        == "/dashboard/sign-in/new-password"
    )
    token = csrf_token(browser.request("GET", "/dashboard/sign-in/new-password")["body"])
    done = browser.request(
        "POST",
        "/dashboard/sign-in/new-password",
        {"new_password": "Adas-own-pass-1", "repeat_password": "Adas-own-pass-1", "csrf_token": token},
    )
    assert done["headers"]["Location"] == "/dashboard/"
    # Listed among the account's people from the first sign-in.
    members = services().account_people.list(account.account_id, 10, None).items
    assert [member.email for member in members] == ["ada@example.com"]


def test_create_user_with_send_email_prints_no_password(capsys: pytest.CaptureFixture[str]) -> None:
    from remit.admin import main

    pool_id, client_id = _pool()

    pool = ["--user-pool-id", pool_id, "--client-id", client_id]
    code = main(["create-user", "--email", "bob@example.com", "--account", "acct_1", "--send-email", *pool])

    assert code == 0
    output = capsys.readouterr().out
    assert "temporary_password" not in output
    assert "emailed" in output


def test_create_user_refuses_an_email_already_in_the_pool(capsys: pytest.CaptureFixture[str]) -> None:
    from remit.admin import main

    pool_id, client_id = _pool()
    arguments = ["create-user", "--email", "ada@example.com", "--account", "acct_1"]
    arguments += ["--user-pool-id", pool_id, "--client-id", client_id]
    assert main(arguments) == 0
    capsys.readouterr()

    assert main(arguments) == 1
    assert "A user with this email exists." in capsys.readouterr().err


def test_create_user_reads_the_stack_outputs_and_checks_the_account(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from remit import admin
    from remit.bootstrap import services

    account = services().accounts.create_account("Acme")
    pool_id, client_id = _pool()
    outputs = {
        "DashboardUserPoolId": pool_id,
        "DashboardUserPoolClientId": client_id,
        "BillingTableName": "remit-billing",
    }
    monkeypatch.setattr(admin, "_stack_outputs", lambda stack: outputs)

    unknown = admin.main(
        ["create-user", "--email", "x@example.com", "--account", "acct_nope", "--stack", "s"]
    )
    assert unknown == 1
    assert "no account acct_nope" in capsys.readouterr().err

    known = admin.main(
        ["create-user", "--email", "x@example.com", "--account", account.account_id, "--stack", "s"]
    )
    assert known == 0
    assert _printed(capsys.readouterr().out, "account") == account.account_id

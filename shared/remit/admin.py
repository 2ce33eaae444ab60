"""Operator commands for a deployed stack.

    python -m remit.admin create-account --name "Acme" --stack remit-prod
    python -m remit.admin create-account --name "Acme" --table remit-prod-BillingTable-XYZ
    python -m remit.admin backfill-list-indexes --stack remit-prod
    python -m remit.admin backfill-reminders --stack remit-prod
    python -m remit.admin backfill-overview --stack remit-prod
    python -m remit.admin create-user --email ada@example.com --account acct_… --stack remit-prod
    python -m remit.admin create-user --email ada@example.com --account acct_… \
        --user-pool-id eu-west-1_AbC --client-id 1example23456789 [--send-email]

`create-account` prints the new account's API key once: it is stored only as a hash and cannot be
shown again. `backfill-list-indexes` gives invoices, payments and charges stored before the list
indexes (GSI2-4, docs/access-patterns.md), invoices, credit notes and payments stored before the
date index (GSI6), and customers stored before the name index (GSI5), their key attributes;
`backfill-reminders` puts open invoices stored before the reminder index on it;
`backfill-overview` counts invoices and payments stored before the dashboard overview's counters
into them. All three are idempotent. `create-user` makes an account's first dashboard
user, who sets their own password at first sign-in: it prints a temporary password once, or with
`--send-email` the user pool emails it to them.
"""

from __future__ import annotations

import argparse
import os
import sys

import boto3

from remit.domain.errors import DomainError


def _billing_table_of_stack(stack_name: str) -> str:
    stacks = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    for output in stacks[0].get("Outputs", []):
        if output["OutputKey"] == "BillingTableName":
            return output["OutputValue"]
    raise SystemExit(f"Stack {stack_name} has no BillingTableName output.")


def _stack_outputs(stack_name: str) -> dict[str, str]:
    stacks = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    return {output["OutputKey"]: output["OutputValue"] for output in stacks[0].get("Outputs", [])}


def _user_pool_of_stack(stack_name: str) -> tuple[str, str]:
    outputs = _stack_outputs(stack_name)
    try:
        return outputs["DashboardUserPoolId"], outputs["DashboardUserPoolClientId"]
    except KeyError:
        raise SystemExit(
            f"Stack {stack_name} has no DashboardUserPoolId or DashboardUserPoolClientId output."
        ) from None


def create_user(
    email: str, account_id: str, user_pool_id: str, client_id: str, *, send_email: bool = False
) -> str | None:
    """Create a dashboard user of `account_id` who must choose a password at first sign-in.

    Returns the temporary password (to give them once), or None when the pool emailed it.
    Raises `InvalidInput` for an email already taken. The account is not checked here: with
    `--stack`, `main` checks it in the billing table first.
    """
    from remit.adapters.cognito_users import CognitoUserDirectory
    from remit.bootstrap import SystemClock
    from remit.services.account_people import temporary_password

    directory = CognitoUserDirectory(
        lambda: boto3.client("cognito-idp"), user_pool_id, client_id, SystemClock()
    )
    password = None if send_email else temporary_password()
    directory.invite(email.strip().lower(), account_id, password)
    return password


def backfill_list_indexes(table_name: str) -> int | None:
    """Give the table's older invoices, payments and charges their list-index keys, its older
    invoices, credit notes and payments their date-index keys, and its older customers their
    name-index and email-index keys and the lookup items of their billing contacts' emails
    (idempotent).

    Returns the number of items updated, or None when earlier runs finished all five (five reads, no
    scan).
    """
    from remit.adapters.dynamodb import DynamoTable
    from remit.adapters.dynamodb_billing import backfill_list_keys
    from remit.adapters.dynamodb_customers import (
        EMAIL_KEYS,
        NAME_KEYS,
        RECIPIENT_LOOKUPS,
        backfill_customers,
    )
    from remit.adapters.dynamodb_dated import backfill_date_keys

    table = DynamoTable(lambda: boto3.client("dynamodb"), table_name)
    counts = [backfill_list_keys(table)]
    counts += [backfill_customers(table, backfill) for backfill in (NAME_KEYS, EMAIL_KEYS, RECIPIENT_LOOKUPS)]
    counts.append(backfill_date_keys(table))
    if all(count is None for count in counts):
        return None
    return sum(count or 0 for count in counts)


def backfill_overview(table_name: str) -> int | None:
    """Count the table's older invoices and payments into the overview's counters, once each
    (idempotent). Returns the items counted, or None when an earlier run finished (one read, no scan).
    """
    from remit.adapters.dynamodb import DynamoTable
    from remit.adapters.dynamodb_overview import backfill_overview as backfill

    return backfill(DynamoTable(lambda: boto3.client("dynamodb"), table_name))


def backfill_reminders(table_name: str) -> int | None:
    """Put open invoices stored before the reminder index on it, as each organisation's reminders
    say (idempotent). Returns the invoices moved, or None when an earlier run finished.
    """
    from remit.adapters.dynamodb import DynamoTable
    from remit.adapters.dynamodb_reminders import (
        mark_reminder_index_done,
        organisations_before_the_reminder_index,
    )
    from remit.bootstrap import services

    table = DynamoTable(lambda: boto3.client("dynamodb"), table_name)
    organisations = organisations_before_the_reminder_index(table)
    if organisations is None:
        return None
    moved = sum(services().reminders.reschedule_all(organisation) for organisation in organisations)
    mark_reminder_index_done(table)
    return moved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m remit.admin", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-account", help="create an account and print its API key")
    create.add_argument("--name", required=True, help="the account's name")
    where = create.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack", help="CloudFormation stack name (reads its BillingTableName output)")
    where.add_argument("--table", help="the billing table's name")
    backfill = commands.add_parser(
        "backfill-list-indexes",
        help="add the list-, name-, email- and date-index keys to items stored before those indexes",
    )
    backfill_where = backfill.add_mutually_exclusive_group(required=True)
    backfill_where.add_argument(
        "--stack", help="CloudFormation stack name (reads its BillingTableName output)"
    )
    backfill_where.add_argument("--table", help="the billing table's name")
    reminders = commands.add_parser(
        "backfill-reminders", help="put open invoices stored before the reminder index on it"
    )
    reminders_where = reminders.add_mutually_exclusive_group(required=True)
    reminders_where.add_argument(
        "--stack", help="CloudFormation stack name (reads its BillingTableName output)"
    )
    reminders_where.add_argument("--table", help="the billing table's name")
    user = commands.add_parser(
        "create-user", help="create an account's dashboard user with a temporary password"
    )
    user.add_argument("--email", required=True, help="the user's email (their sign-in name)")
    user.add_argument("--account", required=True, help="the account id the user belongs to")
    user.add_argument(
        "--send-email", action="store_true", help="let the user pool email the temporary password"
    )
    user_where = user.add_mutually_exclusive_group(required=True)
    user_where.add_argument(
        "--stack",
        help="CloudFormation stack name (reads its DashboardUserPool* and BillingTableName outputs)",
    )
    user_where.add_argument("--user-pool-id", help="the dashboard's user pool id (with --client-id)")
    user.add_argument("--client-id", help="the dashboard's user pool app client id")
    overview = commands.add_parser(
        "backfill-overview", help="count invoices and payments stored before the overview's counters"
    )
    overview_where = overview.add_mutually_exclusive_group(required=True)
    overview_where.add_argument(
        "--stack", help="CloudFormation stack name (reads its BillingTableName output)"
    )
    overview_where.add_argument("--table", help="the billing table's name")
    arguments = parser.parse_args(argv)

    if arguments.command == "create-user":
        return _create_user_command(arguments)

    table_name = arguments.table or _billing_table_of_stack(arguments.stack)
    if arguments.command == "backfill-list-indexes":
        updated = backfill_list_indexes(table_name)
        print("already done" if updated is None else f"items updated: {updated}")
        return 0
    if arguments.command == "backfill-overview":
        counted = backfill_overview(table_name)
        print("already done" if counted is None else f"invoices and payments counted: {counted}")
        return 0
    os.environ["REMIT_BILLING_TABLE"] = table_name
    from remit.bootstrap import reset, services

    reset()
    if arguments.command == "backfill-reminders":
        moved = backfill_reminders(table_name)
        print("already done" if moved is None else f"invoices rescheduled: {moved}")
        return 0
    try:
        issued = services().accounts.create_account(arguments.name)
    except DomainError as error:
        print(f"error: {error.detail}", file=sys.stderr)
        return 1
    print(f"account_id: {issued.account_id}")
    print(f"api_key:    {issued.api_key}")
    print("Keep the key safe: it is shown only this once.")
    return 0


def _create_user_command(arguments: argparse.Namespace) -> int:
    if arguments.stack:
        outputs = _stack_outputs(arguments.stack)
        pool_id, client_id = _user_pool_of_stack(arguments.stack)
        table_name = outputs.get("BillingTableName")
        if table_name and not _account_exists(table_name, arguments.account):
            print(f"error: no account {arguments.account} in {table_name}", file=sys.stderr)
            return 1
    else:
        if not arguments.client_id:
            print("error: --user-pool-id needs --client-id", file=sys.stderr)
            return 2
        pool_id, client_id = arguments.user_pool_id, arguments.client_id
    try:
        password = create_user(
            arguments.email, arguments.account, pool_id, client_id, send_email=arguments.send_email
        )
    except DomainError as error:
        print(f"error: {error.detail}", file=sys.stderr)
        return 1
    print(f"user:     {arguments.email.strip().lower()}")
    print(f"account:  {arguments.account}")
    if password is None:
        print("The user pool has emailed them a temporary password.")
    else:
        print(f"temporary_password: {password}")
        print("Give it to them once: they choose their own password at first sign-in.")
    return 0


def _account_exists(table_name: str, account_id: str) -> bool:
    from remit.adapters.dynamodb import DynamoTable
    from remit.adapters.dynamodb_accounts import DynamoAccountRepository

    table = DynamoTable(lambda: boto3.client("dynamodb"), table_name)
    return DynamoAccountRepository(table).get(account_id) is not None


if __name__ == "__main__":
    sys.exit(main())

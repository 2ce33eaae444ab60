"""Operator commands for a deployed stack.

    python -m remit.admin create-account --name "Acme" --stack remit-prod
    python -m remit.admin create-account --name "Acme" --table remit-prod-BillingTable-XYZ
    python -m remit.admin backfill-list-indexes --stack remit-prod
    python -m remit.admin backfill-reminders --stack remit-prod
    python -m remit.admin backfill-overview --stack remit-prod

`create-account` prints the new account's API key once: it is stored only as a hash and cannot be
shown again. `backfill-list-indexes` gives invoices, payments and charges stored before the list
indexes (GSI2-4, docs/access-patterns.md) their key attributes; `backfill-reminders` puts open
invoices stored before the reminder index on it; `backfill-overview` counts invoices and payments
stored before the dashboard overview's counters into them. All are idempotent.
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


def backfill_list_indexes(table_name: str) -> int | None:
    """Give the table's older invoices, payments and charges their list-index keys (idempotent).

    Returns the number of items updated, or None when an earlier run finished (one read, no scan).
    """
    from remit.adapters.dynamodb import DynamoTable
    from remit.adapters.dynamodb_billing import backfill_list_keys

    return backfill_list_keys(DynamoTable(lambda: boto3.client("dynamodb"), table_name))


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
        "backfill-list-indexes", help="add the list-index keys to items stored before those indexes"
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
    overview = commands.add_parser(
        "backfill-overview", help="count invoices and payments stored before the overview's counters"
    )
    overview_where = overview.add_mutually_exclusive_group(required=True)
    overview_where.add_argument(
        "--stack", help="CloudFormation stack name (reads its BillingTableName output)"
    )
    overview_where.add_argument("--table", help="the billing table's name")
    arguments = parser.parse_args(argv)

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


if __name__ == "__main__":
    sys.exit(main())

"""Operator commands for a deployed stack.

    python -m remit.admin create-account --name "Acme" --stack remit-prod
    python -m remit.admin create-account --name "Acme" --table remit-prod-BillingTable-XYZ

Prints the new account's API key once: it is stored only as a hash and cannot be shown again.
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m remit.admin", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-account", help="create an account and print its API key")
    create.add_argument("--name", required=True, help="the account's name")
    where = create.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack", help="CloudFormation stack name (reads its BillingTableName output)")
    where.add_argument("--table", help="the billing table's name")
    arguments = parser.parse_args(argv)

    os.environ["REMIT_BILLING_TABLE"] = arguments.table or _billing_table_of_stack(arguments.stack)
    from remit.bootstrap import reset, services

    reset()
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

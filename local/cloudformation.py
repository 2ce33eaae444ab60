"""Create the stack's DynamoDB tables and SQS queues from `template.yaml`'s own definitions.

The local stack and the tests build their tables and queues from here, so the template stays the
single source of truth for key schemas, indexes, streams, TTLs, visibility timeouts and redrive
policies.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

TEMPLATE_PATH = Path(__file__).resolve().parent.parent / "template.yaml"

# The CloudFormation table properties that `CreateTable` accepts under the same name.
_CREATE_TABLE_PROPERTIES = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "BillingMode",
    "StreamSpecification",
)

# The CloudFormation queue properties that are `CreateQueue` attributes under the same name.
_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "SqsManagedSseEnabled",
)


# libyaml's parser where PyYAML was built with it (the wheels are): the same documents, ten times faster.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _CloudFormationLoader(_SafeLoader):
    """A YAML loader that accepts CloudFormation's short-form intrinsics (`!Ref`, `!Sub`, …)."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    return {name: value}


_CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as a fresh dictionary (the caller may change it).

    It is parsed once per process and version of the file (its modification time and size), as the
    tests create the tables from it for every test and the local stack reads it in several places.
    """
    stat = path.stat()
    return copy.deepcopy(_parsed_template(path, stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=4)
def _parsed_template(path: Path, mtime_ns: int, size: int) -> dict[str, Any]:
    del mtime_ns, size  # the cache key only: a changed file is parsed again
    with path.open(encoding="utf-8") as stream:
        document: dict[str, Any] = yaml.load(stream, Loader=_CloudFormationLoader)  # noqa: S506
    return document


def parameter_value(value: Any, template: Mapping[str, Any] | None = None) -> Any:
    """`value` itself, or the default of the parameter it names (`!Ref <Parameter>`): the value a
    stack deployed with the template's defaults has, as the local stack runs it."""
    if isinstance(value, Mapping) and set(value) == {"Ref"}:
        template = template if template is not None else load_template()
        parameter = template.get("Parameters", {}).get(value["Ref"])
        if parameter is None or "Default" not in parameter:
            raise ValueError(f"the local stack needs a parameter with a default, not {value!r}")
        return parameter["Default"]
    return value


def table_definitions(template: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Return `{logical_id: properties}` for every `AWS::DynamoDB::Table` in the template."""
    template = template if template is not None else load_template()
    return {
        logical_id: resource.get("Properties", {})
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") == "AWS::DynamoDB::Table"
    }


def create_tables(dynamodb_client: Any, table_names: Mapping[str, str]) -> None:
    """Create each table named in `table_names` (`{logical_id: physical_name}`) as the template defines it.

    Tables that already exist keep their data, so a restarted local stack keeps it; an index the
    template has gained since is added to them (as a deploy adds it).
    """
    definitions = table_definitions()
    existing = set(dynamodb_client.list_tables()["TableNames"])
    for logical_id, physical_name in table_names.items():
        if physical_name in existing:
            _add_missing_indexes(dynamodb_client, physical_name, definitions[logical_id])
            continue
        properties = definitions[logical_id]
        request = {key: properties[key] for key in _CREATE_TABLE_PROPERTIES if key in properties}
        if "StreamSpecification" in request:
            # CloudFormation implies StreamEnabled; the CreateTable API wants it said.
            request["StreamSpecification"] = {"StreamEnabled": True, **request["StreamSpecification"]}
        dynamodb_client.create_table(TableName=physical_name, **request)
        ttl = properties.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb_client.update_time_to_live(
                TableName=physical_name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )


def _add_missing_indexes(dynamodb_client: Any, physical_name: str, properties: Mapping[str, Any]) -> None:
    """Create the template's global secondary indexes that the existing table lacks."""
    table = dynamodb_client.describe_table(TableName=physical_name)["Table"]
    present = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    attributes = {a["AttributeName"]: a for a in properties.get("AttributeDefinitions", [])}
    for index in properties.get("GlobalSecondaryIndexes", []):
        if index["IndexName"] in present:
            continue
        keys = [part["AttributeName"] for part in index["KeySchema"]]
        dynamodb_client.update_table(
            TableName=physical_name,
            AttributeDefinitions=[attributes[name] for name in keys],
            GlobalSecondaryIndexUpdates=[{"Create": index}],
        )


def queue_definitions(template: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Return `{logical_id: properties}` for every `AWS::SQS::Queue` in the template."""
    template = template if template is not None else load_template()
    return {
        logical_id: resource.get("Properties", {})
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") == "AWS::SQS::Queue"
    }


def create_queues(
    sqs_client: Any, queue_names: Mapping[str, str], template: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """Create each queue named in `queue_names` (`{logical_id: physical_name}`) as the template defines
    it, and return `{logical_id: queue URL}`.

    A `RedrivePolicy` names its dead-letter queue with `!GetAtt <LogicalId>.Arn`: that queue must be
    in `queue_names` too, and is created first. Creating a queue that exists with the same
    attributes is a no-op, as in SQS.
    """
    definitions = queue_definitions(template)
    urls: dict[str, str] = {}
    arns: dict[str, str] = {}

    def create(logical_id: str, path: tuple[str, ...]) -> None:
        if logical_id in urls:
            return
        if logical_id in path:
            raise ValueError(f"the redrive policies of {', '.join(path)} form a cycle")
        if logical_id not in queue_names:
            raise ValueError(f"{path[-1]} sends dead letters to {logical_id}, which is not created locally")
        properties = definitions[logical_id]
        attributes = {
            name: _attribute_text(properties[name]) for name in _QUEUE_ATTRIBUTES if name in properties
        }
        redrive = properties.get("RedrivePolicy")
        if redrive:
            target = _get_att_arn(redrive["deadLetterTargetArn"])
            create(target, (*path, logical_id))
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": arns[target], "maxReceiveCount": int(redrive["maxReceiveCount"])}
            )
        url = sqs_client.create_queue(QueueName=queue_names[logical_id], Attributes=attributes)["QueueUrl"]
        urls[logical_id] = url
        arns[logical_id] = sqs_client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    for logical_id in queue_names:
        create(logical_id, ())
    return {logical_id: urls[logical_id] for logical_id in queue_names}


def _attribute_text(value: Any) -> str:
    # SQS attributes are strings; CloudFormation's booleans are `true` and `false` there.
    return str(value).lower() if isinstance(value, bool) else str(value)


def _get_att_arn(reference: Any) -> str:
    """The logical id in `!GetAtt <LogicalId>.Arn` (either form); anything else is not supported here."""
    target = reference.get("Fn::GetAtt") if isinstance(reference, Mapping) else None
    if isinstance(target, str):
        target = target.split(".", 1)
    if not isinstance(target, list) or len(target) != 2 or target[1] != "Arn":
        raise ValueError(
            f"the local stack reads dead-letter targets as !GetAtt <Queue>.Arn, not {reference!r}"
        )
    return str(target[0])


# The CloudFormation user pool properties that `CreateUserPool` accepts under the same name
# (`UserPoolName` is `PoolName` there; `EnabledMfas` is set with `SetUserPoolMfaConfig`).
_CREATE_USER_POOL_PROPERTIES = (
    "UsernameAttributes",
    "AutoVerifiedAttributes",
    "AdminCreateUserConfig",
    "Policies",
    "AccountRecoverySetting",
    "Schema",
)
# The CloudFormation app client properties that `CreateUserPoolClient` accepts under the same name.
_CREATE_USER_POOL_CLIENT_PROPERTIES = (
    "GenerateSecret",
    "ExplicitAuthFlows",
    "PreventUserExistenceErrors",
    "AccessTokenValidity",
    "IdTokenValidity",
    "RefreshTokenValidity",
    "TokenValidityUnits",
    "ReadAttributes",
    "WriteAttributes",
)


def create_user_pool(
    cognito_client: Any,
    pool_logical_id: str,
    client_logical_id: str,
    name: str,
    template: Mapping[str, Any] | None = None,
) -> tuple[str, str]:
    """Create the user pool `pool_logical_id` and its app client `client_logical_id` as the template
    defines them, both named `name`, and return `(user pool id, app client id)`.

    A pool of that name that exists already is reused with its first client, so a restarted local
    stack keeps its users (where the emulation keeps them).
    """
    template = template if template is not None else load_template()
    resources = template.get("Resources", {})
    for page in cognito_client.get_paginator("list_user_pools").paginate(MaxResults=60):
        for pool in page["UserPools"]:
            if pool["Name"] == name:
                clients = cognito_client.list_user_pool_clients(UserPoolId=pool["Id"], MaxResults=60)
                if clients["UserPoolClients"]:
                    return pool["Id"], clients["UserPoolClients"][0]["ClientId"]
    pool_properties = resources[pool_logical_id]["Properties"]
    request = {key: pool_properties[key] for key in _CREATE_USER_POOL_PROPERTIES if key in pool_properties}
    pool_id = cognito_client.create_user_pool(PoolName=name, **request)["UserPool"]["Id"]
    if "SOFTWARE_TOKEN_MFA" in pool_properties.get("EnabledMfas", []):
        cognito_client.set_user_pool_mfa_config(
            UserPoolId=pool_id,
            SoftwareTokenMfaConfiguration={"Enabled": True},
            MfaConfiguration=pool_properties.get("MfaConfiguration", "OFF"),
        )
    client_properties = resources[client_logical_id]["Properties"]
    request = {
        key: client_properties[key] for key in _CREATE_USER_POOL_CLIENT_PROPERTIES if key in client_properties
    }
    client_id = cognito_client.create_user_pool_client(UserPoolId=pool_id, ClientName=name, **request)[
        "UserPoolClient"
    ]["ClientId"]
    return pool_id, client_id

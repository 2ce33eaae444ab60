"""Create the stack's DynamoDB tables and bucket from `template.yaml`'s own definitions.

The local stack and the tests build their tables from here, so the template stays the single
source of truth for key schemas, indexes, streams and TTLs.
"""

from __future__ import annotations

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


class _CloudFormationLoader(yaml.SafeLoader):
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
    with path.open(encoding="utf-8") as stream:
        document: dict[str, Any] = yaml.load(stream, Loader=_CloudFormationLoader)  # noqa: S506
    return document


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

    Tables that already exist are left as they are, so a restarted local stack keeps its data.
    """
    definitions = table_definitions()
    existing = set(dynamodb_client.list_tables()["TableNames"])
    for logical_id, physical_name in table_names.items():
        if physical_name in existing:
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

"""Every answer of the API checked against the OpenAPI document the API itself serves.

An answer passes when its status is declared for its operation, its media type is one the
operation declares for that status, and its body validates (JSON Schema 2020-12) against the
declared schema with no undeclared field anywhere: each object schema is read as closed
(`additionalProperties: false`) unless it says what else it allows (a map such as `balances`).
A method the document does not give a path must be answered `405` as a problem naming, in
`Allow`, exactly the methods it documents.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from tests.integration.api_client import ApiClient, ApiResponse

METHODS = ("get", "post", "put", "patch", "delete")


class ContractBroken(AssertionError):
    """An answer the document does not declare."""


def closed(schema: Any) -> Any:
    """The schema with every object schema that lists its properties closed to any other."""
    if isinstance(schema, dict):
        schema = {name: closed(value) for name, value in schema.items()}
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [closed(value) for value in schema]
    return schema


@dataclass
class Contract:
    """The document, and what it declares of each operation."""

    document: dict[str, Any]
    _components: dict[str, Any] = field(init=False)
    _paths: list[tuple[re.Pattern[str], str]] = field(init=False)

    def __post_init__(self) -> None:
        self._components = closed(copy.deepcopy(self.document.get("components", {})))
        templates = sorted(self.document["paths"], key=lambda path: path.count("{"))
        self._paths = [
            (re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path)) + "$"), path)
            for path in templates
        ]

    def template_of(self, path: str) -> str:
        """The document's path that `path` is an instance of (the most literal one)."""
        for pattern, template in self._paths:
            if pattern.match(path):
                return template
        raise ContractBroken(f"{path} is not a path of the document")

    def check(self, method: str, path: str, response: ApiResponse) -> None:
        """Raise `ContractBroken` unless the document declares `response` to `method path`."""
        template = self.template_of(path)
        item = self.document["paths"][template]
        method = method.lower()
        if method not in item:
            self._check_not_allowed(method, template, item, response)
            return
        responses = item[method]["responses"]
        declared = responses.get(str(response.status))
        if declared is None:
            raise ContractBroken(
                f"{method.upper()} {template} answered {response.status}, which it does not declare "
                f"({', '.join(sorted(responses))}): {response.body[:300]!r}"
            )
        self._check_body(f"{method.upper()} {template} {response.status}", declared, response)

    def _check_not_allowed(
        self, method: str, template: str, item: dict[str, Any], response: ApiResponse
    ) -> None:
        documented = sorted(name.upper() for name in item if name in METHODS)
        if response.status != 405:
            raise ContractBroken(
                f"{method.upper()} {template} is not documented but answered {response.status}"
            )
        if sorted(response.headers.get("Allow", "").replace(" ", "").split(",")) != documented:
            raise ContractBroken(
                f"405 for {template} allows {response.headers.get('Allow')}, not {documented}"
            )
        problem = {
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        }
        self._check_body(f"{method.upper()} {template} 405", problem, response)

    def _check_body(self, answer: str, declared: dict[str, Any], response: ApiResponse) -> None:
        content: dict[str, Any] = declared.get("content") or {}
        if not content:
            if response.body:
                raise ContractBroken(f"{answer} declares no body but has one: {response.body[:300]!r}")
            return
        media_type = response.content_type.split(";", 1)[0].strip()
        if media_type not in content:
            raise ContractBroken(f"{answer} is {media_type!r}, not one of {sorted(content)}")
        schema = content[media_type].get("schema")
        if schema is None or not media_type.endswith("json"):
            return
        self.validate(answer, schema, json.loads(response.body))

    def validate(self, answer: str, schema: dict[str, Any], body: Any) -> None:
        """Raise `ContractBroken` unless `body` is valid by `schema` (refs into the document's components)."""
        root = {**closed(schema), "components": self._components}
        validator = Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)
        errors = sorted(validator.iter_errors(body), key=lambda error: list(error.absolute_path))
        if errors:
            raise ContractBroken(f"{answer}: " + "; ".join(_describe(error) for error in errors[:5]))


def _describe(error: ValidationError) -> str:
    where = "/".join(str(part) for part in error.absolute_path) or "(body)"
    return f"{where}: {error.message}"


class CheckedApi:
    """An `ApiClient` whose every answer is checked against the contract before it is returned."""

    def __init__(self, client: ApiClient, contract: Contract) -> None:
        self.client = client
        self.contract = contract
        self.answered: list[tuple[str, str, int]] = []

    def request(self, method: str, url: str, json_body: Any = None, **kwargs: Any) -> ApiResponse:
        response = self.client.request(method, url, json_body, **kwargs)
        path = url.split("?", 1)[0]
        self.contract.check(method, path, response)
        self.answered.append((method, self.contract.template_of(path), response.status))
        return response

    def get(self, url: str, **kwargs: Any) -> ApiResponse:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, json_body: Any = None, **kwargs: Any) -> ApiResponse:
        return self.request("POST", url, json_body, **kwargs)

    def patch(self, url: str, json_body: Any = None, **kwargs: Any) -> ApiResponse:
        return self.request("PATCH", url, json_body, **kwargs)

    def put(self, url: str, **kwargs: Any) -> ApiResponse:
        return self.request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> ApiResponse:
        return self.request("DELETE", url, **kwargs)

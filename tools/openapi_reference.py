"""Renders the API's OpenAPI document as Markdown: `docs/api-reference.md`.

    make docs                                   # regenerates docs/api-reference.md
    PYTHONPATH=functions:. python -m tools.openapi_reference [output.md]

The document is the one the API serves at `/openapi.json` (`api.app.openapi_document`: Powertools
writes it from the routes and their pydantic models, `api.openapi.complete` adds the tags and the
problem answers), so the reference can only say what the code does. Operations are grouped by
tag, in the document's order; each shows its method and path, summary, parameters, request body
fields (types, constraints, defaults) and answers. The schemas the operations use follow, by name.

The output depends on nothing but the document (no clock, no environment), so that
`tests/integration/test_api_reference.py` can compare the committed file with a fresh rendering.

This lives in `tools/`, outside `functions/` and `shared/`: everything under those ships to
Lambda (`CodeUri: functions/`, the layer's `ContentUri: shared/`), and a documentation generator
has no business in a deployed function.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "api-reference.md"
METHODS = ("get", "post", "put", "patch", "delete")
REF_PREFIX = "#/components/schemas/"
# A pattern longer than this is summarised (the currency and country codes are spelled out as
# case-insensitive alternatives, some 2,000 characters).
LONGEST_PATTERN_SHOWN = 80
_CASE_INSENSITIVE_CODES = re.compile(r"^\^\(((?:\[[A-Za-z]{2}\])+(?:\|(?:\[[A-Za-z]{2}\])+)*)\)\$$")


def load_document() -> dict[str, Any]:
    """The OpenAPI document the API serves at `/openapi.json`."""
    from api.app import openapi_document

    document: dict[str, Any] = json.loads(openapi_document())
    return document


class _Slugs:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def __call__(self, heading: str) -> str:
        base = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        count = self._seen.get(base, 0)
        self._seen[base] = count + 1
        return base if count == 0 else f"{base}-{count}"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _literal(value: Any) -> str:
    return f"`{json.dumps(value, ensure_ascii=False, sort_keys=True)}`"


def _ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return ref.removeprefix(REF_PREFIX) if isinstance(ref, str) else None


class _Renderer:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
        self.slug = _Slugs()
        self.schema_anchor: dict[str, str] = {}

    # --- types and constraints ------------------------------------------------------------

    def link(self, name: str) -> str:
        return f"[`{name}`](#{self.schema_anchor[name]})"

    def type_of(self, schema: dict[str, Any]) -> str:
        name = _ref_name(schema)
        if name is not None:
            return self.link(name)
        variants = schema.get("anyOf") or schema.get("oneOf")
        if variants:
            kinds = [self.type_of(variant) for variant in variants if variant.get("type") != "null"]
            nullable = any(variant.get("type") == "null" for variant in variants)
            return " or ".join(dict.fromkeys(kinds + (["null"] if nullable else [])))
        if "const" in schema:
            return _literal(schema["const"])
        if "enum" in schema:
            return "one of " + ", ".join(_literal(value) for value in schema["enum"])
        kind = schema.get("type")
        if kind == "array":
            return f"array of {self.type_of(schema.get('items', {}))}"
        if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
            return f"object of {self.type_of(schema['additionalProperties'])}"
        if kind is None:
            return "any"
        return f"{kind} ({schema['format']})" if "format" in schema else str(kind)

    def constraints(self, schema: dict[str, Any]) -> list[str]:
        """What a value must satisfy, from the schema and from the non-null variants it allows."""
        found: list[str] = []
        for node in self._constraint_nodes(schema):
            found += _bounds(node)
            if "pattern" in node:
                found.append(_pattern(node["pattern"]))
            if isinstance(node.get("not"), dict) and "const" in node["not"]:
                found.append(f"not {_literal(node['not']['const'])}")
            if isinstance(node.get("propertyNames"), dict):
                found += [f"keys: {bound}" for bound in _bounds(node["propertyNames"])]
            if isinstance(node.get("additionalProperties"), dict):
                found += [f"values: {bound}" for bound in _bounds(node["additionalProperties"])]
            if node.get("type") == "array" and isinstance(node.get("items"), dict):
                items = node["items"]
                found += [f"each: {bound}" for bound in _bounds(items)]
                if "pattern" in items:
                    found.append(f"each: {_pattern(items['pattern'])}")
            if node.get("readOnly"):
                found.append("read-only")
            if node.get("writeOnly"):
                found.append("write-only")
        return list(dict.fromkeys(found))

    def _constraint_nodes(self, schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield schema
        for variant in schema.get("anyOf") or schema.get("oneOf") or []:
            if variant.get("type") != "null" and "$ref" not in variant:
                yield from self._constraint_nodes(variant)

    def fields_table(self, schema: dict[str, Any]) -> list[str]:
        properties: dict[str, Any] = schema.get("properties", {})
        if not properties:
            return []
        required = set(schema.get("required", []))
        rows = [
            "| field | type | required | constraints, default | description |",
            "|---|---|---|---|---|",
        ]
        for name, field in properties.items():
            notes = self.constraints(field)
            if "default" in field:
                notes.append(f"default {_literal(field['default'])}")
            examples = field.get("examples")
            if examples and "default" not in field and field.get("type") not in ("boolean",):
                notes.append("e.g. " + ", ".join(_literal(example) for example in examples[:2]))
            rows.append(
                f"| `{name}` | {_cell(self.type_of(field))} | {'yes' if name in required else ''} "
                f"| {_cell('; '.join(notes))} | {_cell(field.get('description', ''))} |"
            )
        if schema.get("additionalProperties") is False:
            rows.append("")
            rows.append("Other fields are refused (`422`).")
        return rows

    # --- operations -----------------------------------------------------------------------

    def operations(self) -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
        """Operations by tag: tags in the order they first appear, operations in document order."""
        by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
        for path, item in self.document.get("paths", {}).items():
            for method in METHODS:
                if method in item:
                    operation = item[method]
                    tag = (operation.get("tags") or ["Other"])[0]
                    by_tag.setdefault(tag, []).append((path, method, operation))
        return by_tag

    def used_schemas(self) -> list[str]:
        """The component schemas the operations reach, directly or through other schemas, by name."""
        seen: set[str] = set()
        pending = list(_refs(self.document.get("paths", {})))
        while pending:
            name = pending.pop()
            if name in seen or name not in self.schemas:
                continue
            seen.add(name)
            pending.extend(_refs(self.schemas[name]))
        return sorted(seen, key=lambda name: (name.lower(), name))

    def operation(self, path: str, method: str, operation: dict[str, Any], anchor_heading: str) -> list[str]:
        lines = [f"### {anchor_heading}", "", f"`{method.upper()} {path}`", ""]
        if operation.get("description"):
            lines += [operation["description"], ""]
        if operation.get("security") == []:
            lines += ["Public: no API key.", ""]
        parameters = operation.get("parameters", [])
        if parameters:
            lines += [
                "**Parameters**",
                "",
                "| name | in | type | required | constraints, default | description |",
                "|---|---|---|---|---|---|",
            ]
            for parameter in parameters:
                schema = parameter.get("schema", {})
                notes = self.constraints(schema)
                if "default" in schema:
                    notes.append(f"default {_literal(schema['default'])}")
                description = parameter.get("description") or schema.get("description", "")
                lines.append(
                    f"| `{parameter['name']}` | {parameter['in']} | {_cell(self.type_of(schema))} "
                    f"| {'yes' if parameter.get('required') else ''} | {_cell('; '.join(notes))} "
                    f"| {_cell(description)} |"
                )
            lines.append("")
        body = operation.get("requestBody")
        if body:
            for media_type, content in body.get("content", {}).items():
                schema = content.get("schema", {})
                name = _ref_name(schema)
                optional = "" if body.get("required") else ", optional"
                shown = self.link(name) if name else self.type_of(schema)
                lines += [f"**Request body** (`{media_type}`{optional}): {shown}", ""]
                fields = self.fields_table(self.schemas[name] if name else schema)
                if fields:
                    lines += [*fields, ""]
        lines += ["**Responses**", "", "| status | meaning | body |", "|---|---|---|"]
        for status in sorted(operation.get("responses", {})):
            response = operation["responses"][status]
            bodies = [
                f"`{media_type}` {self.type_of(content['schema'])}".strip()
                if "schema" in content
                else f"`{media_type}`"
                for media_type, content in response.get("content", {}).items()
            ]
            meaning = _cell(response.get("description", ""))
            lines.append(f"| {status} | {meaning} | {_cell(', '.join(bodies))} |")
        lines.append("")
        return lines

    # --- the page -------------------------------------------------------------------------

    def render(self) -> str:
        info = self.document.get("info", {})
        by_tag = self.operations()
        schema_names = self.used_schemas()
        # Anchors in page order, so that GitHub's numbering of repeated headings matches ours.
        self.slug("API reference")
        self.slug("Contents")
        tag_anchor = {}
        operation_heading: dict[tuple[str, str], tuple[str, str]] = {}
        for tag, operations in by_tag.items():
            tag_anchor[tag] = self.slug(tag)
            for path, method, operation in operations:
                heading = operation.get("summary") or f"{method.upper()} {path}"
                operation_heading[(path, method)] = (heading, self.slug(heading))
        schemas_anchor = self.slug("Schemas")
        for name in schema_names:
            self.schema_anchor[name] = self.slug(name)

        lines = [
            "# API reference",
            "",
            "<!-- Generated by `make docs` (tools/openapi_reference.py) from the OpenAPI document the API",
            "     serves at /openapi.json. Do not edit by hand: change the code, then run `make docs`. -->",
            "",
            f"{info.get('title', 'API')} {info.get('version', '')}: {info.get('description', '')}".strip(),
            "",
            "Every operation needs `Authorization: Bearer <api key>` unless it says otherwise, and every",
            "`POST` accepts an `Idempotency-Key` header. Errors are `application/problem+json`"
            f" ({self.link('Problem') if 'Problem' in self.schema_anchor else '`Problem`'}).",
            "How to authenticate, paginate, retry safely and read errors: [the API guide](api.md).",
            "",
            "## Contents",
            "",
        ]
        for tag, operations in by_tag.items():
            lines.append(f"* [{tag}](#{tag_anchor[tag]})")
            for path, method, _ in operations:
                heading, anchor = operation_heading[(path, method)]
                lines.append(f"  * [`{method.upper()} {path}`](#{anchor}): {heading}")
        lines += [f"* [Schemas](#{schemas_anchor})", ""]
        for tag, operations in by_tag.items():
            lines += [f"## {tag}", ""]
            for path, method, operation in operations:
                lines += self.operation(path, method, operation, operation_heading[(path, method)][0])
        lines += ["## Schemas", ""]
        for name in schema_names:
            schema = self.schemas[name]
            lines += [f"### {name}", ""]
            if schema.get("description"):
                lines += [" ".join(schema["description"].split()), ""]
            fields = self.fields_table(schema)
            lines += [*fields, ""] if fields else [f"{self.type_of(schema)}.", ""]
        return "\n".join(lines).rstrip("\n") + "\n"


def _bounds(node: dict[str, Any]) -> list[str]:
    found = []
    if "minLength" in node or "maxLength" in node:
        found.append(_range(node.get("minLength"), node.get("maxLength"), "characters"))
    if "minItems" in node or "maxItems" in node:
        found.append(_range(node.get("minItems"), node.get("maxItems"), "items"))
    if "minProperties" in node or "maxProperties" in node:
        found.append(_range(node.get("minProperties"), node.get("maxProperties"), "entries"))
    for keyword, symbol in (
        ("minimum", "≥"),
        ("exclusiveMinimum", ">"),
        ("maximum", "≤"),
        ("exclusiveMaximum", "<"),
    ):
        if keyword in node:
            found.append(f"{symbol} {_number(node[keyword])}")
    return found


def _range(low: Any, high: Any, unit: str) -> str:
    if low is not None and high is not None:
        return f"{_number(low)} to {_number(high)} {unit}"
    if low is not None:
        return f"at least {_number(low)} {unit}"
    return f"at most {_number(high)} {unit}"


def _pattern(pattern: str) -> str:
    codes = _CASE_INSENSITIVE_CODES.match(pattern)
    if codes:
        alternatives = [
            "".join(pair[0] for pair in re.findall(r"\[([A-Za-z])([A-Za-z])\]", alternative))
            for alternative in codes.group(1).split("|")
        ]
        return f"one of {len(alternatives)} codes, any case ({', '.join(alternatives[:3])}, …)"
    if len(pattern) > LONGEST_PATTERN_SHOWN:
        return f"pattern of {len(pattern)} characters (see `/openapi.json`)"
    return f"pattern `{pattern}`"


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(REF_PREFIX):
                yield value.removeprefix(REF_PREFIX)
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def render(document: dict[str, Any]) -> str:
    """The Markdown reference of an OpenAPI document (the same document, the same text)."""
    return _Renderer(document).render()


def main(argv: list[str]) -> int:
    output = Path(argv[0]) if argv else DEFAULT_OUTPUT
    text = render(load_document())
    if output.exists() and output.read_text(encoding="utf-8") == text:
        print(f"{output}: up to date")
        return 0
    output.write_text(text, encoding="utf-8")
    print(f"{output}: written")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

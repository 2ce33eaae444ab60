"""Applying a PATCH to an entity, and turning pydantic's errors into the domain's field problems."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from remit.domain.errors import FieldProblem, InvalidInput
from remit.domain.values import accepts_none


def field_problems(error: ValidationError, prefix: tuple[str | int, ...] = ()) -> list[FieldProblem]:
    """One `FieldProblem` per pydantic error, named by its dotted location (`contacts.0.email`), its
    code pydantic's error type (`string_too_long`, `value_error`)."""
    problems = []
    for item in error.errors(include_url=False):
        location = ".".join(str(part) for part in (*prefix, *item["loc"]))
        message = item["msg"].removeprefix("Value error, ")
        problems.append(FieldProblem(location or "body", message, code=item["type"]))
    return problems


def deep_merge(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """`current` with `changes` applied: nested objects are merged key by key, anything else replaced."""
    merged = dict(current)
    for key, value in changes.items():
        existing = merged.get(key)
        if isinstance(value, Mapping) and isinstance(existing, Mapping):
            merged[key] = deep_merge(existing, value)
        else:
            merged[key] = value
    return merged


def build[ModelT: BaseModel](model: type[ModelT], data: Mapping[str, Any]) -> ModelT:
    """Validate `data` as `model`, raising `InvalidInput` naming each bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidInput(field_problems(error)) from None


def apply_changes[ModelT: BaseModel](entity: ModelT, changes: BaseModel, **also: Any) -> ModelT:
    """The entity with the fields the user set in `changes` (and `also`) applied, validated again."""
    current = entity.model_dump(mode="python", round_trip=True)
    # Internal fields are excluded from dumps; carry them over from the entity itself.
    for name, field in type(entity).model_fields.items():
        if field.exclude:
            current[name] = getattr(entity, name)
    requested = changes.model_dump(mode="python", exclude_unset=True)
    return build(type(entity), {**deep_merge(current, requested), **also})


_NULL = {"type": "null"}


def nullable_as_in(entity: type[BaseModel]) -> Callable[[dict[str, Any]], None]:
    """A PATCH model's `json_schema_extra`: its document lets a field be `null` only where `entity`'s may.

    A PATCH model makes every field optional (absent: unchanged), so pydantic writes each as
    nullable; but `apply_changes` validates the result as the entity, which refuses `null` for a
    field that cannot be empty (a name, a currency). The document says what the API accepts.
    """

    def schema_extra(schema: dict[str, Any]) -> None:
        for name, node in schema.get("properties", {}).items():
            field = entity.model_fields.get(name)
            variants = node.get("anyOf")
            if field is None or accepts_none(field.annotation) or not variants or _NULL not in variants:
                continue
            rest = [variant for variant in variants if variant != _NULL]
            del node["anyOf"]
            if node.get("default", ...) is None:
                del node["default"]  # absent means unchanged; `null` is not a value it may take
            if len(rest) == 1:
                node.update(rest[0])
            else:
                node["anyOf"] = rest

    return schema_extra

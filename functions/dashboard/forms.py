"""Forms from the API's own input models: the fields a form shows, how its posted values become the
model's JSON, and where each refusal is shown.

A form is drawn from the same pydantic model the API validates (`NewCustomer`, `CustomerChanges`,
…), so it reaches every field the API has and no other, and a refusal is the API's own message,
shown next to its field. Field names are the model's paths with dots (`address.line1`,
`contacts.0.email`), as the API's problem documents name them.

Amounts in minor units (`MinorUnits`) are typed by people in the currency's major unit ("19.99")
and converted with the currency's ISO 4217 exponent; an amount with more decimals than the
currency has is refused, never rounded.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, Literal, Union

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import PydanticUndefined

from remit.domain.errors import FieldProblem
from remit.problem_details import field_problems as problems

Kind = Literal[
    "text",
    "textarea",
    "number",
    "money",
    "decimal",
    "date",
    "select",
    "checkbox",
    "checkboxes",
    "lines",
    "colour",
    "group",
    "rows",
]
FormValues = dict[str, list[str]]

# Rows a list of objects (contacts, line items) offers beyond the ones it has.
EXTRA_ROWS = 2
_LONG_TEXT = 500


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    kind: Kind
    required: bool = False
    nullable: bool = False
    options: tuple[str, ...] = ()
    children: tuple[FormField, ...] = ()
    help: str | None = None
    # For "lines": the items are whole numbers (sent as JSON integers).
    whole_numbers: bool = False

    @property
    def id(self) -> str:
        return "f-" + self.name.replace(".", "-")


@dataclass
class FormErrors:
    """Refusals by field name; those naming no shown field go to `general`."""

    by_field: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.by_field or self.general)


def _is_money(metadata: list[Any]) -> bool:
    return any(
        getattr(getattr(item, "func", None), "__name__", "") == "_whole_minor_units" for item in metadata
    )


def _unwrap(annotation: Any) -> tuple[Any, list[Any], bool]:
    """(the bare type, its Annotated metadata, whether None is allowed)."""
    metadata: list[Any] = []
    nullable = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation, *extra = typing.get_args(annotation)
            metadata.extend(extra)
        elif origin in (Union, types.UnionType):
            arms = [arm for arm in typing.get_args(annotation) if arm is not type(None)]
            nullable = nullable or len(arms) < len(typing.get_args(annotation))
            if len(arms) != 1:
                return str, metadata, nullable
            annotation = arms[0]
        else:
            return annotation, metadata, nullable


def _enum(annotation: Any) -> tuple[str, ...]:
    try:
        schema = TypeAdapter(annotation).json_schema()
    except Exception:
        return ()
    for candidate in [schema, *schema.get("anyOf", [])]:
        if "enum" in candidate:
            return tuple(str(value) for value in candidate["enum"])
    return ()


# Words a field's name spells in lower case that people write otherwise.
_WORDS = {
    "iban": "IBAN",
    "bic": "BIC",
    "id": "ID",
    "ids": "IDs",
    "url": "URL",
    "line1": "line 1",
    "line2": "line 2",
    "pdf": "PDF",
}
_LABELS = {
    "payment_terms_days": "Payment terms (days)",
    "timezone": "Time zone",
    "line1": "Address line 1",
    "line2": "Address line 2",
}


def _label(name: str, info: Any) -> str:
    if info.title:
        return str(info.title)
    if name in _LABELS:
        return _LABELS[name]
    words = [_WORDS.get(word, word) for word in name.split("_")]
    text = " ".join(words)
    return text[0].upper() + text[1:]


@cache
def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


def _schema_enum(model: type[BaseModel], name: str) -> tuple[str, ...]:
    """The choices the API's document gives a text field (time zones, locales), if any."""
    schema = _schema(model).get("properties", {}).get(name, {})
    for candidate in [schema, *schema.get("anyOf", [])]:
        if "enum" in candidate:
            return tuple(str(value) for value in candidate["enum"] if value is not None)
    return ()


def _kind_of(annotation: Any, metadata: list[Any], full: Any) -> tuple[Kind, tuple[str, ...]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "group", ()
    origin = typing.get_origin(annotation)
    if origin is list:
        (item,) = typing.get_args(annotation) or (str,)
        bare, _, _ = _unwrap(item)
        if isinstance(bare, type) and issubclass(bare, BaseModel):
            return "rows", ()
        choices = _enum(item)
        return ("checkboxes", choices) if choices else ("lines", ())
    if origin is Literal:
        return "select", tuple(str(value) for value in typing.get_args(annotation))
    if annotation is bool:
        return "checkbox", ()
    if annotation is int:
        return ("money" if _is_money(metadata) else "number"), ()
    if annotation is Decimal:
        return "decimal", ()
    if annotation is date:
        return "date", ()
    choices = _enum(full)
    if choices:
        return "select", choices
    if any(getattr(getattr(item, "func", None), "__name__", "") == "_colour" for item in metadata):
        return "colour", ()
    if any(getattr(item, "max_length", 0) and item.max_length > _LONG_TEXT for item in metadata):
        return "textarea", ()
    return "text", ()


@cache
def fields_of(model: type[BaseModel], prefix: str = "") -> tuple[FormField, ...]:
    """The form fields of `model`, in its order: read-only and excluded fields left out."""
    found: list[FormField] = []
    for name, info in model.model_fields.items():
        # An entity's own id (a contact's, a line's) is not typed in; an identifier a value needs
        # (an electronic address's `id`) is.
        if info.exclude or name in {"logo_url", "card"} or (name == "id" and not info.is_required()):
            continue
        annotation: Any = info.annotation
        if isinstance(annotation, (str, typing.ForwardRef)):
            annotation = typing.get_type_hints(model, include_extras=True)[name]
        if info.metadata:
            annotation = typing.Annotated[(annotation, *info.metadata)]
        bare, metadata, nullable = _unwrap(annotation)
        kind, options = _kind_of(bare, metadata, annotation)
        if kind == "text":
            schema_choices = _schema_enum(model, name)
            if schema_choices:
                kind, options = "select", schema_choices
        path = f"{prefix}{name}"
        children: tuple[FormField, ...] = ()
        whole_numbers = False
        if kind == "lines":
            item_type, _, _ = _unwrap(typing.get_args(bare)[0]) if typing.get_args(bare) else (str, [], False)
            whole_numbers = item_type is int
        if kind == "group":
            children = fields_of(bare, f"{path}.")
        elif kind == "rows":
            item, _, _ = _unwrap(typing.get_args(bare)[0])
            children = fields_of(item, f"{path}.#.")
        found.append(
            FormField(
                name=path,
                label=_label(name, info),
                kind=kind,
                required=info.is_required(),
                nullable=nullable,
                options=options,
                children=children,
                help=info.description,
                whole_numbers=whole_numbers,
            )
        )
    return tuple(found)


def row_fields(rows: FormField, index: int) -> tuple[FormField, ...]:
    """The fields of row `index` of a list of objects (`contacts.0.email`, …)."""
    marker = f"{rows.name}.#."
    return tuple(_renamed(child, marker, f"{rows.name}.{index}.") for child in rows.children)


def _renamed(form_field: FormField, old: str, new: str) -> FormField:
    children = tuple(_renamed(child, old, new) for child in form_field.children)
    return FormField(
        name=form_field.name.replace(old, new, 1),
        label=form_field.label,
        kind=form_field.kind,
        required=form_field.required,
        nullable=form_field.nullable,
        options=form_field.options,
        children=children,
        help=form_field.help,
        whole_numbers=form_field.whole_numbers,
    )


def row_count(rows: FormField, values: FormValues) -> int:
    """How many rows a list shows: the highest row that has a value, plus `EXTRA_ROWS`."""
    prefix = f"{rows.name}."
    highest = -1
    for name in values:
        if name.startswith(prefix):
            index = name[len(prefix) :].split(".", 1)[0]
            if index.isdigit():
                highest = max(highest, int(index))
    return highest + 1 + EXTRA_ROWS


def minor_units(text: str, exponent: int) -> int | str:
    """19.99 typed for a 2-decimal currency as 1999 minor units; the text itself when it is not an
    amount or has more decimals than the currency (never rounded)."""
    return _minor_units(text, exponent)


def _minor_units(text: str, exponent: int) -> int | str:
    try:
        amount = Decimal(text.replace(",", "").replace(" ", ""))
    except InvalidOperation:
        return text
    scaled = amount.scaleb(exponent)
    if not scaled.is_finite() or scaled != scaled.to_integral_value():
        return text
    return int(scaled)


def _value(form_field: FormField, values: FormValues, exponent: int, blank: Literal["omit", "null"]) -> Any:
    """The field's JSON value from the posted values; `...` for "not given"."""
    raw = values.get(form_field.name, [])
    if form_field.kind == "checkbox":
        # A hidden "false" precedes the box, so the last value is the box's state.
        return raw[-1] == "true" if raw else ...
    if form_field.kind == "checkboxes":
        return [value for value in raw if value] if f"{form_field.name}.present" in values or raw else ...
    if form_field.kind == "lines":
        if not raw:
            return ...
        lines = [line.strip() for line in raw[-1].replace(",", "\n").splitlines() if line.strip()]
        if form_field.whole_numbers:
            return [int(line) if line.lstrip("-").isdigit() else line for line in lines]
        return lines
    if form_field.kind == "group":
        group = _object(form_field.children, values, exponent, blank)
        if not group:
            # Emptied (its fields posted blank) clears it; a group the form does not show stays.
            posted = any(name.startswith(f"{form_field.name}.") for name in values)
            return None if blank == "null" and form_field.nullable and posted else ...
        return group
    if form_field.kind == "rows":
        rows = []
        for index in range(row_count(form_field, values)):
            if _typed_row(row_fields(form_field, index), values):
                rows.append(_object(row_fields(form_field, index), values, exponent, "omit"))
        present = any(name.startswith(f"{form_field.name}.") for name in values)
        return rows if present else ...
    text = (raw[-1] if raw else "").strip()
    if not text:
        return None if blank == "null" and form_field.nullable and raw else ...
    if form_field.kind == "number":
        return int(text) if text.lstrip("-").isdigit() else text
    if form_field.kind == "money":
        return _minor_units(text, exponent)
    return text


def _object(
    fields: tuple[FormField, ...], values: FormValues, exponent: int, blank: Literal["omit", "null"]
) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for form_field in fields:
        value = _value(form_field, values, exponent, blank)
        if value is not ...:
            data[form_field.name.rsplit(".", 1)[-1]] = value
    return data


def parse[M: BaseModel](
    model: type[M], values: FormValues, exponent: int = 2, blank: Literal["omit", "null"] = "omit"
) -> tuple[M | None, FormErrors]:
    """The model from the posted form, or the refusals named as the API names them.

    `blank="omit"` (a new record) leaves empty fields out, so their defaults apply; `"null"` (an
    edit) sends `null` for an emptied field that may be empty, clearing it, as a PATCH does.
    """
    data = _object(fields_of(model), values, exponent, blank)
    try:
        return model.model_validate(data), FormErrors()
    except ValidationError as refused:
        return None, errors_of(field_problems(refused), fields_of(model), values)


def field_problems(refused: ValidationError) -> list[FieldProblem]:

    return problems(refused.errors())


def _names(fields: tuple[FormField, ...]) -> set[str]:
    names: set[str] = set()
    for form_field in fields:
        names.add(form_field.name)
        names |= _names(form_field.children)
    return names


def errors_of(
    problems: list[FieldProblem] | tuple[FieldProblem, ...],
    fields: tuple[FormField, ...],
    values: FormValues | None = None,
) -> FormErrors:
    """Each problem next to its field (a row's field `contacts.0.email` by its own name), the rest
    in the form's summary. With the posted `values`, an item's index is turned into its row's in
    the form (empty rows are skipped when the list is sent), so the message shows where it was typed.
    """
    known = _names(fields)
    rows = filled_rows(fields, values or {})
    errors = FormErrors()
    for problem in problems:
        parts = problem.field.split(".")
        message = problem.message
        if len(parts) > 2 and parts[0] in rows and parts[1].isdigit() and int(parts[1]) < len(rows[parts[0]]):
            parts[1] = str(rows[parts[0]][int(parts[1])])
        if len(parts) > 1 and parts[-1].isdigit() and ".".join(parts) not in known:
            # An item of a list typed one per line: next to the list, naming its line.
            message = f"line {int(parts.pop()) + 1}: {message}"
        name = ".".join(parts)
        generic = ".".join("#" if part.isdigit() else part for part in parts)
        if name in known or generic in known:
            errors.by_field.setdefault(name, message)
        else:
            errors.general.append(f"{problem.field}: {problem.message}")
    return errors


def filled_rows(fields: tuple[FormField, ...], values: FormValues) -> dict[str, list[int]]:
    """Per list of objects, the form rows that have a value, in order: the items `parse` sends."""
    filled: dict[str, list[int]] = {}
    for form_field in fields:
        if form_field.kind == "rows":
            filled[form_field.name] = [
                index
                for index in range(row_count(form_field, values))
                if _typed_row(row_fields(form_field, index), values)
            ]
    return filled


def _typed_row(fields: tuple[FormField, ...], values: FormValues) -> bool:
    """Whether a row of a list was filled in: some text typed, a box ticked (an unticked box's
    hidden "false" and a list of boxes' marker are not a row).
    """
    for child in fields:
        raw = [value for value in values.get(child.name, []) if value.strip()]
        if child.kind == "checkbox":
            if raw and raw[-1] == "true":
                return True
        elif child.kind in ("group", "rows"):
            if _typed_row(child.children, values):
                return True
        elif raw:
            return True
    return False


def defaults_of(model: type[BaseModel], prefix: str = "") -> FormValues:
    """A new record's form values: each field's default, nested models' too (a form that is sent
    untouched then asks for what the API's defaults give).
    """

    flat: FormValues = {}
    for form_field in fields_of(model, prefix):
        name = form_field.name.rsplit(".", 1)[-1]
        info = model.model_fields[name]
        if form_field.kind == "group":
            bare, _, _ = _unwrap(typing.get_type_hints(model, include_extras=True)[name])
            flat.update(defaults_of(bare, f"{form_field.name}."))
            continue
        default = (
            info.get_default(call_default_factory=True)
            if info.default is not PydanticUndefined or info.default_factory
            else None
        )
        if default is None or default is PydanticUndefined or form_field.kind == "rows":
            continue
        if isinstance(default, BaseModel):
            _flatten(default.model_dump(mode="json"), form_field.name, flat)
        else:
            _flatten(TypeAdapter(type(default)).dump_python(default, mode="json"), form_field.name, flat)
    return flat


def values_of(
    record: BaseModel | dict[str, Any] | None, fields: tuple[FormField, ...], exponent: int = 2
) -> FormValues:
    """A stored record as form values (an edit form's starting point), amounts in major units."""
    if record is None:
        return {}
    data = record.model_dump(mode="json") if isinstance(record, BaseModel) else record
    flat: FormValues = {}
    _flatten(data, "", flat)
    money = {name for name, kind in _kinds(fields).items() if kind == "money"}
    for name, values in flat.items():
        generic = ".".join("#" if part.isdigit() else part for part in name.split("."))
        if generic in money and values and values[0].lstrip("-").isdigit():
            flat[name] = [major_units(int(values[0]), exponent)]
    return flat


def _kinds(fields: tuple[FormField, ...]) -> dict[str, str]:
    kinds: dict[str, str] = {}
    for form_field in fields:
        kinds[form_field.name] = form_field.kind
        kinds.update(_kinds(form_field.children))
    return kinds


def _flatten(value: Any, path: str, flat: FormValues) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(inner, f"{path}.{key}" if path else key, flat)
    elif isinstance(value, list) and value and isinstance(value[0], dict):
        for index, inner in enumerate(value):
            _flatten(inner, f"{path}.{index}", flat)
    elif isinstance(value, list):
        flat[path] = [str(item) for item in value]
    elif isinstance(value, bool):
        flat[path] = ["true" if value else "false"]
    elif value is not None:
        flat[path] = [str(value)]


def major_units(amount: int, exponent: int) -> str:
    """19.99 for 1999 minor units of a 2-decimal currency: the value a money input shows."""
    return str(Decimal(amount).scaleb(-exponent)) if exponent else str(amount)

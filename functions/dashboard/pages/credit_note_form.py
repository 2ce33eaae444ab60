"""The credit note form of an invoice (no pages of its own: `credit_notes` serves it): the invoice's
lines with what is left of each to credit, the posted values turned into the API's `NewCreditNote`,
and each refusal put next to the field it names.

A line of the request is named by its place in the request (`lines[1].quantity`), which is not its
row in the form (rows left empty are not sent): `Asked.names` keeps, for each line sent, the form's
name of its row, so the message is shown where it was typed.
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from dashboard.forms import FormErrors, minor_units
from dashboard.pages.recurring import exponent_of
from remit.domain.credit_notes import CreditNoteReason, NewCreditNote
from remit.problem_details import field_problems

if TYPE_CHECKING:
    from remit.domain.errors import FieldProblem
    from remit.domain.invoice import Invoice, LineItem

# Each reason of the API in words, the default (`other`) first.
REASONS: dict[str, str] = {
    reason: "Other (no reason stated)" if reason == "other" else reason.replace("_", " ").capitalize()
    for reason in sorted(typing.get_args(CreditNoteReason), key=lambda reason: reason != "other")
}
SETTLEMENT = ("refund_amount", "credit_amount", "out_of_band_amount")
# A free line's VAT category, exemption reason and unit code: sent only when typed.
FREE_TAX_FIELDS = ("vat_category", "exemption_reason", "unit_code")
# The request's names for a line's field (`lines[2].quantity`, pydantic's `lines.2.quantity`).
_LINE_FIELD = re.compile(r"^lines(?:\[(\d+)\]|\.(\d+))(?:\.(\w+))?$")


@dataclass(frozen=True)
class LineRow:
    """An invoice line as the form offers it: what is left of it to credit."""

    index: int
    line: LineItem
    quantity_left: Decimal
    amount_left: int

    @property
    def creditable(self) -> bool:
        return self.amount_left > 0


def line_rows(invoice: Invoice) -> list[LineRow]:
    rows = []
    for index, line in enumerate(invoice.line_items):
        credited = invoice.credited_lines.get(line.id)
        quantity_left = line.quantity - (credited.quantity if credited else Decimal(0))
        amount_left = line.amount - (credited.amount if credited else 0)
        rows.append(LineRow(index, line, max(quantity_left, Decimal(0)), max(amount_left, 0)))
    return rows


@dataclass
class Asked:
    """The form as the request `NewCreditNote` is built from: its JSON, and for each of its lines
    the form's name for it (`lines.3`, `free`), so a refusal naming `lines[1].quantity` is shown
    next to the field it was typed in."""

    data: dict[str, Any]
    names: list[str]
    errors: FormErrors


def posted(values: dict[str, list[str]], name: str) -> str:
    """The last value posted for `name`, trimmed (empty when none)."""
    found = values.get(name) or [""]
    return found[-1].strip()


def _money(values: dict[str, list[str]], name: str, exponent: int, errors: FormErrors) -> int | None:
    text = posted(values, name)
    if not text:
        return None
    amount = minor_units(text, exponent)
    if isinstance(amount, str):
        errors.by_field.setdefault(name, f"write an amount such as 19.99 (at most {exponent} decimals)")
        return None
    return amount


def _asked(invoice: Invoice, values: dict[str, list[str]]) -> Asked:
    """What the form asks, as the API's body (amounts in minor units)."""
    exponent = exponent_of(invoice.currency)
    errors = FormErrors()
    lines: list[dict[str, Any]] = []
    names: list[str] = []
    for row in line_rows(invoice):
        name = f"lines.{row.index}"
        quantity = posted(values, f"{name}.quantity")
        amount = _money(values, f"{name}.amount", exponent, errors)
        if not quantity and amount is None:
            continue
        line: dict[str, Any] = {"invoice_line_id": row.line.id}
        if quantity:
            try:
                line["quantity"] = str(Decimal(quantity))
            except InvalidOperation:
                errors.by_field.setdefault(f"{name}.quantity", "write a number such as 1 or 0.5")
                continue
        if amount is not None:
            line["amount"] = amount
        lines.append(line)
        names.append(name)
    free_description = posted(values, "free.description")
    free_amount = _money(values, "free.amount", exponent, errors)
    free_rate = posted(values, "free.tax_rate")
    if free_description or free_amount is not None:
        free: dict[str, Any] = {"description": free_description, "tax_rate": free_rate or "0"}
        if free_amount is not None:
            free["amount"] = free_amount
        for name in FREE_TAX_FIELDS:
            given = posted(values, f"free.{name}")
            if given:
                free[name] = given
        lines.append(free)
        names.append("free")
    data: dict[str, Any] = {"reason": posted(values, "reason") or "other"}
    if lines:
        data["lines"] = lines
    single = _money(values, "amount", exponent, errors)
    if single is not None:
        data["amount"] = single
    memo = posted(values, "memo")
    if memo:
        data["memo"] = memo
    for name in SETTLEMENT:
        settled = _money(values, name, exponent, errors)
        if settled is not None:
            data[name] = settled
    if not lines and single is None and not errors:
        errors.general.append(
            "Say what to credit: a quantity or an amount on a line, a free line, or an amount."
        )
    return Asked(data, names, errors)


def _field_name(problem: str, names: list[str]) -> str:
    """The form's name for a field a refusal names (`lines[1].quantity` → `lines.3.quantity`)."""
    found = _LINE_FIELD.match(problem)
    if found is None:
        return problem
    position = int(found[1] or found[2])
    if position >= len(names):
        return "lines"
    return f"{names[position]}.{found[3]}" if found[3] else names[position]


_SHOWN = frozenset(
    {"amount", "reason", "memo", "lines", *SETTLEMENT}
    | {f"free.{name}" for name in ("description", "amount", "tax_rate", *FREE_TAX_FIELDS)}
)


def refusals(problems: list[FieldProblem], asked: Asked, rows: int) -> FormErrors:
    """Each refusal next to the field it names; the rest above the form. A refusal naming `lines`
    (more than is left to credit) is shown next to the single amount when that was what was asked."""
    errors = FormErrors()
    shown = _SHOWN | {f"lines.{index}.{name}" for index in range(rows) for name in ("quantity", "amount")}
    single = "amount" in asked.data and "lines" not in asked.data
    for problem in problems:
        name = _field_name(problem.field, asked.names)
        if name == "lines" and single:
            name = "amount"
        if name.startswith("free.") or name == "free":
            name = name if name in shown else "free.description"
        if name in shown:
            errors.by_field.setdefault(name, problem.message)
        else:
            errors.general.append(f"{problem.field}: {problem.message}" if problem.field else problem.message)
    return errors


def parsed(invoice: Invoice, values: dict[str, list[str]]) -> tuple[NewCreditNote | None, Asked]:
    asked = _asked(invoice, values)
    if asked.errors:
        return None, asked
    try:
        return NewCreditNote.model_validate(asked.data), asked
    except ValidationError as refused:
        asked.errors = refusals(field_problems(refused.errors()), asked, len(invoice.line_items))
        return None, asked


def prefilled(invoice: Invoice, everything: bool) -> dict[str, list[str]]:
    """The form's first values: nothing to credit, or (`everything`) every line's quantity left, and
    what is above the amount due to be refunded as far as it can be, the rest to the balance."""
    values: dict[str, list[str]] = {"reason": ["other"]}
    if not everything:
        return values
    for row in line_rows(invoice):
        if row.creditable:
            values[f"lines.{row.index}.quantity"] = [str(row.quantity_left)]
    return values

"""Credit notes: the lawful correction of an issued invoice, a document of its own.

A finalized invoice is never edited; a credit note credits part or all of it. It is numbered at
once in its own gapless series per organisation, dated in the organisation's time zone and locked.
Its credited `total` first lowers what is still due on the invoice (`pre_payment_amount`); the rest
is settled exactly as `refund_amount + credit_amount + out_of_band_amount`. The credit notes of an
invoice never add up to more than its total. This module holds the entity as stored and shown,
and the rules that build one from a request (`price_credit_note`), that apply it to its invoice
(`credited_invoice`) and that undo it (`uncredited_invoice`). Pure: no I/O, no clock.

The rules, as a user meets them:

* Lines are credited by quantity (at most the quantity not yet credited), by net amount (at most the
  net not yet credited), or as free lines of their own. A note's tax at a rate is what rounding the
  net credited at that rate so far once grows by with its net: `round_half_up((credited + net) *
  rate / 100) - tax credited` (`Invoice.credited_nets`, `credited_taxes`), spread over its lines at
  that rate as on an invoice (largest remainder). So an invoice's notes at a rate always add up to
  one rounding of what they credited, never to more than the invoice's tax at that rate (the cap),
  each note is within one minor unit of its own rounding and strictly within one of `net * rate /
  100` (EN 16931's BR-S-09 holds for every note), and the note that takes the last of the invoice's
  lines at a rate takes exactly its tax left (crediting a whole invoice, in any number of parts,
  credits its totals exactly). A line's tax is its share of its note's tax at the rate, so it may
  differ by a unit from the tax its invoice line shows for the same part.
* A single `amount` (tax included) is spread over the invoice's tax rates in proportion to each
  rate's gross (largest remainder: the shares add up to the amount exactly); each rate's share is
  split into the net whose tax (as above) makes up the rest (`split_gross`), when one exists, else
  into net `round_half_up(share * 100 / (100 + rate))` and tax `share - net` (a unit off the one
  rounding, made up by the next note at that rate); its tax is capped as above.
* `reason` defaults to `other`: a correction needs no stated reason in most jurisdictions, and the
  document shows the reason when one is given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator
from pydantic.config import JsonDict

from remit.domain.einvoices import (
    DEFAULT_UNIT_CODE,
    EinvoiceStatus,
    ExemptionReason,
    TaxTreatment,
    UnitCode,
    VatCategory,
    exemption_reason_problem,
    line_tax_problem,
    vat_category_for,
)
from remit.domain.errors import Conflict, FieldProblem, InvalidInput
from remit.domain.invoice import (
    MAX_LINES,
    CreditedLine,
    Invoice,
    InvoiceStatus,
    LineDescription,
    Memo,
    TaxBreakdownLine,
    rate_key,
)
from remit.domain.money import (
    NonNegativeMinorUnits,
    PositiveMinorUnits,
    Quantity,
    exact_tax,
    line_amount,
    line_tax,
    round_half_up,
    spread,
    totals,
)
from remit.domain.values import CurrencyCode, Model, Percentage, Strict

CreditNoteStatus = Literal["issued", "void"]
CreditNoteReason = Literal["duplicate", "fraudulent", "order_change", "product_unsatisfactory", "other"]
# Invoices a credit note may correct: issued and not void.
CREDITABLE_INVOICE_STATUSES: tuple[InvoiceStatus, ...] = ("open", "paid", "uncollectible")


class CreditNoteLine(Model):
    """One credited line: part of an invoice line (by quantity or by net amount), or a free line."""

    id: str  # cnl_…
    invoice_line_id: str | None = Field(
        default=None, description="The invoice line credited; null for a free line."
    )
    description: Annotated[str, Field(min_length=1, max_length=500)]
    quantity: Quantity | None = Field(
        default=None, description="The quantity credited, when the line was credited by quantity."
    )
    unit_amount: int | None = Field(default=None, description="The invoice line's unit amount, by quantity.")
    tax_rate: Percentage
    amount: int = Field(description="Net of tax, in minor units.")
    tax_amount: int
    # As the invoice line credited has them (a free line: as given, or derived from its rate and the
    # customer's treatment); None only on lines issued before VAT categories.
    vat_category: VatCategory | None = Field(default=None, description="UNTDID 5305 VAT category.")
    exemption_reason: ExemptionReason | None = None
    unit_code: UnitCode = DEFAULT_UNIT_CODE


class CreditNote(Model):
    """An issued credit note: locked from the moment it is numbered."""

    id: str  # cn_…
    organisation_id: str
    invoice_id: str
    invoice_number: str = Field(description="The number of the invoice it corrects.")
    invoice_issue_date: date = Field(description="The issue date of the invoice it corrects.")
    customer_id: str
    number: str
    status: CreditNoteStatus = "issued"
    currency: CurrencyCode
    issue_date: date
    lines: list[CreditNoteLine]
    subtotal: int
    tax_total: int
    total: int
    tax_breakdown: list[TaxBreakdownLine]
    reason: CreditNoteReason
    memo: Memo | None = None
    pre_payment_amount: int = Field(description="What the credit note took off the invoice's amount due.")
    refund_amount: int = 0
    credit_amount: int = 0
    out_of_band_amount: int = 0
    customer_name: str | None = Field(default=None, description="The invoice's snapshot of the customer.")
    customer_locale: str | None = None
    recipients: list[str] = Field(default_factory=list)
    einvoice: EinvoiceStatus | None = Field(
        default=None, description="The e-invoice as last validated: at issue, or when first produced."
    )
    created_at: datetime
    voided_at: datetime | None = None
    version: int = 0


# --- the request --------------------------------------------------------------------------------


# A line of a credit note request is one of three shapes; the document says which. A field left out
# and a field given as null are the same to the API, so a shape requires its fields non-null and
# excludes the others only when they are non-null.
def _given(*names: str) -> JsonDict:
    return {"required": list(names), "properties": {name: {"not": {"type": "null"}} for name in names}}


def _shape(needed: tuple[str, ...], excluded: tuple[str, ...]) -> JsonDict:
    return {**_given(*needed), "not": {"anyOf": [_given(name) for name in excluded]}}


_FREE_LINE_ONLY = ("description", "tax_rate", "vat_category", "exemption_reason")
_LINE_SHAPES: JsonDict = {
    "oneOf": [
        _shape(("invoice_line_id", "quantity"), ("amount", *_FREE_LINE_ONLY)),
        _shape(("invoice_line_id", "amount"), ("quantity", *_FREE_LINE_ONLY)),
        _shape(("description", "amount", "tax_rate"), ("invoice_line_id", "quantity")),
    ]
}


class NewCreditNoteLine(Strict):
    """`{"invoice_line_id", "quantity"}`, `{"invoice_line_id", "amount"}` (net of tax) or a free line
    `{"description", "amount", "tax_rate"}`."""

    model_config = ConfigDict(json_schema_extra=_LINE_SHAPES)

    invoice_line_id: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    quantity: Quantity | None = None
    amount: PositiveMinorUnits | None = Field(default=None, description="Net of tax, in minor units.")
    description: LineDescription | None = None
    tax_rate: Percentage | None = None
    vat_category: VatCategory | None = Field(
        default=None,
        description="A free line's VAT category; derived from its rate and the customer when not given.",
    )
    exemption_reason: ExemptionReason | None = Field(
        default=None, description="A free line's reason for carrying no VAT (categories E, AE, K, G, O)."
    )
    unit_code: UnitCode | None = Field(default=None, description="A free line's unit code (default C62).")

    @model_validator(mode="after")
    def _one_shape(self) -> NewCreditNoteLine:
        if self.invoice_line_id is not None:
            if any(
                value is not None
                for value in (
                    self.description,
                    self.tax_rate,
                    self.vat_category,
                    self.exemption_reason,
                    self.unit_code,
                )
            ):
                raise ValueError(
                    "a line of the invoice takes its description, tax rate, VAT category, exemption "
                    "reason and unit code from it"
                )
            if (self.quantity is None) == (self.amount is None):
                raise ValueError("credit an invoice line by `quantity` or by `amount`, one of them")
        elif (
            self.description is None
            or self.amount is None
            or self.tax_rate is None
            or self.quantity is not None
        ):
            raise ValueError(
                "give `invoice_line_id` with `quantity` or `amount`, or a free line with "
                "`description`, `amount` and `tax_rate`"
            )
        return self


class NewCreditNote(Strict):
    """What a user asks to credit (`lines` or a single `amount`, one of them), and how the part above
    what is still due is settled."""

    model_config = ConfigDict(
        json_schema_extra={
            # `lines` or a single `amount`, exactly one of them.
            "oneOf": [_shape(("lines",), ("amount",)), _shape(("amount",), ("lines",))],
            "examples": [
                {
                    "lines": [{"invoice_line_id": "li_01jd3v9m2k8q4r6t8w0y2a4c6e", "quantity": "1"}],
                    "reason": "product_unsatisfactory",
                    "refund_amount": 2380,
                },
                {"amount": 1190, "reason": "order_change", "credit_amount": 1190},
            ],
        }
    )

    lines: Annotated[list[NewCreditNoteLine], Field(min_length=1, max_length=MAX_LINES)] | None = None
    amount: PositiveMinorUnits | None = Field(
        default=None,
        description=(
            "The credited total, tax included, spread over the invoice's tax rates (instead of `lines`)."
        ),
    )
    reason: CreditNoteReason = "other"
    memo: Memo | None = None
    refund_amount: NonNegativeMinorUnits = Field(
        default=0, description="Paid back on the invoice's payments (a card payment through the provider)."
    )
    credit_amount: NonNegativeMinorUnits = Field(default=0, description="To the customer's credit balance.")
    out_of_band_amount: NonNegativeMinorUnits = Field(default=0, description="Settled outside Remit.")

    @property
    def settled(self) -> int:
        return self.refund_amount + self.credit_amount + self.out_of_band_amount


# --- the rules ----------------------------------------------------------------------------------


class CreditExceedsInvoice(Conflict):
    """The credit notes of an invoice would add up to more than its total."""

    def __init__(self, total: int, available: int) -> None:
        super().__init__(
            f"The invoice can be credited {available} more; this credit note is {total}.",
            [FieldProblem("lines", f"at most {available} can still be credited")],
        )
        self.total, self.available = total, available


@dataclass(frozen=True)
class PricedCreditNote:
    """A credit note's lines and amounts, worked out from its invoice and the request."""

    lines: list[CreditNoteLine]
    subtotal: int
    tax_total: int
    total: int
    tax_breakdown: list[TaxBreakdownLine]
    pre_payment_amount: int
    refund_amount: int
    credit_amount: int
    out_of_band_amount: int


def _left(invoice: Invoice, line_id: str, taken: dict[str, CreditedLine]) -> tuple[Decimal, int]:
    """The quantity and net amount of the invoice's line not yet credited (earlier credit notes and
    the lines before in this request)."""
    line = next(line for line in invoice.line_items if line.id == line_id)
    before = invoice.credited_lines.get(line_id, CreditedLine())
    now = taken.get(line_id, CreditedLine())
    return (
        line.quantity - before.quantity - now.quantity,
        line.amount - before.amount - now.amount,
    )


def _invoice_line(
    invoice: Invoice,
    index: int,
    asked: NewCreditNoteLine,
    taken: dict[str, CreditedLine],
    new_line_id: Callable[[], str],
) -> CreditNoteLine:
    """The credited part of an invoice line, its tax still 0 (`_taxed` sets it)."""
    line_id = asked.invoice_line_id or ""
    line = next((line for line in invoice.line_items if line.id == line_id), None)
    if line is None:
        raise InvalidInput.single(f"lines[{index}].invoice_line_id", f"the invoice has no line '{line_id}'")
    quantity_left, amount_left = _left(invoice, line_id, taken)
    if asked.quantity is not None:
        if asked.quantity > quantity_left:
            raise InvalidInput.single(
                f"lines[{index}].quantity", f"at most {quantity_left} of this line can still be credited"
            )
        amount = (
            amount_left if asked.quantity == quantity_left else line_amount(line.unit_amount, asked.quantity)
        )
        field = f"lines[{index}].quantity"
    else:
        amount = asked.amount or 0
        field = f"lines[{index}].amount"
    if amount > amount_left:
        raise InvalidInput.single(field, f"at most {max(amount_left, 0)} of this line can still be credited")
    credited = taken.get(line_id, CreditedLine())
    taken[line_id] = CreditedLine(
        quantity=credited.quantity + (asked.quantity or Decimal(0)),
        amount=credited.amount + amount,
        tax_amount=credited.tax_amount,
    )
    return CreditNoteLine(
        id=new_line_id(),
        invoice_line_id=line_id,
        description=line.description,
        quantity=asked.quantity,
        unit_amount=line.unit_amount if asked.quantity is not None else None,
        tax_rate=line.tax_rate,
        amount=amount,
        tax_amount=0,
        vat_category=line.vat_category,
        exemption_reason=line.exemption_reason,
        unit_code=line.unit_code,
    )


def _credited_at(invoice: Invoice, key: str) -> tuple[int, int]:
    """The net and the tax the invoice's issued credit notes took at the rate `key`. An invoice
    credited before they were kept per rate: what its credited lines know."""
    if invoice.credited_taxes or invoice.credited_nets or not invoice.credited_lines:
        return invoice.credited_nets.get(key, 0), invoice.credited_taxes.get(key, 0)
    rates = {line.id: rate_key(line.tax_rate) for line in invoice.line_items}
    credits = [c for line_id, c in invoice.credited_lines.items() if rates.get(line_id) == key]
    return sum(c.amount for c in credits), sum(c.tax_amount for c in credits)


def _rate_tax(invoice: Invoice, tax_rate: Decimal, net: int) -> int:
    """The tax of a credit note's `net` at `tax_rate`: what rounding the net credited at that rate
    once grows by with it, `round_half_up((credited + net) * rate / 100) - tax credited`, so the
    invoice's credit notes at a rate always add up to one rounding of what they credited (and each
    is within one minor unit of its own rounding, strictly within one of `net * rate / 100`); never
    below 0, nor above the invoice's tax left at that rate."""
    key = rate_key(tax_rate)
    credited_net, credited_tax = _credited_at(invoice, key)
    tax = max(line_tax(credited_net + net, tax_rate) - credited_tax, 0)
    group = next((g for g in invoice.tax_breakdown if rate_key(g.tax_rate) == key), None)
    return tax if group is None else min(tax, max(group.tax_amount - credited_tax, 0))


def _fully_credited(invoice: Invoice, key: str, taken: dict[str, CreditedLine]) -> bool:
    """Whether every line of the invoice at the rate `key` is credited in full once this note is."""
    return all(
        invoice.credited_lines.get(line.id, CreditedLine()).amount + taken.get(line.id, CreditedLine()).amount
        == line.amount
        for line in invoice.line_items
        if rate_key(line.tax_rate) == key
    )


def _taxed(
    invoice: Invoice, lines: list[CreditNoteLine], taken: dict[str, CreditedLine]
) -> list[CreditNoteLine]:
    """The lines with their taxes: each rate's tax (`_rate_tax`, or exactly the invoice's tax left
    at that rate when the note takes the last of its lines at that rate) spread over its lines as on
    an invoice (largest remainder)."""
    groups: dict[str, list[int]] = {}
    for index, line in enumerate(lines):
        groups.setdefault(rate_key(line.tax_rate), []).append(index)
    taxes = [0] * len(lines)
    for key, members in groups.items():
        rate = lines[members[0]].tax_rate
        group_tax = _rate_tax(invoice, rate, sum(lines[i].amount for i in members))
        group = next((g for g in invoice.tax_breakdown if rate_key(g.tax_rate) == key), None)
        if group is not None and _fully_credited(invoice, key, taken):
            group_tax = max(group.tax_amount - _credited_at(invoice, key)[1], 0)
        shares = spread(group_tax, [exact_tax(lines[i].amount, rate) for i in members])
        # Out of `spread`'s reach (a rate's last credit, or a cap): what is missing goes to the
        # largest line, what is too much comes off the last lines, none below 0.
        rest = group_tax - sum(shares)
        if rest > 0:
            shares[max(range(len(members)), key=lambda m: (lines[members[m]].amount, -m))] += rest
        for m in reversed(range(len(members))):
            cut = min(max(-rest, 0), max(shares[m], 0))
            shares[m] -= cut
            rest += cut
        for index, share in zip(members, shares, strict=True):
            taxes[index] = share
    return [line.model_copy(update={"tax_amount": tax}) for line, tax in zip(lines, taxes, strict=True)]


def _treatment(invoice: Invoice) -> TaxTreatment:
    return invoice.customer_einvoice.tax_treatment if invoice.customer_einvoice else "standard"


def _rate_category(invoice: Invoice, rate: Decimal) -> VatCategory:
    """The category of the invoice's lines at `rate` (the first that names one), else derived."""
    for line in invoice.line_items:
        if line.tax_rate == rate and line.vat_category is not None:
            return line.vat_category
    return vat_category_for(rate, _treatment(invoice))


def _free_line(index: int, asked: NewCreditNoteLine, invoice: Invoice, line_id: str) -> CreditNoteLine:
    amount, rate = asked.amount or 0, asked.tax_rate or Decimal(0)
    category = asked.vat_category or vat_category_for(rate, _treatment(invoice))
    problems = []
    rate_problem = line_tax_problem(rate, category)
    if rate_problem:
        named = "vat_category" if asked.vat_category is not None else "tax_rate"
        problems.append(FieldProblem(f"lines[{index}].{named}", rate_problem))
    reason_problem = exemption_reason_problem(category, asked.exemption_reason)
    if reason_problem:
        problems.append(FieldProblem(f"lines[{index}].exemption_reason", reason_problem))
    if problems:
        raise InvalidInput(problems)
    return CreditNoteLine(
        id=line_id,
        description=asked.description or "",
        tax_rate=rate,
        amount=amount,
        tax_amount=0,
        vat_category=category,
        exemption_reason=asked.exemption_reason,
        unit_code=asked.unit_code or DEFAULT_UNIT_CODE,
    )


def spread_over_rates(amount: int, grosses: list[tuple[Decimal, int]]) -> list[tuple[Decimal, int]]:
    """`amount` split over tax rates in proportion to each rate's gross (`(rate, gross)` pairs, in
    order): each share rounded down, the minor units left given one each to the largest remainders
    (the earlier rate on a tie). The shares add up to `amount` exactly. Rates with no gross get none.
    """
    whole = sum(gross for _, gross in grosses if gross > 0)
    if whole <= 0:
        raise Conflict("The invoice has nothing to credit.")
    shares: list[int] = []
    remainders: list[int] = []
    for _, gross in grosses:
        share, remainder = divmod(amount * max(gross, 0), whole)
        shares.append(share)
        remainders.append(remainder)
    left = amount - sum(shares)
    for position in sorted(range(len(grosses)), key=lambda p: (-remainders[p], p))[:left]:
        shares[position] += 1
    return [(rate, share) for (rate, _), share in zip(grosses, shares, strict=True) if share > 0]


def split_gross(gross: int, tax_rate: Decimal, credited: tuple[int, int] = (0, 0)) -> tuple[int, int]:
    """An amount tax included, as its net and its tax, `net + tax == gross`: the net whose tax makes
    up the rest, when there is one, the tax being `round_half_up(net * rate / 100)`, or with
    `credited` (the net and tax credited at that rate before) what rounding the credited net once
    grows by (`_rate_tax`); there is at most one such net (a net one unit higher is taxed at least
    as much). Else the net rounded half up from `gross * 100 / (100 + rate)` and the rest as tax (a
    gross no net reaches, ¥115 at 10 %: 105 + 11 is 116, 104 + 10 is 114)."""
    credited_net, credited_tax = credited
    nearest = round_half_up(Decimal(gross) * 100 / (100 + tax_rate))
    for net in (nearest, nearest - 1, nearest + 1, nearest - 2, nearest + 2):
        if net + line_tax(credited_net + net, tax_rate) - credited_tax == gross:
            return net, gross - net
    return nearest, gross - nearest


def price_credit_note(
    invoice: Invoice, request: NewCreditNote, new_line_id: Callable[[], str]
) -> PricedCreditNote:
    """The credit note `request` asks for on `invoice`: its lines, totals and settlement.

    Raises `InvalidTransition` (409) unless the invoice is open, paid or uncollectible;
    `InvalidInput` (422) naming the field for an unknown line (`lines[2].invoice_line_id`), a line
    credited beyond what is left of it, or a settlement that does not add up (naming the three
    amounts and what they must add up to); `CreditExceedsInvoice` (409) when the invoice's credit
    notes would add up to more than its total.
    """
    if (request.lines is None) == (request.amount is None):
        raise InvalidInput.single(
            "lines" if request.lines is not None else "amount",
            "give `lines` or a single `amount`, one of them",
        )
    invoice.require_status(CREDITABLE_INVOICE_STATUSES, "credit")
    available = invoice.total - invoice.credited_amount
    lines: list[CreditNoteLine] = []
    if request.amount is not None:
        if request.amount > available:
            raise CreditExceedsInvoice(request.amount, max(available, 0))
        grosses = [
            (group.tax_rate, group.taxable_amount + group.tax_amount) for group in invoice.tax_breakdown
        ]
        group_taxes = {rate_key(group.tax_rate): group.tax_amount for group in invoice.tax_breakdown}
        for rate, share in spread_over_rates(request.amount, grosses):
            credited = _credited_at(invoice, rate_key(rate))
            net, tax = split_gross(share, rate, credited)
            rate_left = max(group_taxes[rate_key(rate)] - credited[1], 0)
            if tax > rate_left:  # the invoice's tax at this rate is (nearly) all credited already
                net, tax = share - rate_left, rate_left
            lines.append(
                CreditNoteLine(
                    id=new_line_id(),
                    description=f"Credit of invoice {invoice.number}",
                    tax_rate=rate,
                    amount=net,
                    tax_amount=tax,
                    vat_category=_rate_category(invoice, rate),
                )
            )
    else:
        taken: dict[str, CreditedLine] = {}
        for index, asked in enumerate(request.lines or []):
            if asked.invoice_line_id is not None:
                lines.append(_invoice_line(invoice, index, asked, taken, new_line_id))
            else:
                lines.append(_free_line(index, asked, invoice, new_line_id()))
        lines = _taxed(invoice, lines, taken)
    computed = totals((line.amount, line.tax_amount, line.tax_rate) for line in lines)
    if computed.total <= 0:
        raise InvalidInput.single("lines", "the credit note's total must be above 0")
    if computed.total > available:
        raise CreditExceedsInvoice(computed.total, max(available, 0))
    pre_payment = min(computed.total, max(invoice.amount_due, 0))
    rest = computed.total - pre_payment
    if request.settled != rest:
        message = (
            f"refund_amount + credit_amount + out_of_band_amount must add up to {rest} "
            f"(the total {computed.total} less the {pre_payment} still due), not {request.settled}"
        )
        raise InvalidInput(
            [
                FieldProblem(name, message)
                for name in ("refund_amount", "credit_amount", "out_of_band_amount")
            ],
            detail=message[0].upper() + message[1:] + ".",
        )
    return PricedCreditNote(
        lines=lines,
        subtotal=computed.subtotal,
        tax_total=computed.tax_total,
        total=computed.total,
        tax_breakdown=[
            TaxBreakdownLine(tax_rate=g.tax_rate, taxable_amount=g.taxable_amount, tax_amount=g.tax_amount)
            for g in computed.tax_breakdown
        ],
        pre_payment_amount=pre_payment,
        refund_amount=request.refund_amount,
        credit_amount=request.credit_amount,
        out_of_band_amount=request.out_of_band_amount,
    )


def _line_credits(note: CreditNote) -> dict[str, CreditedLine]:
    credits: dict[str, CreditedLine] = {}
    for line in note.lines:
        if line.invoice_line_id is None:
            continue
        before = credits.get(line.invoice_line_id, CreditedLine())
        credits[line.invoice_line_id] = CreditedLine(
            quantity=before.quantity + (line.quantity or Decimal(0)),
            amount=before.amount + line.amount,
            tax_amount=before.tax_amount + line.tax_amount,
        )
    return credits


def _rates_credited(invoice: Invoice, note: CreditNote, sign: int) -> dict[str, dict[str, int]]:
    """The invoice's `credited_nets` and `credited_taxes` with the note's net and tax at each rate
    added (`sign` 1) or taken back (-1)."""
    keys = {rate_key(line.tax_rate) for line in note.lines}
    keys |= set(invoice.credited_nets) | set(invoice.credited_taxes)
    keys |= {rate_key(line.tax_rate) for line in invoice.line_items if line.id in invoice.credited_lines}
    nets, taxes = {}, {}
    for key in keys:
        net, tax = _credited_at(invoice, key)
        nets[key] = net + sign * sum(line.amount for line in note.lines if rate_key(line.tax_rate) == key)
        taxes[key] = tax + sign * sum(
            line.tax_amount for line in note.lines if rate_key(line.tax_rate) == key
        )
    return {
        "credited_nets": {key: net for key, net in nets.items() if net != 0},
        "credited_taxes": {key: tax for key, tax in taxes.items() if tax != 0},
    }


def credited_invoice(invoice: Invoice, note: CreditNote, now: datetime) -> Invoice:
    """The invoice once `note` is issued: its amount due lowered by the note's `pre_payment_amount`,
    its credited total and lines raised, and `paid` when nothing is left due."""
    lines = dict(invoice.credited_lines)
    for line_id, credit in _line_credits(note).items():
        before = lines.get(line_id, CreditedLine())
        lines[line_id] = CreditedLine(
            quantity=before.quantity + credit.quantity,
            amount=before.amount + credit.amount,
            tax_amount=before.tax_amount + credit.tax_amount,
        )
    amount_due = invoice.amount_due - note.pre_payment_amount
    settled = invoice.status != "paid" and amount_due == 0
    return invoice.model_copy(
        update={
            "amount_due": amount_due,
            "credited_amount": invoice.credited_amount + note.total,
            "credited_before_payment": invoice.credited_before_payment + note.pre_payment_amount,
            "credited_lines": lines,
            **_rates_credited(invoice, note, 1),
            "status": "paid" if settled else invoice.status,
            "paid_at": now if settled else invoice.paid_at,
            "next_reminder_on": None if settled else invoice.next_reminder_on,
            "updated_at": now,
        }
    )


class CreditNoteNotVoidable(Conflict):
    """The credit note's effects cannot be undone."""


def voided_credit_note(
    note: CreditNote, invoice: Invoice, now: datetime, *, credit_held: int | None = None
) -> CreditNote:
    """`note` void. Raises `CreditNoteNotVoidable` (409) when it is void already, when its invoice is
    void, when money left Remit's books through it (a refund, paid or pending, or an amount settled
    out of band): those cannot be taken back; or when the customer holds less than the credit it
    gave (`credit_held`, their balance in its currency, when given): the credit was spent. The
    caller takes the credit back from the balance, conditioned on the balance as read."""
    if note.status == "void":
        raise CreditNoteNotVoidable(f"Credit note {note.number} is void already.")
    if invoice.status not in CREDITABLE_INVOICE_STATUSES:
        raise CreditNoteNotVoidable(
            f"Credit note {note.number} cannot be voided: its invoice {invoice.number} is {invoice.status}."
        )
    if note.refund_amount or note.out_of_band_amount:
        raise CreditNoteNotVoidable(
            f"Credit note {note.number} cannot be voided: {note.refund_amount + note.out_of_band_amount} "
            "of it was paid back to the customer (refunded or settled out of band)."
        )
    if credit_held is not None and note.credit_amount > credit_held:
        raise CreditNoteNotVoidable(
            f"Credit note {note.number} cannot be voided: the customer has spent the "
            f"{note.credit_amount} it credited to their balance."
        )
    return note.model_copy(update={"status": "void", "voided_at": now})


def uncredited_invoice(invoice: Invoice, note: CreditNote, now: datetime) -> Invoice:
    """The invoice once `note` is void: its amount due raised back by the note's `pre_payment_amount`,
    its credited total and lines lowered, and a `paid` invoice reopened when something is due again."""
    lines = dict(invoice.credited_lines)
    for line_id, credit in _line_credits(note).items():
        before = lines.get(line_id, CreditedLine())
        after = CreditedLine(
            quantity=before.quantity - credit.quantity,
            amount=before.amount - credit.amount,
            tax_amount=before.tax_amount - credit.tax_amount,
        )
        if after == CreditedLine():
            lines.pop(line_id, None)
        else:
            lines[line_id] = after
    amount_due = invoice.amount_due + note.pre_payment_amount
    reopened = invoice.status == "paid" and amount_due > 0
    return invoice.model_copy(
        update={
            "amount_due": amount_due,
            "credited_amount": invoice.credited_amount - note.total,
            "credited_before_payment": invoice.credited_before_payment - note.pre_payment_amount,
            "credited_lines": lines,
            **_rates_credited(invoice, note, -1),
            "status": "open" if reopened else invoice.status,
            "paid_at": None if reopened else invoice.paid_at,
            "updated_at": now,
        }
    )

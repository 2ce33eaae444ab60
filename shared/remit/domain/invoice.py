"""Invoices: exact totals, the state machine draft → open → paid | void | uncollectible, and the lock.

Every method returns a new invoice or raises `InvalidTransition` (a `Conflict`, answered `409`)
naming the status that forbids it; nothing here does I/O or reads the clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal, Protocol

from pydantic import ConfigDict, Field, ValidationInfo, field_validator
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema

from remit.domain.changes import nullable_as_in
from remit.domain.credit import Credit, credit_for
from remit.domain.customer import Customer
from remit.domain.einvoices import (
    DEFAULT_UNIT_CODE,
    UNTAXED_TREATMENTS,
    CustomerEinvoiceDetails,
    EinvoiceStatus,
    ExemptionReason,
    TaxedParty,
    UnitCode,
    VatCategory,
    default_tax_rate,
    exemption_reason_problem,
    line_tax_problem,
    vat_category_for,
)
from remit.domain.errors import Conflict, FieldProblem
from remit.domain.money import (
    MinorUnits,
    NonNegativeMinorUnits,
    Quantity,
    allocate_tax,
    line_amount,
    line_tax,
    totals,
)
from remit.domain.settlement import settle
from remit.domain.values import Address, CurrencyCode, Model, Percentage, Strict, text

InvoiceStatus = Literal["draft", "open", "paid", "void", "uncollectible"]
InvoiceSource = Literal["manual", "billing", "template", "subscription"]
MAX_LINES = 250
Memo = Annotated[str, Field(max_length=2000)]


class InvalidTransition(Conflict):
    """The invoice's status does not allow the action."""


_VAT_CATEGORY = (
    "UNTDID 5305 VAT category: S standard, Z zero rated, E exempt, AE reverse charge, K intra-community, "
    "G export, O not subject to VAT. Derived from the tax rate and the customer's `tax_treatment` when "
    "not given."
)
_EXEMPTION_REASON = "Why the line carries no VAT (categories E, AE, K, G, O only)."


class LineItem(Model):
    id: str
    description: Annotated[str, Field(min_length=1, max_length=500)]
    quantity: Quantity
    unit_amount: MinorUnits
    tax_rate: Percentage
    amount: int
    tax_amount: int
    charge_id: str | None = None
    # None only on lines made before VAT categories: their category is then derived as for a new line.
    vat_category: VatCategory | None = Field(default=None, description=_VAT_CATEGORY)
    exemption_reason: ExemptionReason | None = Field(default=None, description=_EXEMPTION_REASON)
    unit_code: UnitCode = DEFAULT_UNIT_CODE


def category_checked(category: VatCategory | None, info: ValidationInfo) -> VatCategory | None:
    """A line's given category against its given rate (a rate to come from the customer is checked
    when the line is made)."""
    tax_rate = info.data.get("tax_rate")
    if category is not None and tax_rate is not None:
        problem = line_tax_problem(tax_rate, category)
        if problem:
            raise ValueError(problem)
    return category


def exemption_checked(reason: str | None, info: ValidationInfo) -> str | None:
    """A line's exemption reason against its given category."""
    category = info.data.get("vat_category")
    if reason is not None and category is not None:
        problem = exemption_reason_problem(category, reason)
        if problem:
            raise ValueError(problem)
    return reason


LineDescription = Annotated[str, text(500)]

# A line of a PATCH is one of two shapes; the document says which (pydantic cannot, the fields being
# optional for the other shape).
_KEPT_OR_NEW: JsonDict = {
    "anyOf": [
        {"required": ["id"], "properties": {"id": {"type": "string"}}},
        {
            "required": ["description", "unit_amount"],
            "properties": {"description": {"type": "string"}, "unit_amount": {"type": "integer"}},
        },
    ]
}


class LineItemInput(Strict):
    """A line as given: new content, or `{"id": "li_…"}` alone to keep an existing line of a draft."""

    model_config = ConfigDict(json_schema_extra=_KEPT_OR_NEW)

    id: str | None = None
    description: LineDescription | None = None
    quantity: Quantity = Field(default=1)  # type: ignore[assignment]
    unit_amount: MinorUnits | None = None
    tax_rate: Percentage | None = Field(
        default=None,
        description="Defaults to the customer's tax rate (0 when its treatment carries no VAT).",
    )
    vat_category: VatCategory | None = Field(default=None, description=_VAT_CATEGORY)
    exemption_reason: ExemptionReason | None = Field(default=None, description=_EXEMPTION_REASON)
    unit_code: UnitCode = Field(default=DEFAULT_UNIT_CODE, description="UN/ECE Rec. 20 unit code (C62: one).")

    _check_category = field_validator("vat_category")(category_checked)
    _check_exemption = field_validator("exemption_reason")(exemption_checked)


class NewLineItem(LineItemInput):
    """A new line: its description and unit amount (a new invoice, a template, a subscription)."""

    model_config = ConfigDict(json_schema_extra=None)

    id: SkipJsonSchema[None] = Field(default=None, exclude=True)
    description: LineDescription
    unit_amount: MinorUnits


class TaxedLine(Protocol):
    """What the tax rules read of a line (or charge) as given."""

    @property
    def tax_rate(self) -> Decimal | None: ...

    @property
    def vat_category(self) -> VatCategory | None: ...

    @property
    def exemption_reason(self) -> str | None: ...


def line_tax_problems(
    field: str, given: TaxedLine, customer: TaxedParty
) -> tuple[Decimal, VatCategory, list[FieldProblem]]:
    """The rate and VAT category of a line (or charge) of `customer`, given or derived, and what is
    wrong with them, each problem naming `<field>.tax_rate`, `<field>.vat_category` or
    `<field>.exemption_reason`. A customer whose treatment carries no VAT (reverse charge, exempt,
    export) takes no taxed line."""
    tax_rate = default_tax_rate(customer) if given.tax_rate is None else given.tax_rate
    category = given.vat_category or vat_category_for(tax_rate, customer.tax_treatment)
    problems: list[FieldProblem] = []
    treatment = customer.tax_treatment
    if treatment in UNTAXED_TREATMENTS and tax_rate != 0:
        problems.append(
            FieldProblem(
                f"{field}.tax_rate",
                f"must be 0: the customer's tax_treatment is {treatment}, which carries no VAT",
            )
        )
    else:
        rate_problem = line_tax_problem(tax_rate, category)
        if rate_problem:
            category_given = given.vat_category is not None and given.tax_rate is None
            named = "vat_category" if category_given else "tax_rate"
            problems.append(FieldProblem(f"{field}.{named}", rate_problem))
    reason_problem = exemption_reason_problem(category, given.exemption_reason)
    if reason_problem:
        problems.append(FieldProblem(f"{field}.exemption_reason", reason_problem))
    return tax_rate, category, problems


class CreditedLine(Model):
    """What the invoice's issued credit notes took from one of its lines (see domain/credit_notes.py)."""

    quantity: Decimal = Decimal(0)
    amount: int = 0
    tax_amount: int = 0


def rate_key(tax_rate: Decimal) -> str:
    """A rate as plain text, the same for rates equal as numbers ("19" for 19.00, "5.5")."""
    return format(tax_rate.normalize(), "f")


class TaxBreakdownLine(Model):
    tax_rate: Percentage
    taxable_amount: int
    tax_amount: int


def priced_line(
    line_id: str,
    description: str,
    quantity: Quantity,
    unit_amount: int,
    tax_rate: Percentage,
    charge_id: str | None,
    *,
    vat_category: VatCategory | None = None,
    exemption_reason: str | None = None,
    unit_code: str = DEFAULT_UNIT_CODE,
) -> LineItem:
    """A line of a draft, its tax as if alone at its rate (`Invoice.with_lines` then allocates its
    rate's tax over the invoice's lines)."""
    amount = line_amount(unit_amount, quantity)
    return LineItem(
        id=line_id,
        description=description,
        quantity=quantity,
        unit_amount=unit_amount,
        tax_rate=tax_rate,
        amount=amount,
        tax_amount=line_tax(amount, tax_rate),
        charge_id=charge_id,
        vat_category=vat_category,
        exemption_reason=exemption_reason,
        unit_code=unit_code,
    )


class Invoice(Model):
    """An invoice: what the API shows of it, and the state the domain keeps beside (the terms of a
    draft, the numbering sequence, the hosted-page token, …). Amounts are in the currency's minor unit.
    """

    id: str
    organisation_id: str
    customer_id: str
    number: str | None = None
    status: InvoiceStatus = "draft"
    currency: CurrencyCode
    issue_date: date | None = None
    due_date: date
    line_items: list[LineItem] = Field(default_factory=list)
    subtotal: int = 0
    tax_total: int = 0
    total: int = 0
    tax_breakdown: list[TaxBreakdownLine] = Field(default_factory=list)
    credit_applied: NonNegativeMinorUnits = 0
    amount_paid: NonNegativeMinorUnits = 0
    amount_due: int = 0
    credited_amount: NonNegativeMinorUnits = Field(
        default=0, description="The total of the invoice's issued (not void) credit notes."
    )
    overdue: bool = False
    memo: Memo | None = None
    footer: Memo | None = None
    hosted_url: str | None = None
    source: InvoiceSource = "manual"
    subscription_id: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    delivery_date: date | None = Field(
        default=None, description="When the goods or services were delivered (BT-72); settable on drafts."
    )
    customer_name: str | None = Field(default=None, description="Snapshot taken at finalization.")
    customer_email: str | None = Field(default=None, description="Snapshot taken at finalization.")
    customer_address: Address | None = Field(default=None, description="Snapshot taken at finalization.")
    customer_tax_id: str | None = Field(default=None, description="Snapshot taken at finalization.")
    customer_locale: str | None = Field(
        default=None, description="The customer's `preferred_locale`, snapshot taken at finalization."
    )
    customer_einvoice: CustomerEinvoiceDetails | None = Field(
        default=None, description="The customer's e-invoice details, snapshot taken at finalization."
    )
    einvoice: EinvoiceStatus | None = Field(
        default=None, description="The e-invoice as last validated: at finalization, or when first produced."
    )
    finalized_at: datetime | None = None
    sent_at: datetime | None = None
    paid_at: datetime | None = None
    voided_at: datetime | None = None
    marked_uncollectible_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    # Net terms of a draft: the due date is issue date + this many days at finalization (None: fixed date).
    days_until_due: int | None = None
    # The organisation's time zone: whose "today" decides `overdue` and default payment dates.
    timezone: str = "UTC"
    # The customer as the draft last read it: finalization uses it (and checks the customer's version
    # is unchanged) instead of reading the customer again.
    draft_customer: Customer | None = None
    # The customer's billing recipients at finalization (receipts go to them).
    recipients: list[str] = Field(default_factory=list)
    sequence: int | None = None
    # While open: when the reminders run must next look at it (its next reminder step's date, or the
    # day after its due date until its `invoice.overdue` event is written).
    next_reminder_on: date | None = None
    # Whether its `invoice.overdue` event was written (once per invoice).
    overdue_announced: bool = False
    hosted_token: str | None = None
    # The organisation's logo when the invoice was finalized (its stored key; "" when it had none):
    # its documents keep showing that logo whatever the organisation uploads or removes later. None
    # on invoices finalized before logos were recorded: they show the organisation's current logo.
    logo_key: str | None = None
    # The client request that finalized it (a hash of its Idempotency-Key, see `finalize`), if any.
    finalized_by_request: str | None = None
    # Whether the organisation's overview counters include the invoice as stored (see
    # domain/overview.py): every write since they exist sets it; an invoice stored before them has
    # it False until the backfill, or its next write, counts it.
    in_overview: bool = False
    # What its issued credit notes took off the amount due (the rest of their totals was refunded,
    # credited or settled elsewhere): `total = credit_applied + amount_paid + credited_before_payment
    # + amount_due` always holds.
    credited_before_payment: int = 0
    # What its issued credit notes took from each line, by line id: read with the invoice (one
    # strongly consistent read), so no line is credited twice under concurrency.
    credited_lines: dict[str, CreditedLine] = Field(default_factory=dict)
    # The net and the tax its issued credit notes took at each rate (by `rate_key`: "19", "5.5"),
    # lines and single amounts alike: a credit note's tax at a rate is what rounding the net credited
    # so far once adds (see domain/credit_notes.py), never more than the invoice has left.
    credited_nets: dict[str, int] = Field(default_factory=dict)
    credited_taxes: dict[str, int] = Field(default_factory=dict)
    version: int = 0

    # --- amounts -------------------------------------------------------------------------

    def with_lines(self, lines: list[LineItem]) -> Invoice:
        """The draft with these lines and its totals recomputed: each rate's tax rounded once and
        allocated to its lines (`allocate_tax`), whatever tax the lines came with."""
        self.require_status("draft", "edit")
        taxes = allocate_tax([(line.amount, line.tax_rate) for line in lines])
        lines = [
            line if line.tax_amount == tax else line.model_copy(update={"tax_amount": tax})
            for line, tax in zip(lines, taxes, strict=True)
        ]
        computed = totals((line.amount, line.tax_amount, line.tax_rate) for line in lines)
        breakdown = [
            TaxBreakdownLine(
                tax_rate=group.tax_rate, taxable_amount=group.taxable_amount, tax_amount=group.tax_amount
            )
            for group in computed.tax_breakdown
        ]
        return self.model_copy(
            update={
                "line_items": lines,
                "subtotal": computed.subtotal,
                "tax_total": computed.tax_total,
                "total": computed.total,
                "tax_breakdown": breakdown,
                "amount_due": computed.total - self.credit_applied - self.amount_paid,
            }
        )

    @property
    def charge_ids(self) -> set[str]:
        return {line.charge_id for line in self.line_items if line.charge_id}

    # --- the state machine ---------------------------------------------------------------

    def require_status(self, allowed: InvoiceStatus | tuple[InvoiceStatus, ...], action: str) -> None:
        permitted = (allowed,) if isinstance(allowed, str) else allowed
        if self.status not in permitted:
            names = " or ".join(permitted)
            raise InvalidTransition(
                f"Cannot {action} invoice {self.number or self.id}: it is {self.status}, "
                f"and only {names} invoices can be {_past(action)}."
            )

    def finalize(
        self,
        *,
        number: str,
        sequence: int,
        issue_date: date,
        hosted_token: str,
        hosted_url: str,
        customer_name: str,
        customer_email: str,
        customer_address: Address | None,
        customer_tax_id: str | None,
        customer_locale: str | None = None,
        customer_einvoice: CustomerEinvoiceDetails | None = None,
        recipients: list[str],
        credit_balances: Mapping[str, int],
        now: datetime,
        logo_key: str | None = None,
    ) -> Invoice:
        """The invoice numbered, dated, snapshotted (customer and logo) and locked, with the customer's
        credit in the invoice's currency applied (`credit_balances` by currency; no other currency's
        is touched).

        It is `paid` at once when credit covers it. Raises `InvalidTransition` unless a draft,
        `Conflict` if it has no lines, a negative total or a due date before the issue date.
        """
        self.require_status("draft", "finalize")
        if not self.line_items:
            raise Conflict("Cannot finalize an invoice without line items.")
        if self.total < 0:
            raise Conflict("Cannot finalize an invoice whose total is negative.")
        due_date = self.due_date
        if self.days_until_due is not None:
            due_date = date.fromordinal(issue_date.toordinal() + self.days_until_due)
        if due_date < issue_date:
            raise Conflict(f"The due date {due_date} is before the issue date {issue_date}; change it first.")
        credit = credit_for(credit_balances, self.currency, self.total)
        amount_due = self.total - credit
        return self.model_copy(
            update={
                "number": number,
                "sequence": sequence,
                "status": "paid" if amount_due == 0 else "open",
                "issue_date": issue_date,
                "due_date": due_date,
                "hosted_token": hosted_token,
                "hosted_url": hosted_url,
                "customer_name": customer_name,
                "customer_email": customer_email,
                "customer_address": customer_address,
                "customer_tax_id": customer_tax_id,
                "customer_locale": customer_locale,
                "customer_einvoice": customer_einvoice,
                "logo_key": logo_key or "",
                "recipients": recipients,
                "credit_applied": credit,
                "amount_due": amount_due,
                "finalized_at": now,
                "draft_customer": None,
                "paid_at": now if amount_due == 0 else None,
                "updated_at": now,
            }
        )

    @property
    def credit_taken(self) -> Credit:
        """What finalization took from the customer's credit balance: of the invoice's currency."""
        return Credit(self.currency, -self.credit_applied)

    def record_payment(self, amount: int, now: datetime) -> tuple[Invoice, Credit]:
        """The invoice with `amount` paid, and the excess beyond what was due: credit in the invoice's
        currency (the payment's).
        """
        self.require_status("open", "record a payment on")
        settlement = settle(self.amount_due, amount, self.currency)
        applied = settlement.applied
        amount_due = self.amount_due - applied
        paid = self.model_copy(
            update={
                "amount_paid": self.amount_paid + applied,
                "amount_due": amount_due,
                "status": "paid" if amount_due == 0 else "open",
                "paid_at": now if amount_due == 0 else None,
                "updated_at": now,
            }
        )
        return paid, settlement.excess

    def refund(self, amount: int, now: datetime) -> Invoice:
        """The invoice with `amount` of what was paid reopened: less paid, more due, `paid` → `open`.

        Raises `InvalidTransition` for drafts and void invoices (whose payments already went back to
        the credit balance), `Conflict` for more than was paid or a non-positive amount.
        """
        self.require_status(("open", "paid", "uncollectible"), "refund a payment of")
        if amount <= 0 or amount > self.amount_paid:
            raise Conflict(
                f"Cannot refund {amount}: between 1 and {self.amount_paid} was paid on the invoice."
            )
        reopened = self.status == "paid"
        return self.model_copy(
            update={
                "amount_paid": self.amount_paid - amount,
                "amount_due": self.amount_due + amount,
                "status": "open" if reopened else self.status,
                "paid_at": None if reopened else self.paid_at,
                "updated_at": now,
            }
        )

    def void(self, now: datetime) -> tuple[Invoice, Credit]:
        """The voided invoice, and what returns to the customer's credit balance: what was paid on it
        and the credit it took, in the invoice's currency.
        """
        self.require_status(("open", "uncollectible"), "void")
        returned = Credit(self.currency, self.amount_paid + self.credit_applied)
        return self.model_copy(update={"status": "void", "voided_at": now, "updated_at": now}), returned

    def mark_uncollectible(self, now: datetime) -> Invoice:
        self.require_status("open", "mark uncollectible")
        return self.model_copy(
            update={"status": "uncollectible", "marked_uncollectible_at": now, "updated_at": now}
        )

    def logo_shown(self, current_logo_key: str | None) -> str | None:
        """The stored key of the logo the invoice's documents show (None: no logo): the one recorded at
        finalization, or for an invoice finalized before logos were recorded, the organisation's current one.
        """
        if self.logo_key is None:
            return current_logo_key
        return self.logo_key or None

    def is_overdue(self, today: date) -> bool:
        return self.status == "open" and self.due_date < today

    def as_seen_on(self, today: date) -> Invoice:
        """The invoice with `overdue` as of `today` (in the organisation's time zone)."""
        return self.model_copy(update={"overdue": self.is_overdue(today)})


def _past(action: str) -> str:
    return {
        "edit": "edited",
        "delete": "deleted",
        "finalize": "finalized",
        "void": "voided",
        "mark uncollectible": "marked uncollectible",
        "record a payment on": "paid",
        "refund a payment of": "refunded",
        "credit": "credited",
        "send": "sent",
    }.get(action, action)


class InvoiceEvent(Model):
    """One entry of an invoice's timeline."""

    id: str
    invoice_id: str
    type: str
    created_at: datetime
    data: dict[str, str | int | None] = Field(default_factory=dict)


class NewInvoice(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customer_id": "cus_01jd3v9m2k8q4r6t8w0y2a4c6e",
                    "line_items": [
                        {"description": "Consulting, November", "quantity": "12.5", "unit_amount": 15000}
                    ],
                    "days_until_due": 14,
                    "memo": "Thank you for your business.",
                }
            ]
        }
    )

    customer_id: str
    line_items: Annotated[list[NewLineItem], Field(max_length=MAX_LINES)] = Field(default_factory=list)
    charge_ids: Annotated[list[str], Field(max_length=MAX_LINES, json_schema_extra={"uniqueItems": True})] = (
        Field(default_factory=list)
    )
    include_open_charges: bool = False
    due_date: date | None = None
    days_until_due: Annotated[int, Field(ge=0, le=365)] | None = None
    currency: CurrencyCode | None = None
    delivery_date: date | None = Field(default=None, description="When the goods or services were delivered.")
    memo: Memo | None = None
    footer: Memo | None = None


class InvoiceChanges(Strict):
    model_config = ConfigDict(json_schema_extra=nullable_as_in(Invoice))

    line_items: Annotated[list[LineItemInput], Field(max_length=MAX_LINES)] | None = None
    due_date: date | None = None
    days_until_due: Annotated[int, Field(ge=0, le=365)] | None = None
    delivery_date: date | None = Field(default=None, description="`null` removes it.")
    memo: Memo | None = None
    footer: Memo | None = None

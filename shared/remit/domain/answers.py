"""The API's answers: each resource as the API documents it, built from the domain's entity.

An answer holds the documented fields and nothing else. What an entity keeps for storage or for the
domain (its version, an invoice's hosted-page token or numbering sequence, a customer's saved card,
an organisation's account) is simply not a field here, so it can neither reach a client nor the
OpenAPI document; renaming an answer's field changes the API, never the stored items
(`remit.adapters.items`). Each class keeps its resource's name: the document's component names
are the API's.

Charges, credit-balance entries and timeline entries are answered by their domain models, which
hold nothing beyond what the API shows.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Self, cast

from pydantic import BaseModel, Field, computed_field

from remit.domain.billing_period import PeriodUnit
from remit.domain.billing_run import BillingRunError, BillingRunKind, BillingRunStatus
from remit.domain.billing_template import TemplateLines
from remit.domain.credit import CreditBalances, balance_in
from remit.domain.credit_notes import CreditNoteLine, CreditNoteReason, CreditNoteStatus
from remit.domain.customer import (
    BillingCycle,
    BuyerReference,
    Contact,
    ExternalIds,
    InvoicingFlow,
    Metadata,
    PersonName,
)
from remit.domain.einvoices import (
    CustomerEinvoiceDetails,
    EinvoiceFormat,
    EinvoiceStatus,
    ElectronicAddress,
    LegalIdentity,
    TaxTreatment,
)
from remit.domain.import_mapping import Preset
from remit.domain.imports import MAX_REPORTED_PROBLEMS, ImportKind, ImportProblem, ImportStatus
from remit.domain.invoice import InvoiceSource, InvoiceStatus, LineItem, Memo, TaxBreakdownLine
from remit.domain.money import NonNegativeMinorUnits
from remit.domain.organisation import (
    Branding,
    CreditNoteNumbering,
    InvoiceNumbering,
    Notifications,
    PaymentMethods,
    PaymentTermsDays,
    PortalSettings,
    Reminders,
)
from remit.domain.organisation import Organisation as DomainOrganisation
from remit.domain.payment import PaymentMethod, PaymentStatus
from remit.domain.subscription import (
    Collection,
    DaysUntilDue,
    PeriodCount,
    SubscriptionLine,
    SubscriptionStatus,
    TrialPeriods,
)
from remit.domain.values import (
    Address,
    CountryCode,
    CurrencyCode,
    EmailAddress,
    LocaleTag,
    Model,
    Percentage,
    ShortText,
    TimezoneName,
)
from remit.domain.webhooks import EndpointStatus


class Answer(Model):
    """A resource as the API shows it, built from its entity by `of`."""

    @classmethod
    def of(cls, entity: BaseModel) -> Self:
        """The answer's fields taken from the entity's of the same name (the entity was validated)."""
        return cast(Self, cls.model_construct(**{name: getattr(entity, name) for name in cls.model_fields}))


class Organisation(Answer):
    """An organisation as the API shows it."""

    id: str
    name: ShortText
    email: EmailAddress | None = None
    default_currency: CurrencyCode
    timezone: TimezoneName = "UTC"
    locale: LocaleTag = Field(
        default="en",
        description="Language and formats of its documents, unless a customer prefers another.",
    )
    address: Address | None = None
    tax_id: str | None = None
    legal: LegalIdentity | None = Field(
        default=None, description="The organisation as tax authorities and e-invoice networks know it."
    )
    branding: Branding = Field(default_factory=Branding)
    invoice_numbering: InvoiceNumbering
    credit_note_numbering: CreditNoteNumbering = Field(default_factory=CreditNoteNumbering)
    payment_terms_days: PaymentTermsDays = 30
    payment_methods: PaymentMethods = Field(default_factory=PaymentMethods)
    reminders: Reminders = Field(default_factory=Reminders)
    notifications: Notifications = Field(default_factory=Notifications)
    portal: PortalSettings = Field(default_factory=PortalSettings)
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, entity: BaseModel) -> Self:
        answer = super().of(entity)
        # As set, or (an organisation made before credit notes) made from the invoice prefix.
        answer.credit_note_numbering = cast(DomainOrganisation, entity).credit_notes
        return answer


class Customer(Answer):
    """A customer as the API shows it."""

    id: str
    organisation_id: str
    name: ShortText
    email: EmailAddress
    first_name: PersonName | None = None
    last_name: PersonName | None = None
    country: CountryCode | None = None
    currency: CurrencyCode
    preferred_locale: LocaleTag | None = Field(
        default=None,
        description="Language and formats of this customer's documents (else the organisation's).",
    )
    address: Address | None = None
    tax_rate: Percentage = Decimal("0.00")
    tax_id: str | None = None
    vat_id: str | None = Field(
        default=None, description="The customer's VAT identifier (BT-48), with its country prefix."
    )
    tax_treatment: TaxTreatment = Field(
        default="standard",
        description="`reverse_charge`, `exempt` or `export`: its lines default to a 0 rate; `standard`.",
    )
    electronic_address: ElectronicAddress | None = None
    buyer_reference: BuyerReference | None = Field(
        default=None, description="The buyer's reference for its invoices (BT-10), e.g. the Leitweg-ID."
    )
    einvoice_format: EinvoiceFormat | None = Field(
        default=None, description="The e-invoice its invoices and credit notes are issued in; null: none."
    )
    external_ids: ExternalIds = Field(default_factory=list)
    invoicing_flow: InvoicingFlow = "automatic"
    payment_terms_days: Annotated[int, Field(ge=0, le=365)]
    auto_pay: bool = False
    send_reminders: bool = True
    billing_cycle: BillingCycle | None = None
    contacts: Annotated[list[Contact], Field(max_length=50)] = Field(default_factory=list)
    balances: CreditBalances = Field(default_factory=dict)
    metadata: Metadata = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime

    @computed_field(  # type: ignore[prop-decorator]
        description=(
            "Credit balance in the customer's `currency`, in minor units (read-only): "
            "`balances[currency]`, or 0."
        )
    )
    @property
    def balance(self) -> int:
        return balance_in(self.balances, self.currency)


class Invoice(Answer):
    """An invoice as the API shows it. Amounts are in the currency's minor unit."""

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
        default=None, description="When the goods or services were delivered (BT-72)."
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
        default=None,
        description="The e-invoice as validated at finalization (for a customer with an "
        "`einvoice_format`, else null): format, valid, when, and each failed rule.",
    )
    finalized_at: datetime | None = None
    sent_at: datetime | None = None
    paid_at: datetime | None = None
    voided_at: datetime | None = None
    marked_uncollectible_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class Payment(Answer):
    """A payment as the API shows it. Amounts are in the currency's minor unit."""

    id: str
    invoice_id: str
    customer_id: str
    amount: int
    currency: CurrencyCode
    method: PaymentMethod
    status: PaymentStatus = "succeeded"
    amount_refunded: int = Field(
        default=0,
        description="What refunds took or are taking back from this payment (pending and succeeded).",
    )
    reference: str | None = None
    provider_payment_id: str | None = None
    received_on: date
    created_at: datetime


class CreditNote(Answer):
    """A credit note as the API shows it: locked from the moment it is issued (and numbered)."""

    id: str
    organisation_id: str
    invoice_id: str
    invoice_number: str = Field(description="The number of the invoice it corrects.")
    invoice_issue_date: date = Field(description="The issue date of the invoice it corrects.")
    customer_id: str
    number: str
    status: CreditNoteStatus
    currency: CurrencyCode
    issue_date: date = Field(description="The organisation's date when it was issued.")
    lines: list[CreditNoteLine]
    subtotal: int
    tax_total: int
    total: int
    tax_breakdown: list[TaxBreakdownLine]
    reason: CreditNoteReason
    memo: Memo | None = None
    pre_payment_amount: int = Field(description="What it took off the invoice's amount due.")
    refund_amount: int
    credit_amount: int
    out_of_band_amount: int
    einvoice: EinvoiceStatus | None = Field(
        default=None,
        description="The e-invoice as validated at issue (for a customer with an `einvoice_format`, "
        "else null).",
    )
    created_at: datetime
    voided_at: datetime | None = None


class CreditNotePreview(Answer):
    """The credit note a request would issue, and the invoice's amounts after it: nothing stored."""

    invoice_id: str
    customer_id: str
    currency: CurrencyCode
    issue_date: date
    lines: list[CreditNoteLine]
    subtotal: int
    tax_total: int
    total: int
    tax_breakdown: list[TaxBreakdownLine]
    reason: CreditNoteReason
    memo: Memo | None = None
    pre_payment_amount: int
    refund_amount: int
    credit_amount: int
    out_of_band_amount: int
    invoice_amount_due: int = Field(description="The invoice's amount due once it is issued.")
    invoice_credited_amount: int = Field(description="The invoice's credited total once it is issued.")


class Subscription(Answer):
    """A subscription as the API shows it; `current_period_*` are as of the organisation's today."""

    id: str
    organisation_id: str
    customer_id: str
    status: SubscriptionStatus = "draft"
    template_id: str | None = None
    line_items: list[SubscriptionLine] | None = None
    currency: CurrencyCode
    period: PeriodCount = 1
    period_units: PeriodUnit = "months"
    start_date: date
    end_date: date | None = None
    charge_period_end: bool = False
    trial_periods: TrialPeriods = 0
    days_until_due: DaysUntilDue | None = None
    include_open_charges: bool = True
    collection: Collection = "send_invoice"
    memo: Memo | None = None
    current_period_start: date | None = None
    current_period_end: date | None = None
    next_billing_date: date | None = None
    cancel_at: date | None = Field(
        default=None, description="The day a cancellation at period end takes effect."
    )
    invoices_issued: int = 0
    activated_at: datetime | None = None
    paused_at: datetime | None = None
    cancelled_at: datetime | None = None
    ended_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class BillingRun(Answer):
    id: str
    organisation_id: str
    kind: BillingRunKind
    customer_count: int = Field(
        description="Items of the run: customers, or subscriptions and monthly-billed customers."
    )
    invoices_created: int = 0
    invoice_ids: list[str] = Field(default_factory=list)
    errors: list[BillingRunError] = Field(default_factory=list)
    skipped: int = Field(default=0, description="Items that needed no invoice when processed.")
    processed: int = 0
    run_date: date | None = Field(default=None, description="The day the invoicing cycle ran for.")
    created_at: datetime
    completed_at: datetime | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> BillingRunStatus:
        if self.processed >= self.customer_count:
            return "completed_with_errors" if self.errors else "completed"
        return "running" if self.processed else "pending"


class Import(Answer):
    """A customer import: what it was asked to do, how far it got, and its report."""

    id: str
    organisation_id: str
    kind: ImportKind
    status: ImportStatus
    dry_run: bool = Field(description="A dry run validates and counts every row and writes no customer.")
    preset: Preset | None = None
    rows: int = Field(description="Customer rows in the file (blank rows aside).")
    created: int = Field(description="Customers created (in a dry run: that would be).")
    updated: int = Field(description="Customers updated (in a dry run: that would be).")
    unchanged: int = Field(description="Rows matching a customer that holds their values already.")
    failed: int = Field(description="Rows not imported, each with its problems in `errors`.")
    errors: list[ImportProblem] = Field(
        description=f"The failed rows' problems, in row order (the first {MAX_REPORTED_PROBLEMS})."
    )
    mapping: dict[str, str] = Field(description="Column → customer field, as used.")
    suggested_mapping: dict[str, str] = Field(
        description="Column → customer field, suggested from the header."
    )
    columns: list[str] = Field(description="The file's columns, in order (none for JSON rows).")
    failure: str | None = Field(default=None, description="Why a `failed` import stopped.")
    created_at: datetime
    completed_at: datetime | None = None


class BillingTemplate(Answer):
    id: str
    name: ShortText
    currency: CurrencyCode
    line_items: TemplateLines
    days_until_due: DaysUntilDue | None = None
    memo: Memo | None = None
    created_at: datetime
    updated_at: datetime


class WebhookEndpoint(Answer):
    """A webhook endpoint as the API shows it: never its signing secrets."""

    id: str
    url: str
    description: str | None = None
    enabled_events: list[str]
    status: EndpointStatus = Field(
        description="`failing` once deliveries have failed for about 3 days; enabling it again clears that."
    )
    failing_since: datetime | None = None
    created_at: datetime
    updated_at: datetime


class WebhookEndpointWithSecret(WebhookEndpoint):
    """An endpoint just created, or whose secret was just rotated: the only answers with its secret."""

    secret: str = Field(
        description="Signs every delivery from now on (`whsec_…`); shown this once, keep it safe."
    )


class SavedCard(Answer):
    """A card the customer saved for future payments, as the API shows it (never the provider's ids)."""

    id: str = Field(description="The card's id in Remit (`card_…`).")
    brand: str = Field(description="The card network, as the provider names it (`visa`, `mastercard`…).")
    last4: str | None = Field(default=None, description="The card number's last four digits.")
    exp_month: int | None = None
    exp_year: int | None = None
    default: bool = Field(description="The card auto-pay and “Attempt card” charge; one per customer.")
    created_at: datetime | None = None

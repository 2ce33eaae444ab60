"""Charges: billable items recorded against a customer, waiting to be invoiced."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, field_validator

from remit.domain.einvoices import DEFAULT_UNIT_CODE, ExemptionReason, UnitCode, VatCategory
from remit.domain.invoice import category_checked, exemption_checked
from remit.domain.money import MinorUnits, Quantity
from remit.domain.values import CurrencyCode, Model, Percentage, Strict, text

ChargeStatus = Literal["open", "invoiced"]
Description = Annotated[str, text(500)]


class Charge(Model):
    id: str
    customer_id: str
    description: Description
    quantity: Quantity
    unit_amount: MinorUnits
    tax_rate: Percentage
    currency: CurrencyCode
    status: ChargeStatus = "open"
    invoice_id: str | None = None
    created_at: datetime
    # None: derived from the rate and the customer's treatment when the charge becomes a line.
    vat_category: VatCategory | None = None
    exemption_reason: ExemptionReason | None = None
    unit_code: UnitCode = DEFAULT_UNIT_CODE


class NewCharge(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"description": "Extra storage", "quantity": "3", "unit_amount": 500}]
        }
    )

    description: Description
    quantity: Quantity = Field(default=1)  # type: ignore[assignment]
    unit_amount: MinorUnits
    tax_rate: Percentage | None = Field(
        default=None,
        description="Defaults to the customer's tax rate (0 when its treatment carries no VAT).",
    )
    vat_category: VatCategory | None = Field(
        default=None,
        description="UNTDID 5305 VAT category; derived from the rate and the customer when not given.",
    )
    exemption_reason: ExemptionReason | None = Field(
        default=None, description="Why it carries no VAT (categories E, AE, K, G, O only)."
    )
    unit_code: UnitCode = Field(default=DEFAULT_UNIT_CODE, description="UN/ECE Rec. 20 unit code (C62: one).")

    _check_category = field_validator("vat_category")(category_checked)
    _check_exemption = field_validator("exemption_reason")(exemption_checked)

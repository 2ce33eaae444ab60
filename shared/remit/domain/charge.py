"""Charges: billable items recorded against a customer, waiting to be invoiced."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

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


class NewCharge(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"description": "Extra storage", "quantity": "3", "unit_amount": 500}]
        }
    )

    description: Description
    quantity: Quantity = Field(default=1)  # type: ignore[assignment]
    unit_amount: MinorUnits
    tax_rate: Percentage | None = Field(default=None, description="Defaults to the customer's tax rate.")

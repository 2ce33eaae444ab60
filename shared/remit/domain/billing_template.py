"""Billing templates: reusable invoice contents, sent to one customer at a time."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import ConfigDict, Field

from remit.domain.changes import nullable_as_in
from remit.domain.invoice import MAX_LINES, Memo, NewLineItem
from remit.domain.values import CurrencyCode, Model, ShortText, Strict

DaysUntilDue = Annotated[int, Field(ge=0, le=365)]
TemplateLines = Annotated[list[NewLineItem], Field(min_length=1, max_length=MAX_LINES)]


class BillingTemplate(Model):
    id: str
    name: ShortText
    currency: CurrencyCode
    line_items: TemplateLines
    days_until_due: DaysUntilDue | None = None
    memo: Memo | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 0


class NewBillingTemplate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Monthly support",
                    "currency": "EUR",
                    "line_items": [{"description": "Support", "unit_amount": 9900}],
                    "days_until_due": 14,
                }
            ]
        }
    )

    name: ShortText
    currency: CurrencyCode
    line_items: TemplateLines
    days_until_due: DaysUntilDue | None = Field(default=None, description="Default: the customer's terms.")
    memo: Memo | None = None


class BillingTemplateChanges(Strict):
    model_config = ConfigDict(json_schema_extra=nullable_as_in(BillingTemplate))

    name: ShortText | None = None
    currency: CurrencyCode | None = None
    line_items: TemplateLines | None = None
    days_until_due: DaysUntilDue | None = None
    memo: Memo | None = None


class TemplateInvoiceRequest(Strict):
    customer_id: str


class BulkBillingRequest(Strict):
    """One-time invoices to several customers: validated whole before anything is created."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customer_ids": ["cus_01jd3v9m2k8q4r6t8w0y2a4c6e"],
                    "currency": "EUR",
                    "line_items": [{"description": "Annual membership", "unit_amount": 12000}],
                    "send": True,
                }
            ]
        }
    )

    customer_ids: Annotated[
        list[str], Field(min_length=1, max_length=500, json_schema_extra={"uniqueItems": True})
    ]
    line_items: TemplateLines
    currency: CurrencyCode
    days_until_due: DaysUntilDue | None = None
    due_date: date | None = None
    memo: Memo | None = None
    send: bool = False

"""Payments recorded against invoices, and the customer's credit-balance ledger."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from remit.domain.money import MinorUnits, PositiveMinorUnits
from remit.domain.values import CurrencyCode, Model, Strict

PaymentMethod = Literal["card", "bank_transfer", "cheque", "cash", "other"]
OfflineMethod = Literal["bank_transfer", "cheque", "cash", "other"]
PaymentStatus = Literal["succeeded", "failed", "refunded"]
BalanceTransactionType = Literal["adjustment", "applied_to_invoice", "overpayment", "invoice_voided"]


class Payment(Model):
    id: str
    invoice_id: str
    customer_id: str
    amount: int
    currency: CurrencyCode
    method: PaymentMethod
    status: PaymentStatus = "succeeded"
    reference: str | None = None
    provider_payment_id: str | None = None
    received_on: date
    created_at: datetime


class NewOfflinePayment(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "amount": 15000,
                    "method": "bank_transfer",
                    "reference": "SEPA 2026-12-01",
                    "received_on": "2026-12-01",
                }
            ]
        }
    )

    amount: PositiveMinorUnits
    method: OfflineMethod
    reference: Annotated[str, Field(max_length=200)] | None = None
    received_on: date | None = Field(
        default=None, description="Defaults to today in the organisation's zone."
    )


class BalanceTransaction(Model):
    """One change of a customer's credit balance; the ledger's amounts sum to the balance."""

    id: str
    customer_id: str
    type: BalanceTransactionType
    amount: int
    currency: CurrencyCode
    description: str | None = None
    invoice_id: str | None = None
    ending_balance: int
    created_at: datetime


class NewBalanceTransaction(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"amount": 5000, "description": "Prepayment"}]})

    amount: Annotated[
        MinorUnits,
        Field(
            description="Positive adds credit, negative removes it (never 0).",
            json_schema_extra={"not": {"const": 0}},
        ),
    ]
    description: Annotated[str, Field(max_length=500)] | None = None

"""Payments recorded against invoices, and the customer's credit-balance ledger."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from remit.domain.money import MinorUnits, PositiveMinorUnits
from remit.domain.values import CurrencyCode, Model, Strict

PaymentMethod = Literal["card", "bank_transfer", "cheque", "cash", "other"]
OfflineMethod = Literal["bank_transfer", "cheque", "cash", "other"]
PaymentStatus = Literal["succeeded", "failed", "partially_refunded", "refunded"]
BalanceTransactionType = Literal[
    "adjustment",
    "applied_to_invoice",
    "overpayment",
    "invoice_voided",
    "credit_note",
    "credit_note_voided",
    "refund_failed",
]


class Payment(Model):
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
    # How many times the stored payment changed since it was recorded (its events' sequence - 1).
    version: int = 0


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
    """One change of a customer's credit balance in one currency: each currency's entries sum to
    that currency's balance.
    """

    id: str
    customer_id: str
    type: BalanceTransactionType
    amount: int
    currency: CurrencyCode = Field(description="ISO 4217: the balance this entry changes.")
    description: str | None = None
    invoice_id: str | None = None
    ending_balance: int = Field(description="The balance in `currency` after this entry.")
    created_at: datetime


class NewBalanceTransaction(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"amount": 5000, "description": "Prepayment"},
                {"amount": 2000, "currency": "USD", "description": "Prepayment in dollars"},
            ]
        }
    )

    amount: Annotated[
        MinorUnits,
        Field(
            description="Positive adds credit, negative removes it (never 0).",
            json_schema_extra={"not": {"const": 0}},
        ),
    ]
    currency: CurrencyCode | None = Field(
        default=None,
        description=(
            "The currency whose balance changes (ISO 4217); defaults to the customer's. Credit pays "
            "only invoices of its currency, and no currency's balance goes below 0."
        ),
    )
    description: Annotated[str, Field(max_length=500)] | None = None

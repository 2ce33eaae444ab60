"""Reads for applying card-payment events: the invoice, the intent's state and the event's marker.

The writes are staged on `DynamoBillingTransaction` (`claim_webhook_event`, `save_card_intent`, …),
so that an event's marker commits in the same transaction as its effect.
"""

from __future__ import annotations

from dataclasses import dataclass

from remit.adapters.dynamodb import DynamoTable
from remit.adapters.items.invoices import card_intent_of, invoice_of
from remit.domain.card_intents import CardIntent
from remit.domain.invoice import Invoice


@dataclass(frozen=True)
class CardPaymentSnapshot:
    organisation_exists: bool
    invoice: Invoice | None
    intent: CardIntent | None
    already_applied: bool


class DynamoCardPaymentStore:
    def __init__(self, table: DynamoTable) -> None:
        self._table = table

    def read(
        self,
        organisation_id: str,
        invoice_id: str | None,
        payment_intent_id: str | None,
        event_id: str | None,
    ) -> CardPaymentSnapshot:
        pk = f"ORG#{organisation_id}"
        keys = [(pk, "ORG")]
        if invoice_id:
            keys.append((pk, f"INVOICE#{invoice_id}"))
        if payment_intent_id:
            keys.append((pk, f"CARDPAY#{payment_intent_id}"))
        if event_id:
            keys.append((pk, f"WEBHOOK#{event_id}"))
        found = {item["SK"]: item for item in self._table.batch_get(keys)}
        invoice = found.get(f"INVOICE#{invoice_id}") if invoice_id else None
        intent = found.get(f"CARDPAY#{payment_intent_id}") if payment_intent_id else None
        return CardPaymentSnapshot(
            organisation_exists="ORG" in found,
            invoice=invoice_of(invoice) if invoice else None,
            intent=card_intent_of(intent) if intent else None,
            already_applied=bool(event_id) and f"WEBHOOK#{event_id}" in found,
        )

"""Credit notes for the documents' tests: built as the credit notes' service stores them, and read
through the `CreditNoteReader` port from memory (the documents never write one).
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from remit.domain.credit_notes import CreditNote, CreditNoteLine
from remit.domain.invoice import TaxBreakdownLine


class MemoryCreditNoteReader:
    """`CreditNoteReader` over credit notes held in memory, keyed as stored: by organisation and id."""

    def __init__(self, *credit_notes: CreditNote) -> None:
        self._notes: dict[tuple[str, str], CreditNote] = {}
        self._lock = threading.Lock()
        self.reads = 0
        for note in credit_notes:
            self.add(note)

    def add(self, credit_note: CreditNote) -> CreditNote:
        with self._lock:
            self._notes[(credit_note.organisation_id, credit_note.id)] = credit_note
        return credit_note

    def get(self, organisation_id: str, credit_note_id: str) -> CreditNote | None:
        with self._lock:
            self.reads += 1
            return self._notes.get((organisation_id, credit_note_id))

    def of_invoice(self, organisation_id: str, invoice_id: str) -> list[CreditNote]:
        with self._lock:
            self.reads += 1
            found = [
                note
                for (organisation, _), note in self._notes.items()
                if organisation == organisation_id and note.invoice_id == invoice_id
            ]
        return sorted(found, key=lambda note: (note.created_at, note.id))


def a_credit_note(
    *,
    organisation_id: str = "org_acme",
    invoice_id: str = "inv_0042",
    invoice_number: str = "ACME-2026-0042",
    number: str = "ACME-CN-00001",
    credit_note_id: str = "cn_01jd7k0000000000000000001",
    lines: list[tuple[str, str | None, int | None, int, str]] | None = None,
    **changes: Any,
) -> CreditNote:
    """An issued credit note of €1,000 net at 23% (€1,230), all of it taken off the amount due.

    `lines` are (description, quantity or None, unit amount or None, net amount, tax rate %), each
    taxed half-up per line; totals and breakdown follow from them unless `changes` say otherwise.
    """
    specs = lines or [("Implementation workshop, two days on site in Łódź", "10", 10000, 100000, "23")]
    credit_lines = []
    breakdown: dict[Decimal, list[int]] = {}
    for index, (description, quantity, unit_amount, amount, rate) in enumerate(specs):
        tax_rate = Decimal(rate)
        tax = int((Decimal(amount) * tax_rate / 100).to_integral_value(rounding="ROUND_HALF_UP"))
        credit_lines.append(
            CreditNoteLine(
                id=f"cnl_{index}",
                invoice_line_id=f"li_{index}" if quantity is not None else None,
                description=description,
                quantity=Decimal(quantity) if quantity is not None else None,
                unit_amount=unit_amount,
                tax_rate=tax_rate,
                amount=amount,
                tax_amount=tax,
            )
        )
        group = breakdown.setdefault(tax_rate, [0, 0])
        group[0] += amount
        group[1] += tax
    subtotal = sum(line.amount for line in credit_lines)
    tax_total = sum(line.tax_amount for line in credit_lines)
    fields: dict[str, Any] = {
        "id": credit_note_id,
        "organisation_id": organisation_id,
        "invoice_id": invoice_id,
        "invoice_number": invoice_number,
        "invoice_issue_date": date(2026, 3, 31),
        "customer_id": "cus_globex",
        "number": number,
        "currency": "EUR",
        "issue_date": date(2026, 4, 14),
        "lines": credit_lines,
        "subtotal": subtotal,
        "tax_total": tax_total,
        "total": subtotal + tax_total,
        "tax_breakdown": [
            TaxBreakdownLine(tax_rate=rate, taxable_amount=taxable, tax_amount=tax)
            for rate, (taxable, tax) in sorted(breakdown.items())
        ],
        "reason": "order_change",
        "memo": "Two of the ten workshop days were cancelled.",
        "pre_payment_amount": subtotal + tax_total,
        "customer_name": "Łódź Müller Ørsted Sp. z o.o.",
        "customer_locale": None,
        "recipients": ["faktury@lmo.test"],
        "created_at": datetime(2026, 4, 14, 9, 30, tzinfo=UTC),
    }
    return CreditNote(**(fields | changes))

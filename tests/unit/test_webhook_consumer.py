"""The receiver docs/webhook-delivery.md shows, run as written: deliveries signed as Remit signs them,
duplicated and reordered, end in each invoice's and payment's last state; a forged one changes nothing."""

from __future__ import annotations

import json
import random
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from remit.adapters.webhook_sender import WebhookSender

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhook-delivery.md"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def consumer_module() -> dict[str, Any]:
    [code] = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    namespace: dict[str, Any] = {"__name__": "webhook_consumer"}
    exec(compile(code, str(DOC), "exec"), namespace)  # noqa: S102 - the doc's own example, run as a test
    return namespace


def invoice_event(number: int, sequence: int, status: str, amount_due: int) -> dict[str, Any]:
    return {
        "id": f"evt_{number:04d}",
        "organisation_id": "org_1",
        "type": f"invoice.{status}",
        "created_at": "2026-12-06T10:00:00Z",
        "object": {"type": "invoice", "id": "inv_1", "sequence": sequence},
        "data": {
            "id": "inv_1",
            "number": "INV-1" if sequence > 1 else None,
            "status": status,
            "currency": "EUR",
            "total": 11900,
            "amount_due": amount_due,
        },
    }


def payment_event(number: int) -> dict[str, Any]:
    data = {"id": "pay_1", "invoice_id": "inv_1", "status": "succeeded", "amount": 11900, "currency": "EUR"}
    return {
        "id": f"evt_{number:04d}",
        "organisation_id": "org_1",
        "type": "payment.succeeded",
        "created_at": "2026-12-06T10:00:00Z",
        "object": {"type": "payment", "id": "pay_1", "sequence": 1},
        "data": data,
    }


def signed(event: dict[str, Any], secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    """The body and headers Remit's sender would post (the same signing code)."""
    body = json.dumps(event).encode()
    now = datetime.now(UTC)
    headers = {
        "Webhook-Id": event["id"],
        "Webhook-Timestamp": str(int(now.timestamp())),
        "Webhook-Signature": WebhookSender().signature(
            message_id=event["id"], timestamp=now, body=body, secrets=[secret]
        ),
    }
    return body, headers


def test_duplicated_and_reordered_deliveries_mirror_the_last_state(tmp_path: Path) -> None:
    mirror = consumer_module()["AccountingMirror"](str(tmp_path / "books.sqlite"), SECRET)
    events = [
        invoice_event(1, 1, "created", 11900),
        invoice_event(2, 2, "finalized", 11900),
        payment_event(3),
        invoice_event(4, 3, "paid", 0),
    ]
    deliveries = [signed(event) for event in events for _ in range(2)]
    random.Random(7).shuffle(deliveries)
    deliveries.insert(0, deliveries[-1])  # the last one first too

    answers = [mirror.receive(body, headers) for body, headers in deliveries]

    assert set(answers) == {204}
    rows = sqlite3.connect(tmp_path / "books.sqlite")
    assert rows.execute("SELECT id, sequence, number, status, amount_due FROM invoices").fetchall() == [
        ("inv_1", 3, "INV-1", "paid", 0)
    ]
    assert rows.execute("SELECT id, invoice_id, status, amount FROM payments").fetchall() == [
        ("pay_1", "inv_1", "succeeded", 11900)
    ]
    assert rows.execute("SELECT count(*) FROM deliveries").fetchone() == (4,)


def test_a_stale_event_after_a_newer_one_changes_nothing(tmp_path: Path) -> None:
    mirror = consumer_module()["AccountingMirror"](str(tmp_path / "books.sqlite"), SECRET)

    mirror.receive(*signed(invoice_event(4, 3, "paid", 0)))
    mirror.receive(*signed(invoice_event(2, 2, "finalized", 11900)))

    rows = sqlite3.connect(tmp_path / "books.sqlite")
    assert rows.execute("SELECT status, sequence FROM invoices").fetchall() == [("paid", 3)]


def test_a_forged_or_tampered_delivery_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    mirror = consumer_module()["AccountingMirror"](str(tmp_path / "books.sqlite"), SECRET)
    forged = signed(invoice_event(1, 9, "voided", 0), secret="whsec_" + "Zm9yZ2VyeS1mb3JnZXJ5LWZvcmdlcnk=")
    body, headers = signed(invoice_event(2, 1, "created", 11900))
    tampered = body.replace(b"11900", b"1")

    assert mirror.receive(*forged) == 400
    assert mirror.receive(tampered, headers) == 400
    rows = sqlite3.connect(tmp_path / "books.sqlite")
    assert rows.execute("SELECT count(*) FROM invoices").fetchone() == (0,)
    assert rows.execute("SELECT count(*) FROM deliveries").fetchone() == (0,)

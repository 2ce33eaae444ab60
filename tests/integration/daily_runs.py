"""What the local stack's daily runs' tests share (the invoicing cycle's and the reminders')."""

from __future__ import annotations

from datetime import UTC, datetime


def at(text: str) -> datetime:
    """A UTC moment from `YYYY-MM-DDTHH:MM:SS`."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def invalid_date_bodies(scheduled_at: str) -> list[tuple[bytes, int]]:
    """Bodies the dev routes refuse, and the status each gets (`scheduled_at`: a timestamp, not a date)."""
    return [
        (b"not json", 400),
        (b"[]", 400),
        (b"{}", 422),
        (b'{"date": null}', 422),
        (b'{"date": 20270201}', 422),
        (b'{"date": "20270201"}', 422),
        (b'{"date": "2027-02-30"}', 422),
        (b'{"date": "' + scheduled_at.encode() + b'"}', 422),
    ]

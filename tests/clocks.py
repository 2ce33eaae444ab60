"""The tests' one clock: it stands where the test sets it and moves only when told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# Where a clock stands unless the test says otherwise.
DEFAULT_NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def utc(moment: str) -> datetime:
    """The moment of an ISO 8601 text, in UTC (a text without an offset is read as UTC)."""
    parsed = datetime.fromisoformat(moment)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


class SettableClock:
    """A `remit.ports.Clock` set by the test (UTC)."""

    def __init__(self, start: datetime | str = DEFAULT_NOW) -> None:
        self.current = utc(start) if isinstance(start, str) else start

    def now(self) -> datetime:
        return self.current

    def set(self, moment: str) -> None:
        self.current = utc(moment)

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)

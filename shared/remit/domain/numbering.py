"""Number series: the legal, gapless numbering of an organisation's documents.

A series (`invoice`, and `credit_note` for credit notes: each its own gapless sequence) hands out
its numbers in order: `take` gives the next number and the series as it is after it,
`take_consecutive` the next few at once (several documents issued in one transaction).
`renumbered` moves the next number forward or back, but never to or below a number already used,
so no number is ever given twice. A series is stored as read and written only if still as read
(the adapter's condition), which keeps both rules under concurrency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from remit.domain.errors import ConcurrentUpdate, InvalidInput
from remit.domain.values import Model

SeriesName = Literal["invoice", "credit_note"]
NumberPrefix = Annotated[str, Field(max_length=20, pattern=r"^[A-Za-z0-9\-_/.#]*$")]
NumberPadding = Annotated[int, Field(ge=1, le=12)]
SequenceNumber = Annotated[int, Field(ge=1, le=10**12)]

# Every document issued in an organisation, and every renumbering, writes the same series: under a
# burst each writer waits its turn, so a write of a series retries longer than an ordinary edit.
SERIES_WRITE_ATTEMPTS = 60


class SeriesMoved(ConcurrentUpdate):
    """The series was written since it was read: take the numbers again from the series as it is."""

    def __init__(self) -> None:
        super().__init__("Another finalization took the organisation's next number first; try again.")


def format_number(prefix: str, padding: int, sequence: int) -> str:
    """The legal document number for `sequence`: prefix + zero-padded sequence (`ACME-00042`)."""
    return f"{prefix}{sequence:0{padding}d}"


@dataclass(frozen=True)
class TakenNumber:
    """A number given by a series: its place in the sequence, its legal form, and the series after it."""

    sequence: int
    number: str
    series: NumberSeries


class NumberSeries(Model):
    """One organisation's series of document numbers.

    `next_number` is the number `take` gives next; `last_number_used` the highest ever given (0: none).
    `version` counts the series' stored changes (0: never stored, as for an organisation whose series
    is still read from its settings).
    """

    model_config = ConfigDict(frozen=True)

    name: SeriesName = "invoice"
    next_number: SequenceNumber = 1
    last_number_used: Annotated[int, Field(ge=0, le=10**12)] = 0
    version: int = 0

    def take(self, prefix: str, padding: int) -> TakenNumber:
        """The next number, formatted with `prefix` and `padding`, and the series once it is used."""
        sequence = self.next_number
        after = self.model_copy(update={"next_number": sequence + 1, "last_number_used": sequence})
        return TakenNumber(sequence, format_number(prefix, padding, sequence), after)

    def take_consecutive(self, count: int, prefix: str, padding: int) -> list[TakenNumber]:
        """The next `count` numbers (at least one), in order, each with the series once it is used:
        the last one's series is the one to write. Raises `ValueError` for a count below one.
        """
        if count < 1:
            raise ValueError(f"take at least one number, not {count}")
        taken = [self.take(prefix, padding)]
        while len(taken) < count:
            taken.append(taken[-1].series.take(prefix, padding))
        return taken

    def renumbered(self, next_number: int) -> NumberSeries:
        """The series continuing at `next_number`, forward or back.

        Raises `InvalidInput` (field `<name>_numbering.next_number`) at or below the last number used:
        a number is never given twice.
        """
        if next_number <= self.last_number_used:
            raise InvalidInput.single(
                f"{self.name}_numbering.next_number",
                f"must be above {self.last_number_used}, the last number already used",
            )
        return self.model_copy(update={"next_number": next_number})

"""Number series in the organisation's partition, an item of their own.

    ORG#<org> / SERIES#<name>   a `NumberSeries`: next_number, last_number_used, version
                                (`SERIES#invoice`, `SERIES#credit_note`)

A series item is apart from the organisation's `ORG` item, so editing the organisation never
meets a finalization. Every write of a series is conditioned on the series being as read (its
version; never stored: the item still absent), which is what makes "never reused" and "no gaps"
hold under concurrency.

An organisation stored before series had items of their own kept its invoice counter on its `ORG`
item (`invoice_numbering.next_number`, `last_number_used`). Its series reads from there (version 0)
until the first write of the series creates the item, conditioned on it still being absent: deployed
data keeps its numbering without a migration job. Where the `ORG` item no longer holds
`last_number_used`, the number before `next_number` counts as used: the rule errs on refusing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from remit.adapters.dynamodb import Item, Write, put
from remit.adapters.items.organisations import organisation_of
from remit.domain.numbering import NumberSeries, SeriesMoved, SeriesName
from remit.domain.organisation import Organisation

ORGANISATION_SK = "ORG"


def series_sk(name: SeriesName) -> str:
    return f"SERIES#{name}"


def organisation_keys(organisation_id: str, *, credit_notes: bool = False) -> list[tuple[str, str]]:
    """The keys of an organisation's item and of its invoice series (and with `credit_notes`, of its
    credit note series), read together in one batch."""
    pk = f"ORG#{organisation_id}"
    keys = [(pk, ORGANISATION_SK), (pk, series_sk("invoice"))]
    return [*keys, (pk, series_sk("credit_note"))] if credit_notes else keys


def credit_note_series(series_item: Mapping[str, Any] | None) -> NumberSeries:
    """The organisation's credit note series: its item, or (never stored: no credit note issued yet,
    nor the series renumbered) a series that starts at 1."""
    if series_item is None:
        return NumberSeries(name="credit_note")
    return NumberSeries.model_validate(
        {field: series_item[field] for field in ("name", "next_number", "last_number_used", "version")}
    )


def invoice_series(
    series_item: Mapping[str, Any] | None, organisation_item: Mapping[str, Any]
) -> NumberSeries:
    """The organisation's invoice series: its own item, else read through from the `ORG` item."""
    if series_item is not None:
        return NumberSeries.model_validate(
            {field: series_item[field] for field in ("name", "next_number", "last_number_used", "version")}
        )
    next_number = int(organisation_item.get("invoice_numbering", {}).get("next_number", 1))
    last_used = organisation_item.get("last_number_used")
    return NumberSeries(
        name="invoice",
        next_number=next_number,
        last_number_used=next_number - 1 if last_used is None else int(last_used),
    )


def organisation_and_series(found: Mapping[str, Item]) -> tuple[Organisation | None, NumberSeries | None]:
    """The organisation (showing its series' next number) and its invoice series, from the items of
    `organisation_keys` found by a batch read (keyed by `SK`); (None, None) without the organisation.
    """
    organisation, series, _ = organisation_and_all_series(found)
    return organisation, series


def organisation_and_all_series(
    found: Mapping[str, Item],
) -> tuple[Organisation | None, NumberSeries | None, NumberSeries | None]:
    """As `organisation_and_series`, with the credit note series (read with `credit_notes=True`);
    the organisation shows both series' next numbers. (None, None, None) without the organisation.
    """
    item = found.get(ORGANISATION_SK)
    if item is None:
        return None, None, None
    series = invoice_series(found.get(series_sk("invoice")), item)
    organisation = organisation_of(item).numbered_by(series)
    notes = credit_note_series(found.get(series_sk("credit_note")))
    if notes.version or series_sk("credit_note") in found:
        organisation = organisation.numbered_by(notes)
    return organisation, series, notes


def save_series(organisation_id: str, series: NumberSeries) -> Write:
    """The write of `series` if still as read (at its version; absent if never stored)."""
    item = {
        "PK": f"ORG#{organisation_id}",
        "SK": series_sk(series.name),
        "entity": "number_series",
        "name": series.name,
        "next_number": series.next_number,
        "last_number_used": series.last_number_used,
        "version": series.version + 1,
    }
    if series.version == 0:
        return Write("Put", put(item, "attribute_not_exists(PK)"), SeriesMoved)
    return Write("Put", put(item, "version = :read", read=series.version), SeriesMoved)

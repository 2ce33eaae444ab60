"""Stored items apart from the domain's entities: each entity's item shape, and its mapping both ways.

The table keeps each entity as an item whose attributes are named here, once, by an item model
(`InvoiceItem`, `CustomerItem`, …): the entity's fields the table keeps, storage-only ones included.
An adapter writes `invoice_attributes(invoice)` under the keys it owns (`PK`/`SK`, `entity`, index
attributes) and reads `invoice_of(item)`, and so for each entity. Reading validates the item as
stored (types, dates, nested values) and builds the entity from it with `model_construct`, without
running the domain's input rules again: a tax id accepted when it was saved is not refused on the
way back because a rule has changed since. Attributes the model does not name (keys, index keys,
attributes of earlier versions) are ignored on reading.

An entity with nothing stored beyond what it is and no input rules of its own (a charge, a payment,
an event) has mapping functions of the same shape that validate the item as that entity.
"""

from __future__ import annotations

from typing import Any, Self, cast

from pydantic import BaseModel, ConfigDict

from remit.adapters.dynamodb import Item


class StoredItem(BaseModel):
    """The attributes of one stored item besides its keys."""

    model_config = ConfigDict(defer_build=True, extra="ignore")

    @classmethod
    def copied_from(cls, entity: BaseModel, **given: Any) -> Self:
        """The item of `entity`: each attribute from the entity's field of the same name, unless given."""
        values = {name: getattr(entity, name) for name in cls.model_fields if name not in given}
        return cast(Self, cls.model_construct(**(values | given)))

    def attributes(self) -> Item:
        """The item's attributes as the table stores them (JSON types: dates as ISO strings)."""
        return self.model_dump(mode="json")

    def values(self, *leave_out: str) -> dict[str, Any]:
        """The item's values by attribute name, for building the entity (nested values as validated)."""
        return {name: getattr(self, name) for name in type(self).model_fields if name not in leave_out}

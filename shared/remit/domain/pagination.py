"""Cursor pagination: a page of items and an opaque cursor for the next page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from remit.domain.values import Model

PageSize = Annotated[int, Field(ge=1, le=100)]
DEFAULT_PAGE_SIZE = 20


@dataclass(frozen=True)
class Page[ItemT]:
    items: list[ItemT]
    next_cursor: str | None


class ListResponse[ItemT](Model):
    data: list[ItemT]
    next_cursor: str | None

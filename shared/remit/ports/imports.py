"""Customer imports: their records, and the files they read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from remit.domain.imports import CustomerImport
from remit.domain.pagination import Page


class ImportRecords(Protocol):
    def add(self, record: CustomerImport) -> None:
        """Store a new import's record."""
        ...

    def get(self, organisation_id: str, import_id: str) -> CustomerImport | None: ...

    def list(self, organisation_id: str, limit: int, cursor: str | None) -> Page[CustomerImport]:
        """The organisation's imports, newest first."""
        ...

    def save(self, record: CustomerImport) -> CustomerImport:
        """Write the record if unchanged since read (its `version`); `ConcurrentUpdate` otherwise."""
        ...


class ImportFiles(Protocol):
    def put(self, key: str, content: bytes) -> None:
        """Keep an import's file (removed by the store some days later)."""
        ...

    def chunks(self, key: str) -> Iterator[bytes]:
        """The file's bytes as a stream of chunks; `NotFound` if it is gone."""
        ...

"""Where exports are written while they are made, and kept for their download."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Protocol


@dataclass(frozen=True)
class ExportDownload:
    """A finished export: a short-lived address to download it from, and its file's name."""

    url: str
    file_name: str
    expires_at: datetime


class ExportFiles(Protocol):
    def scratch(self) -> AbstractContextManager[IO[bytes]]:
        """An empty temporary file, on disk rather than in memory, removed when the block ends."""
        ...

    def publish(
        self, organisation_id: str, file_name: str, content_type: str, content: IO[bytes], now: datetime
    ) -> ExportDownload:
        """Store `content` (read from its start, in parts: never whole in memory) under the
        organisation's exports, and answer an address that downloads it as `file_name` until
        `expires_at`. Stored exports expire by the bucket's lifecycle rule."""
        ...

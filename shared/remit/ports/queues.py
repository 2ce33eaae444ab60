"""Work queued for the batch functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class WorkQueue(Protocol):
    def send(self, messages: Sequence[Mapping[str, Any]]) -> None:
        """Queue every message (JSON objects) for the queue's consumer, or raise: none is dropped."""
        ...

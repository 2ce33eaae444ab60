"""An owed email as the send queue carries it: which outbox message to send, nothing more.

Apart from `remit.domain.outbox` (a pydantic model), so that the notifications function's handler,
which only queues these, imports no pydantic at its cold start.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OwedEmail:
    """An outbox message to send, as the send queue carries it to the send worker."""

    organisation_id: str
    message_id: str

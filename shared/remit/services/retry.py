"""Retrying a read-modify-write when another writer got there first: the services' name for the
domain's loop (`remit.domain.retry`), which the adapters share.
"""

from __future__ import annotations

from remit.domain.retry import MAX_ATTEMPTS, READ_AGAIN, ReadAgain, back_off, retry_on_conflict

__all__ = ["MAX_ATTEMPTS", "READ_AGAIN", "ReadAgain", "back_off", "retry_on_conflict"]

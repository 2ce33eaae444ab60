"""Renders of a document that failed are remembered, so that requests do not try each one again.

A render is recorded as it starts. One that raised is recorded as failed at once. One that never
finished (its process ran out of memory, or of time) left only its start: once that start is older
than any render may take, the render is known to have died. Either way the failure is held for
`FAILURE_HELD_FOR`, answered at once, and then one request tries again. A refusal (text no font
can draw) is not a failure: it is quick, and answered again each time with what to correct.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from remit.domain.values import Model

# Longer than any function that renders a PDF may run (the notifications function: 120 s).
RENDER_DEADLINE = timedelta(minutes=3)
FAILURE_HELD_FOR = timedelta(hours=1)
DIED = "the render did not finish (its process ran out of memory or time)"

RenderState = Literal["started", "failed", "refused"]
RenderVerdict = Literal["render", "failed", "died"]


class RenderAttempt(Model):
    """The latest render of one revision of a document that left no document behind."""

    state: RenderState = "started"
    started_at: datetime
    ended_at: datetime | None = None
    error: str | None = None

    def verdict(self, now: datetime) -> RenderVerdict:
        """`failed`: a failure is held; `died`: a render that never finished is now known dead;
        `render`: go ahead (a held failure expired, a refusal, or a render that may still be running).
        """
        if self.state == "failed" and self.ended_at is not None:
            return "failed" if now < self.ended_at + FAILURE_HELD_FOR else "render"
        if self.state == "started" and now > self.started_at + RENDER_DEADLINE:
            return "died"
        return "render"

    def failed(self, now: datetime, error: str) -> RenderAttempt:
        return self.model_copy(update={"state": "failed", "ended_at": now, "error": error[:500]})

    def refused(self, now: datetime) -> RenderAttempt:
        return self.model_copy(update={"state": "refused", "ended_at": now})

    def retry_after(self, now: datetime) -> int:
        """Seconds until a request may try again (at least 1)."""
        ended_at = self.ended_at or now
        return max(1, int((ended_at + FAILURE_HELD_FOR - now).total_seconds()))

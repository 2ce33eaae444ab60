"""The notifications function: delivers the outbox's emails (invariant 9)."""

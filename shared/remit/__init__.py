"""Remit: the shared domain layer, deployed as one Lambda layer."""

"""Entities, value objects and rules. Pure Python and pydantic: no I/O, no clock reads."""

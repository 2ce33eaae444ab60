"""Repeatable performance measurements behind `make bench`."""

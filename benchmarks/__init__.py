"""Repeatable performance measurements behind `make bench` (see DESIGN.md, "Performance budgets")."""

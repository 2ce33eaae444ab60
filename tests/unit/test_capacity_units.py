"""The size rules `make bench` counts DynamoDB's units by (benchmarks/capacity_units.py)."""

from __future__ import annotations

from benchmarks.capacity_units import IndexShape, item_size, write_units


def test_strings_numbers_and_flags_are_sized_by_name_and_value() -> None:
    assert item_size({"PK": {"S": "ORG#1"}}) == 2 + 5
    assert item_size({"name": {"S": "Zoë"}}) == 4 + 4  # UTF-8 bytes
    assert item_size({"n": {"N": "12345"}}) == 1 + 3 + 1  # 1 byte per two significant digits, plus 1
    assert item_size({"n": {"N": "500"}}) == 1 + 1 + 1  # trailing zeros are trimmed
    assert item_size({"ok": {"BOOL": True}, "no": {"NULL": True}}) == (2 + 1) + (2 + 1)


def test_lists_and_maps_cost_3_bytes_and_1_per_element() -> None:
    assert item_size({"ids": {"L": []}}) == 3 + 3
    assert item_size({"ids": {"L": [{"S": "ab"}, {"S": "cd"}]}}) == 3 + 3 + 2 * (1 + 2)
    assert item_size({"m": {"M": {"k": {"S": "v"}}}}) == 1 + 3 + 1 + (1 + 1)


def test_a_write_costs_a_unit_per_started_kb_and_at_least_one() -> None:
    assert [write_units(size) for size in (0, 1, 1024, 1025, 15970)] == [1, 1, 1, 2, 16]


def test_an_index_entry_holds_the_keys_and_what_the_index_projects() -> None:
    item = {
        "PK": {"S": "ORG#1"},
        "SK": {"S": "SUB#1"},
        "GSI1PK": {"S": "DUE#3"},
        "GSI1SK": {"S": "2027-03-01#1#1"},
        "customer_id": {"S": "cus_1"},
        "memo": {"S": "x" * 2000},
    }
    included = IndexShape("GSI1", ("GSI1PK", "GSI1SK"), "INCLUDE", frozenset({"customer_id"}))
    keys_only = IndexShape("GSI1", ("GSI1PK", "GSI1SK"), "KEYS_ONLY")
    everything = IndexShape("GSI1", ("GSI1PK", "GSI1SK"), "ALL")

    assert set(included.entry(item, ("PK", "SK")) or {}) == {"PK", "SK", "GSI1PK", "GSI1SK", "customer_id"}
    assert set(keys_only.entry(item, ("PK", "SK")) or {}) == {"PK", "SK", "GSI1PK", "GSI1SK"}
    assert everything.entry(item, ("PK", "SK")) == item
    # An item without the index's keys is not in it (a sparse index)
    assert included.entry({"PK": {"S": "ORG#1"}, "SK": {"S": "ORG"}}, ("PK", "SK")) is None

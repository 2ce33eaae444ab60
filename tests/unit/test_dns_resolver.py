"""The resolver behind webhook destinations answers within its time limit, whatever DNS does."""

from __future__ import annotations

import ipaddress
import socket
import threading
from typing import Any

import pytest

from remit.adapters.dns_resolver import SystemHostResolver


def answering(*addresses: str) -> Any:
    def lookup(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in addresses]

    return lookup


def test_every_distinct_address_is_returned_without_its_zone() -> None:
    resolver = SystemHostResolver(lookup=answering("203.0.113.7", "203.0.113.7", "fe80::1%eth0"))

    assert resolver.resolve("hooks.example.com") == [
        ipaddress.ip_address("203.0.113.7"),
        ipaddress.ip_address("fe80::1"),
    ]


def test_a_resolver_that_never_answers_is_a_lookup_error_within_the_limit() -> None:
    # Given a lookup that hangs until released
    released = threading.Event()

    def hanging(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        released.wait(30)
        return []

    resolver = SystemHostResolver(timeout=0.05, lookup=hanging)
    try:
        # Then the caller stops waiting with a LookupError naming the host and the limit
        with pytest.raises(LookupError, match=r"hooks\.example\.com: no answer within 0\.05 s"):
            resolver.resolve("hooks.example.com")
    finally:
        released.set()


def test_an_unknown_host_and_an_empty_answer_are_lookup_errors() -> None:
    def unknown(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(LookupError, match="unknown host"):
        SystemHostResolver(lookup=unknown).resolve("nowhere.invalid")
    with pytest.raises(LookupError, match="no address"):
        SystemHostResolver(lookup=answering()).resolve("empty.example.com")


def test_an_unexpected_failure_of_the_lookup_is_raised_as_it_is() -> None:
    def broken(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        raise OSError("resolver configuration unreadable")

    with pytest.raises(OSError, match="configuration"):
        SystemHostResolver(lookup=broken).resolve("hooks.example.com")

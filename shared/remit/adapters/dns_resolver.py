"""Host names resolved by the operating system's resolver (`getaddrinfo`), as a connection would,
within a time limit of their own: `getaddrinfo` has none, and a resolver that never answers must
not hold an API request (or a delivery) until the function's own timeout."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable
from typing import Any

from remit.domain.webhook_addresses import IPAddress

Lookup = Callable[..., list[tuple[Any, ...]]]

# Long enough for a resolver's own retries (glibc: 5 s per server), short beside a 15 s delivery.
LOOKUP_SECONDS = 5.0


class SystemHostResolver:
    def __init__(self, *, timeout: float = LOOKUP_SECONDS, lookup: Lookup = socket.getaddrinfo) -> None:
        self._timeout = timeout
        self._lookup = lookup

    def resolve(self, host: str) -> list[IPAddress]:
        """Every address `host` resolves to (TCP, any family); `LookupError` if none, or if the
        resolver has not answered within the time limit."""
        answers = self._answers(host)
        addresses: list[IPAddress] = []
        for _family, _type, _proto, _name, sockaddr in answers:
            # An IPv6 answer may carry a zone ("fe80::1%eth0"): the address is what is judged.
            address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise LookupError(f"{host}: no address")
        return addresses

    def _answers(self, host: str) -> list[tuple[Any, ...]]:
        # The lookup runs in a daemon thread so that the caller can stop waiting; a lookup that
        # never returns leaves only that thread behind.
        outcome: list[list[tuple[Any, ...]] | BaseException] = []

        def look_up() -> None:
            try:
                outcome.append(self._lookup(host, 443, type=socket.SOCK_STREAM))
            except BaseException as error:  # handed to the caller below
                outcome.append(error)

        thread = threading.Thread(target=look_up, name=f"resolve {host}"[:60], daemon=True)
        thread.start()
        thread.join(self._timeout)
        if not outcome:
            raise LookupError(f"{host}: no answer within {self._timeout:g} s")
        answer = outcome[0]
        if isinstance(answer, (socket.gaierror, UnicodeError)):
            raise LookupError(f"{host}: unknown host") from answer
        if isinstance(answer, BaseException):
            raise answer
        return answer

"""Host names resolved by the operating system's resolver (`getaddrinfo`), as a connection would."""

from __future__ import annotations

import ipaddress
import socket

from remit.domain.webhook_addresses import IPAddress


class SystemHostResolver:
    def resolve(self, host: str) -> list[IPAddress]:
        """Every address `host` resolves to (TCP, any family); `LookupError` if none."""
        try:
            answers = socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            raise LookupError(f"{host} could not be resolved") from error
        addresses: list[IPAddress] = []
        for _family, _type, _proto, _name, sockaddr in answers:
            # An IPv6 answer may carry a zone ("fe80::1%eth0"): the address is what is judged.
            address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise LookupError(f"{host} has no address")
        return addresses

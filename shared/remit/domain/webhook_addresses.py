"""Which webhook destinations Remit refuses to call, and why.

A webhook makes Remit's servers send a request to an address the customer chose. Without these
rules that is a way in: to the cloud's instance metadata (credentials), to the services of the
network Remit runs in, or to Remit itself. So an endpoint's URL must be `https`, must carry no
credentials, and every address its host resolves to must be a public unicast one. The rules are
pure: resolving the host is the caller's (`remit.ports.webhooks.HostResolver`), done when the
endpoint is saved and again before each delivery, since a name can be pointed elsewhere later.

The local stack and the tests may also allow `http://127.0.0.1` and `http://localhost`
(`REMIT_WEBHOOKS_ALLOW_HTTP_LOOPBACK`), so a receiver on the developer's machine can be called.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Longer URLs are refused: no receiver needs more, and logs and pages show the whole URL.
MAX_URL_LENGTH = 2048
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

_METADATA = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # an IPv4 address reached over IPv6 (RFC 6052)
# A host that reads as a number, in any of the forms inet_aton accepts (2130706433, 0x7f.1,
# 0177.0.0.1, 127.1): resolvers disagree on what each means, so only the dotted decimal form is taken.
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]*))*\.?$", re.IGNORECASE)
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$", re.IGNORECASE)


def url_problem(url: str, *, allow_http_loopback: bool) -> str | None:
    """Why `url` cannot be a webhook endpoint (None: its syntax and scheme are fine).

    Checks the URL alone: `https` (or, when allowed, `http` to 127.0.0.1 or localhost), a host, no
    user name or password, no fragment, a valid port, at most `MAX_URL_LENGTH` characters, and a
    host written as a name or a canonical IP address. An IP address written in the URL is checked
    as `address_problem` does; a name is for the caller to resolve and check.
    """
    if len(url) > MAX_URL_LENGTH:
        return f"must be at most {MAX_URL_LENGTH} characters"
    if any(ord(char) <= 32 or ord(char) == 127 for char in url):
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "is not a valid URL"
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        return "must be an https:// URL"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "must not contain a user name or password (send credentials in the URL's path or not at all)"
    host = _host(parts)
    if not host:
        return "must name a host"
    if port == 0:
        return "must not use port 0"
    if parts.fragment or url.endswith("#"):
        return "must not contain a fragment (#…)"
    if scheme == "http" and not (allow_http_loopback and host in LOOPBACK_HOSTS):
        return "must be an https:// URL" + (
            " (http:// only to 127.0.0.1 or localhost)" if allow_http_loopback else ""
        )
    literal = ip_literal(host)
    if literal is not None:
        return address_problem(literal, allow_loopback=allow_http_loopback)
    if _NUMERIC_HOST.match(host):
        return "must write an IP address as four decimal numbers (such as 203.0.113.7), or use a host name"
    name = host.removesuffix(".")
    if name == "localhost" or name.endswith(".localhost"):
        return None if allow_http_loopback and name == "localhost" else "must not point to this machine"
    labels = name.split(".")
    if len(host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        return "must name a valid host"
    return None


def host_of(url: str) -> str:
    """The host `url` names, lower case, without brackets (the URL passed `url_problem`)."""
    return _host(urlsplit(url))


def ip_literal(host: str) -> IPAddress | None:
    """The IP address `host` is written as (canonical forms only), or None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def address_problem(ip: IPAddress, *, allow_loopback: bool) -> str | None:
    """Why Remit must not send a webhook to `ip` (None: a public unicast address).

    Refused: the cloud's instance metadata, loopback (unless allowed), private, link-local,
    shared (carrier-grade NAT), multicast, reserved and unspecified addresses, and any address
    that is not globally reachable; an IPv4 address written as IPv6 (mapped, NAT64, 6to4) is
    judged as the IPv4 address it carries.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        carried = _carried_ipv4(ip)
        if carried is not None:
            return address_problem(carried, allow_loopback=allow_loopback)
    if ip in _METADATA:
        return "must not point to the cloud's instance metadata service"
    if ip.is_loopback:
        return None if allow_loopback else "must not point to a loopback address (this machine)"
    if ip.is_unspecified:
        return "must not point to an unspecified address (0.0.0.0 or ::)"
    if ip.is_link_local:
        return "must not point to a link-local address"
    if ip.is_multicast:
        return "must not point to a multicast address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED:
        return "must not point to a shared (carrier-grade NAT) address"
    if ip.is_private:
        return "must not point to a private network address"
    if ip.is_reserved or not ip.is_global:
        return "must point to a public internet address"
    return None


def _carried_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _host(parts: SplitResult) -> str:
    # `hostname` lower-cases and drops the brackets of an IPv6 literal; a zone ("%eth0") is refused
    # by ip_address and by the label rule alike.
    return parts.hostname or ""

"""Which webhook destinations are refused: the attacks a customer-chosen URL makes possible."""

from __future__ import annotations

import ipaddress

import pytest

from remit.domain.webhook_addresses import MAX_URL_LENGTH, address_problem, url_problem
from remit.ports.webhooks import Addresses
from remit.services.webhook_endpoints import destination_problem

REFUSED_URLS = [
    "https://127.0.0.1/hook",
    "https://127.0.0.2:8443/hook",
    "https://10.0.0.5/hook",
    "https://192.168.1.10/hook",
    "https://172.16.3.4/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://[::1]/hook",
    "https://[fd00:ec2::254]/latest/meta-data/",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[::ffff:169.254.169.254]/hook",
    "https://[::ffff:a9fe:a9fe]/hook",
    "https://[64:ff9b::a9fe:a9fe]/hook",
    "https://[2002:7f00:1::]/hook",
    "https://[fe80::1]/hook",
    "https://0.0.0.0/hook",
    "https://[::]/hook",
    "https://100.64.0.1/hook",
    "https://224.0.0.1/hook",
    "https://240.0.0.1/hook",
    "https://255.255.255.255/hook",
    "http://2130706433/hook",
    "https://2130706433/hook",
    "https://0x7f000001/hook",
    "https://0177.0.0.1/hook",
    "https://127.1/hook",
    "https://0x7f.0.0.1/hook",
    "https://localhost/hook",
    "https://localhost./hook",
    "https://LOCALHOST/hook",
    "https://127.0.0.1./hook",
    "https://%31%32%37.0.0.1/hook",
    "https://[fe80::1%25eth0]/hook",
    "https://0/hook",
    "https://api.localhost/hook",
    "http://example.com/hook",
    "https://user:pass@example.com/hook",
    "https://user@example.com/hook",
    "https://example.com@10.0.0.1/hook",
    "file:///etc/passwd",
    "gopher://example.com:70/_GET",
    "ftp://example.com/hook",
    "javascript:alert(1)",
    "https:///hook",
    "https://exa mple.com/hook",
    "https://example.com/\nhook",
    "https://example.com:0/hook",
    "https://example.com:99999/hook",
    "https://exa_mple..com/hook",
    "https://example.com/hook#fragment",
    "https://example.com/" + "a" * MAX_URL_LENGTH,
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_a_dangerous_or_malformed_url_is_refused_in_a_deployed_stack(url: str) -> None:
    assert url_problem(url, allow_http_loopback=False) is not None


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/remit/webhooks",
        "https://hooks.example.com:8443/remit?token=abc",
        "https://93.184.215.14/hook",
        "https://[2606:4700::6810:84e5]/hook",
        "https://EXAMPLE.com./hook",
    ],
)
def test_a_public_https_url_is_accepted(url: str) -> None:
    assert url_problem(url, allow_http_loopback=False) is None


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9000/hook", "http://localhost:9000/hook", "https://127.0.0.1/hook"]
)
def test_the_local_stack_may_call_its_own_loopback(url: str) -> None:
    assert url_problem(url, allow_http_loopback=True) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/hook",
        "http://example.com/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://2130706433/hook",
        "https://192.168.0.1/hook",
    ],
)
def test_allowing_loopback_allows_nothing_else(url: str) -> None:
    assert url_problem(url, allow_http_loopback=True) is not None


def test_the_metadata_address_is_named_as_such() -> None:
    problem = address_problem(ipaddress.ip_address("169.254.169.254"), allow_loopback=True)
    assert problem is not None
    assert "metadata" in problem
    problem = address_problem(ipaddress.ip_address("fd00:ec2::254"), allow_loopback=True)
    assert problem is not None
    assert "metadata" in problem


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "::1", "::ffff:127.0.0.1", "10.1.2.3", "100.100.100.100", "0.0.0.0", "fc00::1"],  # noqa: S104
)
def test_an_address_that_is_not_public_is_refused(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address), allow_loopback=False) is not None


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700::6810:84e5", "8.8.8.8"])
def test_a_public_address_is_accepted(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address), allow_loopback=False) is None


class Resolver:
    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def resolve(self, host: str) -> Addresses:
        self.asked.append(host)
        if host not in self.answers:
            raise LookupError(host)
        return [ipaddress.ip_address(address) for address in self.answers[host]]


def test_a_host_resolving_to_a_private_address_is_refused() -> None:
    resolver = Resolver({"internal.example.com": ["10.0.0.7"]})
    problem = destination_problem("https://internal.example.com/hook", resolver, allow_http_loopback=False)
    assert problem is not None
    assert "10.0.0.7" in problem
    assert "private" in problem


def test_one_refused_address_among_public_ones_refuses_the_host() -> None:
    resolver = Resolver({"mixed.example.com": ["93.184.215.14", "169.254.169.254"]})
    problem = destination_problem("https://mixed.example.com/hook", resolver, allow_http_loopback=False)
    assert problem is not None
    assert "metadata" in problem


def test_a_host_that_does_not_resolve_is_refused() -> None:
    problem = destination_problem("https://nowhere.example/hook", Resolver({}), allow_http_loopback=False)
    assert problem is not None
    assert "could not be resolved" in problem


def test_a_host_resolving_only_to_public_addresses_is_accepted() -> None:
    resolver = Resolver({"hooks.example.com": ["93.184.215.14", "2606:4700::6810:84e5"]})
    assert destination_problem("https://hooks.example.com/x", resolver, allow_http_loopback=False) is None
    assert resolver.asked == ["hooks.example.com"]


def test_a_literal_address_is_not_resolved() -> None:
    resolver = Resolver({})
    assert destination_problem("https://93.184.215.14/x", resolver, allow_http_loopback=False) is None
    assert resolver.asked == []

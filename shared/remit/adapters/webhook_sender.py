"""Posting one event to one webhook endpoint, signed by the Standard Webhooks scheme, safely.

Safe to point anywhere: the host is resolved at each attempt, every address it resolves to is
checked (`address_problem`), and the connection is made to the checked address itself, so a
second lookup cannot swap in a private one (DNS rebinding); TLS still verifies the certificate
against the hostname (SNI). Redirects are never followed (a 3xx is a failed attempt). The whole
attempt has one deadline, enforced by closing the socket, so a receiver that answers a byte at a
time cannot hold the worker; and at most `RESPONSE_HEAD_BYTES` of the answer's body are read.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit

from standardwebhooks.webhooks import Webhook

from remit.adapters.dns_resolver import SystemHostResolver
from remit.domain.deliveries import DELIVERY_TIMEOUT_SECONDS, RESPONSE_HEAD_BYTES, PostResult, is_success
from remit.domain.webhook_addresses import IPAddress, address_problem, host_of, ip_literal, url_problem
from remit.ports.webhooks import HostResolver

USER_AGENT = "Remit-Webhooks/1"


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to an address checked beforehand, with `Host` the URL's hostname."""

    def __init__(self, host: str, port: int, address: IPAddress, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((str(self._address), self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection to an address checked beforehand; the certificate is checked for the hostname."""

    def __init__(
        self, host: str, port: int, address: IPAddress, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((str(self._address), self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


class WebhookSender:
    """Signs and posts event bodies to webhook endpoints (see the module's docstring)."""

    def __init__(
        self,
        *,
        allow_http_loopback: bool = False,
        timeout_seconds: float = DELIVERY_TIMEOUT_SECONDS,
        resolver: HostResolver | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self._allow_http_loopback = allow_http_loopback
        self._timeout = timeout_seconds
        self._resolver = resolver or SystemHostResolver()
        # Made at the first HTTPS delivery: loading the system's CA certificates takes a tenth of a
        # second, which every service build (every Lambda start, every test) would otherwise pay.
        self._tls_context = tls_context

    @property
    def _tls(self) -> ssl.SSLContext:
        if self._tls_context is None:
            self._tls_context = ssl.create_default_context()
        return self._tls_context

    def signature(self, *, message_id: str, timestamp: datetime, body: bytes, secrets: Sequence[str]) -> str:
        """The `webhook-signature` header: one `v1,…` per secret, space-separated (during a rotation
        both the new and the old secret sign, so a receiver holding either one verifies)."""
        return " ".join(Webhook(secret).sign(message_id, timestamp, body) for secret in secrets)

    def send(
        self, *, url: str, message_id: str, body: bytes, secrets: Sequence[str], timestamp: datetime
    ) -> PostResult:
        """POST `body` to `url` with the Standard Webhooks headers; never raises for what the
        destination does (refused address, no answer, timeout, any status): it is in the result."""
        started = time.monotonic()

        def result(status: int | None, error: str | None, head: str = "") -> PostResult:
            return PostResult(status, error, head, int((time.monotonic() - started) * 1000))

        if not secrets:
            return result(None, "the endpoint has no signing secret")
        problem = url_problem(url, allow_http_loopback=self._allow_http_loopback)
        if problem is not None:
            return result(None, f"url {problem}")
        parts = urlsplit(url)
        host = host_of(url)
        https = parts.scheme == "https"
        port = parts.port or (443 if https else 80)
        literal = ip_literal(host)
        try:
            addresses = [literal] if literal is not None else list(self._resolver.resolve(host))
        except LookupError as error:
            return result(None, f"cannot resolve: {error}")
        if not addresses:
            return result(None, f"{host} resolves to no address")
        for address in addresses:
            refused = address_problem(address, allow_loopback=self._allow_http_loopback)
            if refused is not None:
                return result(None, f"refused: {host} resolves to {address}; the endpoint {refused}")
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": message_id,
            "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": self.signature(
                message_id=message_id, timestamp=timestamp, body=body, secrets=secrets
            ),
        }
        path = parts.path or "/"
        if parts.query:
            path = f"{path}?{parts.query}"
        last_error = "no address answered"
        for address in addresses:  # the next checked address only if this one cannot be reached
            remaining = self._timeout - (time.monotonic() - started)
            if remaining <= 0:
                return result(None, f"timed out after {self._timeout:g} s")
            connection: http.client.HTTPConnection = (
                _PinnedHTTPSConnection(host, port, address, remaining, self._tls)
                if https
                else _PinnedHTTPConnection(host, port, address, remaining)
            )
            deadline = threading.Timer(remaining, _cut, args=(connection,))
            deadline.daemon = True
            deadline.start()
            try:
                try:
                    connection.connect()
                except OSError as error:
                    last_error = _describe(error, self._timeout)
                    if time.monotonic() - started >= self._timeout:
                        return result(None, f"timed out after {self._timeout:g} s")
                    continue
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                head = response.read(RESPONSE_HEAD_BYTES)  # never more, whatever the length
                text = head.decode("utf-8", errors="replace")
                status = response.status
                error_text = None if is_success(status) else _status_error(status, response)
                return result(status, error_text, text)
            except (OSError, http.client.HTTPException, ValueError) as error:
                if time.monotonic() - started >= self._timeout - 0.01:
                    return result(None, f"timed out after {self._timeout:g} s")
                return result(None, _describe(error, self._timeout))
            finally:
                deadline.cancel()
                connection.close()
        return result(None, last_error)


def _cut(connection: http.client.HTTPConnection) -> None:
    """At the deadline: shut the socket, so that a blocked read or write returns at once."""
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _status_error(status: int, response: http.client.HTTPResponse) -> str:
    if 300 <= status < 400:
        location = response.getheader("location") or ""
        return f"answered {status} (redirect to {location[:200]!r} not followed)"
    return f"answered {status}"


def _describe(error: BaseException, timeout: float) -> str:
    if isinstance(error, TimeoutError | socket.timeout):
        return f"timed out after {timeout:g} s"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ssl.SSLError):
        return f"TLS failed: {error.reason or error}"
    return f"{type(error).__name__}: {error}"[:300]

"""The HTTP front on `127.0.0.1:$PORT`: what API Gateway is to the deployed stack.

`/_dev/*` goes to the dev routes, `/webhooks/stripe/*` through the API Gateway emulation to
the `payment_webhooks` function, `/dashboard` and `/dashboard/*` to the `dashboard` function,
everything else to the `api` function. Requests pass the
`RequestGate`, so snapshots fall between them, and any request that may write (every method but
GET, HEAD and OPTIONS) marks the data as changed.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from local.api_gateway import ApiGateway
from local.autosave import RequestGate, StackStopping
from local.dev_routes import DevRoutes
from local.environment import HOST
from local.http_messages import HttpRequest, HttpResponse, json_response, problem_response

logger = logging.getLogger(__name__)

#: API Gateway refuses payloads over 10 MB; so does the front.
MAX_BODY_BYTES = 10 * 1024 * 1024
_READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Headers the front writes itself, whatever the handler says.
_FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "connection", "date", "server"})


class RequestRouter:
    """Sends each request to the dev routes or the API, inside the gate, and notes possible writes."""

    def __init__(
        self,
        api: ApiGateway,
        dev_routes: DevRoutes,
        gate: RequestGate,
        on_change: Callable[[], None],
        *,
        functions_by_prefix: Sequence[tuple[str, ApiGateway]] = (),
    ) -> None:
        self._api = api
        self._dev_routes = dev_routes
        self._gate = gate
        self._on_change = on_change
        # The template's more specific API resources, each served by its own function (e.g. the
        # payment webhooks, the dashboard); API Gateway prefers them to `/{proxy+}`. A prefix
        # ending in "/" claims the paths below it; one without claims itself and the paths below.
        self._functions_by_prefix = tuple(functions_by_prefix)

    def handle(self, request: HttpRequest) -> HttpResponse:
        """The response to `request`: 503 once the stack is stopping, 500 if a dev route fails."""
        try:
            with self._gate.request():
                try:
                    if self._dev_routes.claims(request.path):
                        return self._dev_routes.handle(request)
                    for prefix, function in self._functions_by_prefix:
                        if _under(request.path, prefix):
                            return function.handle(request)
                    return self._api.handle(request)
                except Exception:
                    logger.exception("%s %s failed in the local front", request.method, request.path)
                    return problem_response(500, "internal-error", "The local stack failed; see its log.")
                finally:
                    if request.method not in _READ_ONLY_METHODS:
                        self._on_change()
        except StackStopping:
            return json_response(503, {"message": "The local stack is stopping."})


def _under(path: str, prefix: str) -> bool:
    if prefix.endswith("/"):
        return path.startswith(prefix)
    return path == prefix or path.startswith(prefix + "/")


class HttpFront(ThreadingHTTPServer):
    """A threaded HTTP/1.1 server bound at construction, so the port is known before serving starts.

    `stop()` ends every connection thread it started: the listener stops, idle keep-alive
    connections are closed for reading (a response being written still completes), and the
    threads are joined.
    """

    def __init__(self, port: int, router: RequestRouter) -> None:
        super().__init__((HOST, port), _FrontRequestHandler)
        self.router = router
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._connections_lock = threading.Lock()
        self._serving: threading.Thread | None = None

    @property
    def port(self) -> int:
        port: int = self.server_address[1]
        return port

    def serve_in_background(self) -> None:
        # A short poll interval makes `stop()` quick: shutdown waits for the loop's next turn.
        self._serving = threading.Thread(target=self.serve_forever, args=(0.1,), name="remit-http-front")
        self._serving.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop accepting, close idle connections, and join every thread within `timeout` seconds."""
        if self._serving is not None:
            self.shutdown()
            self._serving.join()
        with self._connections_lock:
            connections = dict(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by its thread
                connection.shutdown(socket.SHUT_RD)
        deadline = time.monotonic() + timeout
        for thread in connections.values():
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                logger.warning("a connection thread did not finish within %.0f s", timeout)
        self.server_close()

    def process_request(self, request: Any, client_address: Any) -> None:
        # Daemon only as a last resort, for a handler stuck past `stop()`'s timeout: stop() joins them.
        thread = threading.Thread(
            target=self.process_request_thread, args=(request, client_address), daemon=True
        )
        with self._connections_lock:
            self._connections[request] = thread
        thread.start()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-response is not an error of the stack; anything else is logged."""
        if not isinstance(sys.exception(), ConnectionError):
            logger.exception("connection from %s failed", client_address[0])

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.pop(request, None)
        super().shutdown_request(request)


class _BadRequest(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = "payload-too-large" if status == 413 else "bad-request"
        self.detail = detail


class _FrontRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "RemitLocal"
    timeout = 120  # an idle keep-alive connection is closed after this many seconds
    server: HttpFront

    def _serve(self) -> None:
        started = time.perf_counter()
        try:
            request = self._read_request()
        except _BadRequest as bad:
            self.close_connection = True  # the rest of the body, if any, is still on the wire
            response = problem_response(bad.status, bad.slug, bad.detail)
            path = self.path
        else:
            response = self.server.router.handle(request)
            path = request.path
            if response.status == 503:
                self.close_connection = True
        self._write(response)
        elapsed_ms = (time.perf_counter() - started) * 1000
        logger.info("%s %s %d %.0f ms", self.command, path, response.status, elapsed_ms)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, PROPFIND, …) goes to the router too, which answers it with a
        # problem (405 with Allow on a known path) instead of http.server's HTML 501 page.
        if name.startswith("do_") and name[3:].isalpha() and name[3:].isupper():
            return self._serve
        raise AttributeError(name)

    def _read_request(self) -> HttpRequest:
        target = urlsplit(self.path)
        return HttpRequest(
            method=self.command,
            path=target.path or "/",
            query=target.query,
            # The body arrives de-chunked, as API Gateway passes it on.
            headers=[
                (name, value) for name, value in self.headers.items() if name.lower() != "transfer-encoding"
            ],
            body=self._read_body(),
            source_ip=self.client_address[0],
            user_agent=self.headers.get("User-Agent"),
        )

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked_body()
        declared = self.headers.get("Content-Length")
        if declared is None:
            return b""
        if not declared.strip().isdigit():
            raise _BadRequest(400, "Content-Length is not a number.")
        length = int(declared)
        if length > MAX_BODY_BYTES:
            raise _BadRequest(413, f"The body exceeds {MAX_BODY_BYTES} bytes.")
        body = self.rfile.read(length)
        if len(body) < length:
            raise _BadRequest(400, "The connection closed before the whole body arrived.")
        return body

    def _read_chunked_body(self) -> bytes:
        chunks: list[bytes] = []
        received = 0
        while True:
            size_line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise _BadRequest(400, "The chunked body is malformed.") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers are not passed on, as in API Gateway
                return b"".join(chunks)
            received += size
            if received > MAX_BODY_BYTES:
                raise _BadRequest(413, f"The body exceeds {MAX_BODY_BYTES} bytes.")
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)  # the CRLF after each chunk

    def _write(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in _FRAMING_HEADERS:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: `_serve` logs one line per request instead."""

    def log_error(self, format: str, *args: Any) -> None:
        # Browsers leave keep-alive connections idle until they time out: routine, not a warning.
        level = logging.DEBUG if format.startswith("Request timed out") else logging.WARNING
        logger.log(level, "%s: %s", self.client_address[0], format % args)

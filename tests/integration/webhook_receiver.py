"""A webhook receiver on loopback for the delivery tests: a tiny threaded HTTP server whose paths
answer as a healthy, broken, slow or redirecting endpoint would, recording every request."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    port: int
    server: ThreadingHTTPServer
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    slow_seconds: float = 2.0

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def to(self, path: str) -> list[Received]:
        with self.lock:
            return [request for request in self.requests if request.path == path]


@contextmanager
def running_receiver(address: str = "127.0.0.1") -> Iterator[Receiver]:
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            with receiver.lock:
                receiver.requests.append(
                    Received(
                        self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic()
                    )
                )
            if self.path.startswith("/slow"):
                time.sleep(receiver.slow_seconds)
                self._answer(200, b"late")
            elif self.path.startswith("/fail"):
                self._answer(500, b"internal error")
            elif self.path.startswith("/redirect"):
                self.send_response(302)
                self.send_header("location", "http://169.254.169.254/latest/meta-data/")
                self.send_header("content-length", "0")
                self.end_headers()
            elif self.path.startswith("/huge"):
                self.send_response(200)
                self.send_header("content-length", str(50 * 1024 * 1024))
                self.end_headers()
                chunk = b"x" * 65536
                try:
                    for _ in range(800):
                        self.wfile.write(chunk)
                except OSError:
                    pass
            else:
                self._answer(200, b'{"received": true}')

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("content-type", "text/plain")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class Server(ThreadingHTTPServer):
        request_queue_size = 128  # the default 5 drops parallel connections (1 s SYN retries)

        def handle_error(self, request: object, client_address: object) -> None:
            pass  # a sender that hung up (timeout, 1 KB read) is what several tests do on purpose

    server = Server((address, 0), Handler)
    server.daemon_threads = True
    receiver = Receiver(port=server.server_address[1], server=server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()

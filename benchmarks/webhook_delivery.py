"""Webhook delivery throughput to a receiver on loopback: signed POSTs a second.

The delivery service runs as the worker runs it (the real sender: resolve, check, connect to the
checked address, sign with standardwebhooks, read at most 1 KB), with the attempt log, the events
and the endpoints held in memory, so the figure is what signing and posting cost, not DynamoDB's
or SQS's latency. Three measurements:

* one thread: attempts one after the other;
* a batch of 10 in parallel threads, as `webhook_delivery.app.lambda_handler` posts a queue batch;
* the same batches with one endpoint in ten answering after `--slow` seconds: how long the others'
  attempts take (each message has its own deadline, so a slow endpoint holds only its own).

On loopback the receiver answers at once and the posting threads share the GIL, so parallel
posting adds little here; against real endpoints, whose answers take tens to hundreds of
milliseconds, a batch takes about its slowest attempt rather than the sum.

    python -m benchmarks webhook_delivery [--deliveries 500] [--slow 1.0]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any

BATCH = 10
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # noqa: S105 - a benchmark receiver's, public


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks webhook_delivery", description=__doc__)
    parser.add_argument(
        "--deliveries", type=int, default=500, help="deliveries per measurement (default 500)"
    )
    parser.add_argument("--slow", type=float, default=1.0, help="seconds the slow endpoint takes (default 1)")
    args = parser.parse_args(argv)
    from remit.domain.events import Event, EventObject

    slow_seconds = args.slow

    class Receiver(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            if self.path == "/slow":
                time.sleep(slow_seconds)
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

    class Server(ThreadingHTTPServer):
        request_queue_size = 128  # the default 5 drops parallel connections (1 s SYN retries)

    server = Server(("127.0.0.1", 0), Receiver)
    server.daemon_threads = True
    Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        now = datetime.now(UTC)
        event = Event(
            id="evt_bench",
            organisation_id="org_bench",
            type="invoice.finalized",
            created_at=now,
            object=EventObject(type="invoice", id="inv_bench", sequence=2),
            data={
                "id": "inv_bench",
                "status": "open",
                "total": 11900,
                "line_items": [{"description": "x" * 200}],
            },
        )
        fast = [f"http://127.0.0.1:{port}/fast{n}" for n in range(BATCH)]
        service = _service(event, [*fast, f"http://127.0.0.1:{port}/slow"])
        orders = _orders(args.deliveries, [f"we_{n}" for n in range(BATCH)])
        sequential = _timed(lambda: [service.deliver(order) for order in orders])
        parallel = _timed(lambda: _in_batches(service, orders))
        with_slow = _orders(args.deliveries, [f"we_{n}" for n in range(BATCH - 1)] + ["we_slow"])
        fast_times: list[float] = []
        _in_batches(service, with_slow, fast_times)
    finally:
        server.shutdown()
        server.server_close()
    count = len(orders)
    print(f"one thread                            {count / sequential:8.0f} deliveries/s")
    print(f"batches of {BATCH}, posted in parallel    {count / parallel:8.0f} deliveries/s per worker")
    fast_times.sort()
    median = fast_times[len(fast_times) // 2] * 1000
    worst = fast_times[-1] * 1000
    print(
        f"one endpoint in {BATCH} taking {slow_seconds:g} s: the others' attempts take "
        f"{median:.1f} ms (median), {worst:.1f} ms (slowest)"
    )
    return 0


def _timed(run: Any) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def _in_batches(service: Any, orders: Sequence[Any], fast_times: list[float] | None = None) -> None:
    def one(order: Any) -> None:
        started = time.perf_counter()
        service.deliver(order)
        if fast_times is not None and order.endpoint_id != "we_slow":
            fast_times.append(time.perf_counter() - started)

    with ThreadPoolExecutor(max_workers=BATCH) as pool:
        for start in range(0, len(orders), BATCH):
            list(pool.map(one, orders[start : start + BATCH]))


def _orders(count: int, endpoint_ids: Sequence[str]) -> list[Any]:
    from remit.domain.deliveries import DeliveryOrder

    return [
        DeliveryOrder(
            organisation_id="org_bench",
            endpoint_id=endpoint_ids[n % len(endpoint_ids)],
            event_id="evt_bench",
            delivery_id=f"wdl_{n:06d}",
        )
        for n in range(count)
    ]


def _service(event: Any, urls: Sequence[str]) -> Any:
    from remit.adapters.webhook_sender import WebhookSender
    from remit.domain.webhooks import SigningSecret, WebhookEndpoint
    from remit.services.webhook_delivery import WebhookDeliveryService

    now = datetime.now(UTC)
    endpoints = {
        (f"we_{n}" if n < BATCH else "we_slow"): WebhookEndpoint(
            id=f"we_{n}" if n < BATCH else "we_slow",
            organisation_id="org_bench",
            url=url,
            enabled_events=["*"],
            secrets=[SigningSecret(secret=SECRET)],
            created_at=now,
            updated_at=now,
        )
        for n, url in enumerate(urls)
    }

    class Endpoints:
        def get(self, organisation_id: str, endpoint_id: str) -> Any:
            return endpoints.get(endpoint_id)

        def enabled_for(self, organisation_id: str, event_type: str) -> list[Any]:
            return list(endpoints.values())

    class Events:
        def get(self, organisation_id: str, event_id: str) -> Any:
            return event

    class Log:
        def record(self, delivery_id: str, attempt: Any) -> bool:
            return True

        def recorded(self, *args: Any) -> None:
            return None

    class Nothing:
        def send(self, *args: Any, **kwargs: Any) -> None:
            pass

        def endpoint_failing(self, endpoint: Any) -> None:
            pass

        def require_access(self, *args: Any) -> None:
            pass

    class Clock:
        def now(self) -> datetime:
            return datetime.now(UTC)

    return WebhookDeliveryService(
        endpoints=Endpoints(),  # type: ignore[arg-type]
        events=Events(),  # type: ignore[arg-type]
        log=Log(),  # type: ignore[arg-type]
        queue=Nothing(),
        poster=WebhookSender(allow_http_loopback=True),
        alerts=Nothing(),
        access=Nothing(),
        clock=Clock(),
    )

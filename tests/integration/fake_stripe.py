"""A fake Stripe API on 127.0.0.1: records what the stripe SDK sends and answers Stripe-shaped objects.

Point the SDK at it with `api_base` (`StripeGateway(fake.url)`, or `REMIT_STRIPE_API_BASE`).
Serves `POST /v1/checkout/sessions` (payment and setup mode), `POST /v1/customers`,
`POST /v1/payment_intents`, `POST /v1/refunds`, `GET /v1/payment_methods/<id>` (a Visa card whose
last four digits end the id, when they are digits) and `POST /v1/payment_methods/<id>/detach`;
an `Idempotency-Key` seen before gets the first answer again, as Stripe does. A payment intent
with the payment method `pm_card_chargeDeclined` is declined with a 402 card error. A refund is
answered with `refund_status` (default `pending`); while `refunds_down` is set, refunds are
answered 500 (and not remembered), as an outage would.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

DECLINED_PAYMENT_METHOD = "pm_card_chargeDeclined"


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    form: dict[str, str]  # Stripe's form encoding, flat: `metadata[invoice_id]` → "inv_…"
    idempotency_key: str | None
    authorization: str | None


class FakeStripe:
    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.refund_status = "pending"
        self.refunds_down = False
        self._answers: dict[str, tuple[int, dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
                request = RecordedRequest(
                    "POST",
                    self.path,
                    form,
                    self.headers.get("Idempotency-Key"),
                    self.headers.get("Authorization"),
                )
                self._reply(request)

            def do_GET(self) -> None:
                request = RecordedRequest("GET", self.path, {}, None, self.headers.get("Authorization"))
                self._reply(request)

            def _reply(self, request: RecordedRequest) -> None:
                status, body = fake.answer(request)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Request-Id", "req_fake")
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> FakeStripe:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def to(self, path: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path == path]

    def answer(self, request: RecordedRequest) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append(request)
            replay_key = f"{request.path} {request.idempotency_key}" if request.idempotency_key else None
            if replay_key and replay_key in self._answers:
                return self._answers[replay_key]
            if request.path == "/v1/refunds" and self.refunds_down:
                return 500, {"error": {"type": "api_error", "message": "Stripe is down (fake)."}}
            answer = self._new_object(request)
            if replay_key:
                self._answers[replay_key] = answer
            return answer

    def _new_object(self, request: RecordedRequest) -> tuple[int, dict[str, Any]]:
        number = next(self._ids)
        form = request.form
        if request.path == "/v1/checkout/sessions":
            session_id = f"cs_test_{number}"
            return 200, {
                "id": session_id,
                "object": "checkout.session",
                "mode": form.get("mode"),
                "status": "open",
                "payment_status": "unpaid",
                "amount_total": int(form.get("line_items[0][price_data][unit_amount]", "0")),
                "currency": form.get("line_items[0][price_data][currency]"),
                "customer": form.get("customer"),
                "customer_email": form.get("customer_email"),
                "success_url": form.get("success_url"),
                "cancel_url": form.get("cancel_url"),
                "metadata": _nested(form, "metadata"),
                "url": f"https://checkout.stripe.test/c/pay/{session_id}",
            }
        if request.path == "/v1/customers":
            return 200, {
                "id": f"cus_test_{number}",
                "object": "customer",
                "email": form.get("email"),
                "metadata": _nested(form, "metadata"),
            }
        if request.path == "/v1/payment_intents":
            intent = {
                "id": f"pi_test_{number}",
                "object": "payment_intent",
                "amount": int(form.get("amount", "0")),
                "currency": form.get("currency"),
                "customer": form.get("customer"),
                "payment_method": form.get("payment_method"),
                "metadata": _nested(form, "metadata"),
                "status": "succeeded",
            }
            if form.get("payment_method") == DECLINED_PAYMENT_METHOD:
                intent["status"] = "requires_payment_method"
                return 402, {
                    "error": {
                        "type": "card_error",
                        "code": "card_declined",
                        "decline_code": "generic_decline",
                        "message": "Your card was declined.",
                        "payment_intent": intent,
                    }
                }
            return 200, intent
        if request.path.startswith("/v1/payment_methods/"):
            method_id = request.path.removeprefix("/v1/payment_methods/").removesuffix("/detach")
            last4 = method_id[-4:] if method_id[-4:].isdigit() else "4242"
            return 200, {
                "id": method_id,
                "object": "payment_method",
                "type": "card",
                "customer": None if request.path.endswith("/detach") else "cus_fake",
                "card": {"brand": "visa", "last4": last4, "exp_month": 8, "exp_year": 2031},
            }
        if request.path == "/v1/refunds":
            return 200, {
                "id": f"re_test_{number}",
                "object": "refund",
                "amount": int(form.get("amount", "0")),
                "currency": "eur",
                "payment_intent": form.get("payment_intent"),
                "metadata": _nested(form, "metadata"),
                "status": self.refund_status,
            }
        return 404, {
            "error": {"type": "invalid_request_error", "message": f"Unrecognized URL {request.path}"}
        }


def _nested(form: dict[str, str], name: str) -> dict[str, str]:
    prefix = f"{name}["
    return {key[len(prefix) : -1]: value for key, value in form.items() if key.startswith(prefix)}

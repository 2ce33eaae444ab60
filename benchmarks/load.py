"""Load: concurrent clients against `make run` for a while, then the books checked through the API.

Each client (a thread with its own HTTP connection) loops until the time is up, in one of several
organisations of a fresh account: create a customer; create a draft with one to three lines, for
that customer or for one of the organisation's set-up customers (who hold some credit, so
concurrent finalizations contend for their balance); finalize; send; record a payment (the
whole amount due, part of it, or two parts). Every POST carries an `Idempotency-Key`, and now
and then a payment is sent again with its key, as a client retrying after a lost answer would:
it must answer the same payment and record nothing twice. `429` and `503` are retried with the
same key after a pause and counted as retries, not errors; any other unexpected answer is an
error and ends that client's iteration.

When the time is up (the iterations under way finish; nothing runs past `--seconds` plus a
grace period) it checks through the API:

* per organisation, the finalized invoices' numbers are 1..N after the prefix: no gap, no
  duplicate, and each is the number the client was answered;
* every invoice's `amount_paid` is the sum of its succeeded payments, and
  `amount_due == total - amount_paid - credit_applied`;
* every set-up customer's balance is its credit less the credit its invoices applied;
* every sent invoice's email ("Invoice <number> from …") reached its customer (`GET /_dev/outbox`).

Prints requests/s and p50/p99 latency per operation, retries, errors and each invariant; exits 1
on any error or broken invariant. Figures only otherwise: nothing fails on timing.

    python -m benchmarks load [--clients 20] [--seconds 30] [--organisations 4]
                              [--url http://127.0.0.1:3000] [--api-key KEY]

Without `--url` it starts its own local stack (as `make run` does) in a temporary data directory
and stops it at the end. Without `--api-key` it opens a fresh account with `POST /_dev/accounts`.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from benchmarks.volume import Stack, percentile

SETUP_CUSTOMERS = 3  # per organisation, each with SETUP_CREDIT of credit
SETUP_CREDIT = 20_000
RETRY_STATUSES = frozenset({429, 503})
MAX_RETRIES = 8
REQUEST_TIMEOUT_SECONDS = 120.0
# Iterations under way when the time is up may finish within this; then the clients are abandoned.
GRACE_SECONDS = 120.0
OUTBOX_WAIT_SECONDS = 120.0
CURRENCIES = ("EUR", "USD", "GBP", "JPY")


class IterationFailed(Exception):
    """An unexpected answer: counted as an error, and the client starts its next iteration."""


@dataclass
class Figures:
    """What every client measured, shared between the client threads."""

    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    retries: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def took(self, operation: str, milliseconds: float) -> None:
        with self.lock:
            self.latencies_ms[operation].append(milliseconds)

    def retried(self, operation: str) -> None:
        with self.lock:
            self.retries[operation] += 1

    def failed(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)


@dataclass
class Book:
    """One organisation of the load: its numbering prefix and its set-up customers (id → email)."""

    organisation_id: str
    prefix: str
    currency: str
    setup_customers: dict[str, str]


@dataclass(frozen=True)
class Issued:
    """An invoice a client finalized: what the checks compare the API's books with."""

    organisation_id: str
    invoice_id: str
    number: str
    customer_email: str
    sent: bool


class Api:
    """One client's HTTP connection: every call timed under its operation's name."""

    def __init__(self, base_url: str, api_key: str, figures: Figures) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.figures = figures
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {api_key}"

    def call(
        self,
        operation: str,
        method: str,
        path: str,
        body: Any = None,
        expect: int = 200,
        idempotency_key: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """The JSON answer; retries 429/503 with the same key, raises `IterationFailed` otherwise."""
        headers = {}
        if method == "POST":
            headers["Idempotency-Key"] = idempotency_key or uuid.uuid4().hex
        for attempt in range(MAX_RETRIES + 1):
            started = time.perf_counter()
            try:
                response = self.session.request(
                    method,
                    self.base_url + path,
                    json=body,
                    params=params,
                    headers=headers,
                    timeout=REQUEST_TIMEOUT_SECONDS,
                )
            except requests.RequestException as error:
                raise IterationFailed(f"{operation}: {type(error).__name__}: {error}") from None
            self.figures.took(operation, (time.perf_counter() - started) * 1000)
            if response.status_code in RETRY_STATUSES and attempt < MAX_RETRIES:
                self.figures.retried(operation)
                time.sleep(min(2.0, 0.05 * 2**attempt))
                continue
            if response.status_code != expect:
                raise IterationFailed(
                    f"{operation}: {method} {path} answered {response.status_code}: {response.text[:300]}"
                )
            return response.json() if response.content else None
        raise AssertionError("unreachable")  # pragma: no cover

    def every(self, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every item of a list, page after page."""
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            query = {"limit": 100, **(params or {})} | ({"cursor": cursor} if cursor else {})
            page = self.call("list (checks)", "GET", path, params=query)
            items += page["data"]
            cursor = page["next_cursor"]
            if not cursor:
                return items


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks load", description=__doc__)
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long they run (default 30)")
    parser.add_argument("--organisations", type=int, default=4, help="organisations (default 4)")
    parser.add_argument("--url", help="a running stack (`make run`); default: start one")
    parser.add_argument("--api-key", help="default: a fresh account from POST /_dev/accounts")
    parser.add_argument("--seed", type=int, default=20, help="of the clients' choices (default 20)")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.seconds <= 0 or args.organisations < 1:
        parser.error("--clients and --organisations must be at least 1, --seconds above 0")
    if args.url:
        return run_load(args, args.url)
    workspace = Path(tempfile.mkdtemp(prefix="remit-load-"))
    stack = Stack(workspace / "data")
    try:
        print(f"started a local stack at {stack.api_url} (log: {stack.log_path})", flush=True)
        status = run_load(args, stack.api_url)
        stack.stop()
        return status
    finally:
        if stack.process.poll() is None:
            stack.process.kill()
        shutil.rmtree(workspace, ignore_errors=True)


def run_load(args: argparse.Namespace, base_url: str) -> int:
    """Set up, run the clients, check the books, print the figures; 0 when nothing went wrong."""
    figures = Figures()
    admin = Api(base_url, args.api_key or "", figures)
    try:
        if not args.api_key:
            opened = admin.call("open account", "POST", "/_dev/accounts", {"name": "Load"}, 201)
            admin = Api(base_url, opened["api_key"], figures)
        books = [_set_up(admin, number) for number in range(args.organisations)]
    except IterationFailed as failure:
        print(f"load: could not set up the organisations: {failure}")
        return 1
    print(
        f"load: {args.clients} clients for {args.seconds:g} s against {base_url}, {len(books)} organisations",
        flush=True,
    )
    issued: list[Issued] = []
    issued_lock = threading.Lock()
    deadline = time.monotonic() + args.seconds

    def client(index: int) -> None:
        rng = random.Random(args.seed * 1000 + index)  # noqa: S311 - load choices, not security
        api = Api(base_url, admin.api_key, figures)
        iteration = 0
        while time.monotonic() < deadline:
            iteration += 1
            try:
                invoice = _iteration(api, rng, books[rng.randrange(len(books))], f"{index}-{iteration}")
            except IterationFailed as failure:
                figures.failed(f"client {index}: {failure}")
                continue
            with issued_lock:
                issued.append(invoice)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(args.clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline + GRACE_SECONDS - time.monotonic()))
    elapsed = time.perf_counter() - started
    stuck = sum(thread.is_alive() for thread in threads)
    if stuck:
        figures.failed(f"{stuck} clients were still waiting {GRACE_SECONDS:.0f} s after the end")
    with issued_lock:
        done = list(issued)
    checks = _check_books(admin, books, done)
    _report(figures, elapsed, len(done), checks)
    return 0 if not figures.errors and all(held for _, held, _ in checks) else 1


def _set_up(api: Api, number: int) -> Book:
    prefix = f"L{number}-"
    currency = CURRENCIES[number % len(CURRENCIES)]
    organisation = api.call(
        "set up",
        "POST",
        "/v1/organisations",
        {
            "name": f"Load Company {number}",
            "default_currency": currency,
            "email": f"billing@load{number}.test",
            "invoice_numbering": {"prefix": prefix, "padding": 5, "next_number": 1},
        },
        201,
    )
    base = f"/v1/organisations/{organisation['id']}"
    customers = {}
    for index in range(SETUP_CUSTOMERS):
        email = f"regular{index}@org{number}.load.test"
        customer = api.call(
            "set up",
            "POST",
            f"{base}/customers",
            {"name": f"Regular {index}", "email": email, "tax_rate": ("0", "7.5", "20")[index % 3]},
            201,
        )
        api.call(
            "set up",
            "POST",
            f"{base}/customers/{customer['id']}/balance_transactions",
            {"amount": SETUP_CREDIT, "description": "Prepayment"},
            201,
        )
        customers[customer["id"]] = email
    return Book(organisation["id"], prefix, currency, customers)


def _iteration(api: Api, rng: random.Random, book: Book, label: str) -> Issued:
    base = f"/v1/organisations/{book.organisation_id}"
    email = f"c{label}@load.test"
    customer = api.call(
        "create customer", "POST", f"{base}/customers", {"name": f"Customer {label}", "email": email}, 201
    )
    customer_id = customer["id"]
    if rng.random() < 0.5:  # one of the regulars, whose credit several clients may apply at once
        customer_id, email = rng.choice(list(book.setup_customers.items()))
    lines = [
        {
            "description": f"Service {rng.randrange(1000)}",
            "quantity": rng.choice(("1", "2", "0.5", "3.25")),
            "unit_amount": rng.randrange(100, 50_000),
        }
        for _ in range(rng.randint(1, 3))
    ]
    draft = api.call(
        "create draft", "POST", f"{base}/invoices", {"customer_id": customer_id, "line_items": lines}, 201
    )
    invoice_path = f"{base}/invoices/{draft['id']}"
    finalized = api.call("finalize", "POST", f"{invoice_path}/finalize")
    if not finalized.get("number") or finalized["status"] not in ("open", "paid"):
        raise IterationFailed(
            f"finalize answered {finalized['status']} with number {finalized.get('number')}"
        )
    sent = api.call("send", "POST", f"{invoice_path}/send")
    if sent["number"] != finalized["number"] or not sent["sent_at"]:
        raise IterationFailed(f"send changed the number or set no sent_at: {sent['number']}")
    due = sent["amount_due"]
    roll, part = rng.random(), max(1, due // 3)
    # The whole amount due; a part of it (left open); or a part, then the rest.
    payments = [due] if roll < 0.5 else [part] if roll < 0.7 else [part, due - part]
    for amount in payments:
        if 0 < amount <= due:
            _pay(api, rng, invoice_path, amount)
    return Issued(book.organisation_id, draft["id"], finalized["number"], email, sent=True)


def _pay(api: Api, rng: random.Random, invoice_path: str, amount: int) -> None:
    key = uuid.uuid4().hex
    body = {
        "amount": amount,
        "method": rng.choice(("bank_transfer", "cheque", "cash")),
        "reference": key[:12],
    }
    payment = api.call("record payment", "POST", f"{invoice_path}/payments", body, 201, idempotency_key=key)
    if rng.random() < 0.2:  # the client lost the answer and sends the same request again
        again = api.call("replay payment", "POST", f"{invoice_path}/payments", body, 201, idempotency_key=key)
        if again["id"] != payment["id"]:
            raise IterationFailed(f"a replayed payment recorded another payment: {again['id']}")


Check = tuple[str, bool, str]  # what, held, detail


def _check_books(api: Api, books: list[Book], issued: list[Issued]) -> list[Check]:
    numbering, sums, balances = [], [], []
    invoices_by_id: dict[str, dict[str, Any]] = {}
    for book in books:
        base = f"/v1/organisations/{book.organisation_id}"
        invoices = api.every(f"{base}/invoices")
        invoices_by_id |= {invoice["id"]: invoice for invoice in invoices}
        numbering += numbering_problems(book, invoices)
        paid: Counter[str] = Counter()
        for payment in api.every(f"{base}/payments"):
            if payment["status"] == "succeeded":
                paid[payment["invoice_id"]] += payment["amount"]
        for invoice in invoices:
            if invoice["amount_paid"] != paid[invoice["id"]]:
                sums.append(
                    f"{invoice['id']}: amount_paid {invoice['amount_paid']}, payments {paid[invoice['id']]}"
                )
            expected_due = invoice["total"] - invoice["amount_paid"] - invoice["credit_applied"]
            if invoice["amount_due"] != expected_due:
                sums.append(f"{invoice['id']}: amount_due {invoice['amount_due']}, expected {expected_due}")
            if invoice["status"] == "paid" and invoice["amount_due"] != 0:
                sums.append(f"{invoice['id']}: paid with {invoice['amount_due']} still due")
        for customer_id in book.setup_customers:
            applied = sum(i["credit_applied"] for i in invoices if i["customer_id"] == customer_id)
            balance = api.call("list (checks)", "GET", f"{base}/customers/{customer_id}")["balance"]
            if balance != SETUP_CREDIT - applied:
                balances.append(
                    f"{customer_id}: balance {balance}, credit {SETUP_CREDIT} less {applied} applied"
                )
    for invoice in issued:
        listed = invoices_by_id.get(invoice.invoice_id)
        if listed is None or listed["number"] != invoice.number:
            numbering.append(
                f"{invoice.invoice_id}: answered {invoice.number}, listed {listed and listed['number']}"
            )
    missing = _emails_missing(api, [invoice for invoice in issued if invoice.sent])
    sent_count = sum(invoice.sent for invoice in issued)
    return [
        ("numbering gapless, no duplicates, as answered", not numbering, "; ".join(numbering[:5])),
        ("amount_paid = payments, amount_due = total - paid - credit", not sums, "; ".join(sums[:5])),
        ("balances = credit - credit applied", not balances, "; ".join(balances[:5])),
        (f"{sent_count} sent invoices' emails in the outbox", not missing, "; ".join(missing[:5])),
    ]


def numbering_problems(book: Book, invoices: list[dict[str, Any]]) -> list[str]:
    """What is wrong with the organisation's numbers: each one not of its prefix, duplicates, gaps."""
    numbers = [invoice["number"] for invoice in invoices if invoice["number"] is not None]
    problems = [f"{number}: not {book.prefix}<n>" for number in numbers if not number.startswith(book.prefix)]
    sequence = sorted(
        int(number.removeprefix(book.prefix)) for number in numbers if number.startswith(book.prefix)
    )
    duplicates = sorted(n for n, count in Counter(sequence).items() if count > 1)
    if duplicates:
        problems.append(f"{book.organisation_id}: duplicate numbers {duplicates[:10]}")
    gaps = sorted(set(range(1, len(sequence) + 1)) - set(sequence))
    if gaps:
        problems.append(f"{book.organisation_id}: {len(sequence)} numbers, missing {gaps[:10]}")
    return problems


def _emails_missing(api: Api, sent: list[Issued]) -> list[str]:
    """Sent invoices whose email has not reached the outbox (delivery is asynchronous: polled)."""
    deadline = time.monotonic() + OUTBOX_WAIT_SECONDS
    while True:
        outbox = api.call("list (checks)", "GET", "/_dev/outbox")
        delivered = {
            (address, email["subject"].split(" from ", 1)[0].removeprefix("Invoice "))
            for email in outbox
            if email["subject"].startswith("Invoice ")
            for address in email["to"]
        }
        missing = [
            f"{invoice.number} to {invoice.customer_email}"
            for invoice in sent
            if (invoice.customer_email, invoice.number) not in delivered
        ]
        if not missing or time.monotonic() > deadline:
            return missing
        time.sleep(1)


def _report(figures: Figures, elapsed: float, iterations: int, checks: list[Check]) -> None:
    print(f"\n{iterations} iterations in {elapsed:.1f} s; latency in ms")
    print(f"{'operation':<16} {'requests':>8} {'req/s':>7} {'p50':>8} {'p99':>8} {'retries':>8}")
    total = 0
    for operation, samples in figures.latencies_ms.items():
        if operation in ("set up", "open account", "list (checks)"):
            continue
        total += len(samples)
        p50, p99 = percentile(samples, 0.5), percentile(samples, 0.99)
        print(
            f"{operation:<16} {len(samples):>8} {len(samples) / elapsed:>7.1f} "
            f"{p50:>8.1f} {p99:>8.1f} {figures.retries[operation]:>8}"
        )
    print(f"{'all':<16} {total:>8} {total / elapsed:>7.1f}")
    print(f"\nerrors: {len(figures.errors)}")
    for error in figures.errors[:10]:
        print(f"  {error}")
    print("invariants:")
    for what, held, detail in checks:
        print(f"  {'held  ' if held else 'BROKEN'} {what}" + ("" if held else f": {detail}"))
    if all(held for _, held, _ in checks):
        print("all invariants held")

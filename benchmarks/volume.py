"""Volume: a business's books loaded into `make run`, to see that nothing costs more as data grows.

Starts the local stack as `make run` does (its own process, a fresh data directory), then loads
invoices through Remit's real services against the stack's AWS emulation: several organisations
and customers, one to five lines each, most finalized, some paid (each payment sends a receipt
through the outbox, rendered by the notifications function in the stack), each with its timeline.
After every tenth of the load it also times API requests through the stack's HTTP front (a draft
created, a page of open invoices, one invoice), reads the stack's resident memory, and collects
how long the stack's saves to `.local/` took.

Prints, per tenth: write latency p50/p99 (create draft, finalize, payment), API request latency,
RSS, and save time; then the last tenth against the first (target: within 1.5x) and the RSS
against its 1 GB target. Figures only: nothing here passes or fails on timing.

    python -m benchmarks volume [--invoices 50000] [--organisations 5] [--customers 40]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent
TENTHS = 10
RATIO_TARGET = 1.5
RSS_TARGET_MB = 1024
_BANNER = re.compile(r"^\s+(API|AWS)\s+(\S+)", re.MULTILINE)
_SAVED = re.compile(r"saved (\d+) items, (\d+) objects in (\d+) ms")


@dataclass
class Tenth:
    writes: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    requests: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    rss_mb: float = 0.0
    saves_ms: list[int] = field(default_factory=list)
    saved_items: int = 0


class Stack:
    """`python -m local` in its own process, on free ports, with a data directory of its own."""

    def __init__(self, data_dir: Path) -> None:
        self.log_path = data_dir.parent / "stack.log"
        self._log = self.log_path.open("w")
        environment = os.environ | {
            "PORT": "0",
            "REMIT_LOCAL_DIR": str(data_dir),
            "REMIT_LOCAL_LOG_LEVEL": "DEBUG",
            "PYTHONPATH": "functions",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local"],
            cwd=REPOSITORY,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        self.api_url, self.aws_url = self._wait_for_banner()
        self._log_position = 0
        # Whatever the stack prints after its banner goes to the log: a full pipe would stall it.
        self._copying = threading.Thread(target=self._copy_output_to_log, daemon=True)
        self._copying.start()

    def _wait_for_banner(self) -> tuple[str, str]:
        if self.process.stdout is None:
            raise RuntimeError("the local stack's output is not captured")
        seen = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"the local stack exited; see {self.log_path}")
            seen += line
            found = dict(_BANNER.findall(seen))
            if "API" in found and "AWS" in found:
                return found["API"], found["AWS"]
        raise RuntimeError("the local stack did not start within 60 s")

    def _copy_output_to_log(self) -> None:
        if self.process.stdout is None:
            return
        for line in self.process.stdout:
            self._log.write(line)
            self._log.flush()

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def new_saves(self) -> list[tuple[int, int]]:
        """(items saved, milliseconds) of every save the stack logged since the last call."""
        text = self.log_path.read_text(errors="replace")
        fresh, self._log_position = text[self._log_position :], len(text)
        return [(int(items), int(ms)) for items, _, ms in _SAVED.findall(fresh)]

    def stop(self) -> float:
        """Stop as Ctrl-C does; returns the seconds it took (the final save included)."""
        started = time.perf_counter()
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=120)
        self._copying.join(timeout=10)
        self._log.close()
        return time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed(samples: list[float], call: Callable[..., Any], *args: Any) -> Any:
    started = time.perf_counter()
    result = call(*args)
    samples.append((time.perf_counter() - started) * 1000)
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks volume", description=__doc__)
    parser.add_argument("--invoices", type=int, default=50_000)
    parser.add_argument("--organisations", type=int, default=5)
    parser.add_argument("--customers", type=int, default=40, help="per organisation")
    parser.add_argument("--pay-every", type=int, default=50, help="one finalized invoice in N is paid")
    args, _ = parser.parse_known_args(argv)

    workspace = Path(tempfile.mkdtemp(prefix="remit-volume-"))
    stack = Stack(workspace / "data")
    try:
        return _run(args, stack)
    finally:
        if stack.process.poll() is None:
            stack.process.kill()
        shutil.rmtree(workspace, ignore_errors=True)


def _run(args: argparse.Namespace, stack: Stack) -> int:
    import requests

    from local.environment import export_remit_environment

    export_remit_environment(stack.aws_url, public_base_url=stack.api_url)
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    from remit.bootstrap import services
    from remit.domain.customer import NewCustomer
    from remit.domain.invoice import LineItemInput, NewInvoice
    from remit.domain.organisation import NewOrganisation
    from remit.domain.payment import NewOfflinePayment

    rng = random.Random(50_000)  # noqa: S311 - test data, not security
    issued = services().accounts.create_account("Volume benchmark")
    account = issued.account_id
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {issued.api_key}"
    books: list[tuple[str, list[str]]] = []
    for number in range(args.organisations):
        organisation = services().organisations.create(
            account,
            NewOrganisation(name=f"Company {number}", default_currency=("EUR", "USD", "GBP")[number % 3]),
        )
        customers = [
            services()
            .customers.create(
                account,
                organisation.id,
                NewCustomer(name=f"Customer {index}", email=f"ap{index}@c{number}.test"),
            )
            .id
            for index in range(args.customers)
        ]
        books.append((organisation.id, customers))

    print(
        f"loading {args.invoices:,} invoices into the local stack: {args.organisations} organisations, "
        f"{args.customers} customers each; {stack.api_url}",
        flush=True,
    )
    tenths = [Tenth() for _ in range(TENTHS)]
    per_tenth = max(1, args.invoices // TENTHS)
    started = time.perf_counter()
    for index in range(args.invoices):
        tenth = tenths[min(index // per_tenth, TENTHS - 1)]
        organisation_id, customers = books[index % len(books)]
        lines = [
            LineItemInput(
                description=f"Service {rng.randrange(1000)}",
                quantity=rng.choice(("1", "2", "0.5", "12")),
                unit_amount=rng.randrange(100, 100_000),
                tax_rate=rng.choice(("0", "7", "20")),
            )
            for _ in range(rng.randint(1, 5))
        ]
        new = NewInvoice(
            customer_id=rng.choice(customers), line_items=lines, memo="Thank you for your business"
        )
        draft = timed(
            tenth.writes["create draft"], services().invoices.create_draft, account, organisation_id, new
        )
        if index % 10 < 8:
            finalize = services().invoice_lifecycle.finalize
            invoice = timed(
                tenth.writes["finalize"], finalize, account, organisation_id, draft.id, stack.api_url
            )
            if index % args.pay_every == 0 and invoice.amount_due > 0:
                payment = NewOfflinePayment(
                    amount=invoice.amount_due, method="bank_transfer", reference="volume"
                )
                pay = services().payments.record_offline_payment
                timed(tenth.writes["payment"], pay, account, organisation_id, invoice.id, payment)
        if (index + 1) % per_tenth == 0 or index + 1 == args.invoices:
            _sample_requests(http, stack, tenth, organisation_id, books[index % len(books)][1][0])
            elapsed = time.perf_counter() - started
            medians = ", ".join(
                f"{name} {statistics.median(samples):.1f}"
                for name, samples in (tenth.writes | tenth.requests).items()
                if samples
            )
            print(
                f"  {index + 1:>7,} invoices loaded in {elapsed:,.0f} s; stack RSS {tenth.rss_mb:,.0f} MB; "
                f"p50 ms: {medians}",
                flush=True,
            )

    time.sleep(2)  # the last autosave
    tenths[-1].saves_ms += [ms for _, ms in stack.new_saves()]
    stop_seconds = stack.stop()
    data_mb = (
        sum(path.stat().st_size for path in (stack.log_path.parent / "data").glob("remit.sqlite3*")) / 1e6
    )
    _report(args, tenths, stop_seconds, data_mb)
    return 0


def _sample_requests(http: Any, stack: Stack, tenth: Tenth, organisation_id: str, customer_id: str) -> None:
    base = f"{stack.api_url}/v1/organisations/{organisation_id}"
    body = {"customer_id": customer_id, "line_items": [{"description": "Sampled", "unit_amount": 1000}]}
    for _ in range(20):
        created = timed(tenth.requests["POST invoice"], lambda: http.post(f"{base}/invoices", json=body))
        created.raise_for_status()
        invoice_id = created.json()["id"]
        timed(tenth.requests["GET invoice"], http.get, f"{base}/invoices/{invoice_id}").raise_for_status()
        timed(
            tenth.requests["GET open invoices"],
            lambda: http.get(f"{base}/invoices", params={"status": "open"}),
        ).raise_for_status()
    tenth.rss_mb = stack.rss_mb()
    for items, ms in stack.new_saves():
        tenth.saves_ms.append(ms)
        tenth.saved_items += items


def _report(args: argparse.Namespace, tenths: list[Tenth], stop_seconds: float, data_mb: float) -> None:
    names = list(tenths[0].writes) + list(tenths[0].requests)
    print(f"\nvolume: {args.invoices:,} invoices; latency in ms as p50/p99 per tenth of the load")
    header = (
        f"{'tenth':>5}  "
        + "  ".join(f"{name:>18}" for name in names)
        + f"  {'RSS MB':>7}  {'save ms p50/max':>15}"
    )
    print(header)
    for number, tenth in enumerate(tenths, start=1):
        samples = tenth.writes | tenth.requests
        cells = [
            f"{percentile(samples[name], 0.5):>8.1f}/{percentile(samples[name], 0.99):<9.1f}"
            for name in names
        ]
        saves = f"{percentile(tenth.saves_ms, 0.5):.0f}/{max(tenth.saves_ms, default=0)}"
        print(f"{number:>5}  " + "  ".join(cells) + f"  {tenth.rss_mb:>7.0f}  {saves:>15}")
    print("\nlast tenth against the first (p50), target at most 1.5x:")
    for name in names:
        first = statistics.median((tenths[0].writes | tenths[0].requests)[name])
        last = statistics.median((tenths[-1].writes | tenths[-1].requests)[name])
        verdict = "within" if last <= RATIO_TARGET * first else "OVER"
        print(f"  {name:<18} {first:7.1f} -> {last:7.1f} ms  {last / first:4.2f}x  ({verdict} target)")
    peak = max(tenth.rss_mb for tenth in tenths)
    verdict = "within" if peak <= RSS_TARGET_MB else "OVER"
    print(f"  stack RSS peak {peak:,.0f} MB ({verdict} the {RSS_TARGET_MB} MB target)")
    print(f"  stopping the stack (final save included): {stop_seconds:.1f} s; data on disk {data_mb:,.0f} MB")

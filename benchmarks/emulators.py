"""DynamoDB emulators compared on one workload, over the DynamoDB API with boto3 (issue 8).

Each candidate runs as its own server process on a free loopback port:

* `moto`: moto 5.2.5 as pinned, stock, in `ThreadedMotoServer`;
* `moto-patched`: the same server after `local.moto_patches.install()` (undo log instead of the
  whole-table backup, queries that walk only what they return), when that module exists;
* `dynalite`: the npm package, a Node emulator on LevelDB (in memory), installed by
  `make bench-emulators` into the git-ignored `.bench/`.

Every candidate gets a table shaped like Remit's billing table (PK/SK strings, GSI1 on
GSI1PK/GSI1SK, streams with new and old images, a TTL attribute), created from `template.yaml`
when the candidate accepts it, and pre-loaded with BatchWriteItem to each table size, spread
across a few organisations (partitions) and their customers (GSI1 partitions). At each size it
times, per operation: (a) PutItem, (b) a 2-item TransactWriteItems whose puts carry
`attribute_not_exists(PK)`, (c) the same transaction cancelled (one condition fails),
(d) a Query of one partition with `begins_with(SK, :prefix)` and Limit 20, (e) a GSI1 Query with
Limit 20, (f) GetItem. Latency is measured in this process around the boto3 call (so it includes
the client's serialisation and the loopback HTTP round trip, the same for every candidate).

Candidates are interleaved: each round visits every candidate in turn (rotating the order), so
noise from other processes on the machine spreads over all of them; figures are the median and
p99 of all samples. Slow operations get fewer repetitions per round (a time budget), never none.
Before timing, each candidate is probed for the behaviours Remit relies on. Figures only: this
never fails on timing.

    python -m benchmarks emulators [--sizes 0,1000,2000,5000,10000] [--rounds 5] [--candidates …]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / ".bench"
DYNALITE_CLI = BENCH_DIR / "node_modules" / "dynalite" / "cli.js"
DUMMY_CREDENTIAL = "testing"
HOST = "127.0.0.1"
REGION = "eu-west-1"
TABLE = "remit-billing"
GSI = "GSI1"
CUSTOMERS_PER_PARTITION = 25

CANDIDATES = ("moto", "moto-patched", "dynalite")
OPERATIONS = {
    "put": "(a) PutItem",
    "transact": "(b) TransactWriteItems, 2 puts with attribute_not_exists(PK)",
    "cancelled": "(c) TransactWriteItems cancelled (a condition fails)",
    "query": "(d) Query one partition, begins_with(SK), Limit 20",
    "gsi_query": "(e) Query GSI1, Limit 20",
    "get": "(f) GetItem",
}


# --- Servers ------------------------------------------------------------------------------------


def serve(variant: str) -> int:
    """Run a moto server (in a child process): print `PORT n`, serve until stdin closes."""
    if variant == "moto-patched":
        if importlib.util.find_spec("local.moto_patches") is None:
            print("UNAVAILABLE local/moto_patches.py does not exist on this branch yet", flush=True)
            return 0
        from local import moto_patches  # type: ignore[attr-defined,unused-ignore]

        moto_patches.install()
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    print(f"PORT {port}", flush=True)
    sys.stdin.read()  # the parent closes our stdin (or dies) when it is done
    server.stop()
    return 0


@dataclass
class Server:
    name: str
    description: str
    process: subprocess.Popen[str]
    endpoint: str

    def rss_mb(self) -> float | None:
        """The server process's resident memory, from /proc (None where there is no /proc)."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text(encoding="ascii")
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return None

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_listening(endpoint: str, process: subprocess.Popen[str], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with status {process.returncode}")
        try:
            urllib.request.urlopen(endpoint, timeout=1).close()  # noqa: S310 (loopback only)
            return
        except urllib.error.HTTPError:
            return  # it answered, if only to refuse an unsigned GET
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"not listening on {endpoint} after {seconds:.0f} s")


def start_moto(variant: str) -> Server | str:
    """Start moto (stock or patched) in a fresh interpreter: patched and stock never share one."""
    import moto

    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.emulators", "--serve", variant],
        cwd=REPO,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    if process.stdout is None:
        raise RuntimeError("no pipe to the server's stdout")
    line = process.stdout.readline().strip()
    if not line.startswith("PORT "):
        process.wait(timeout=30)
        return line.removeprefix("UNAVAILABLE ") or f"the server exited with status {process.returncode}"
    description = f"moto {moto.__version__}, ThreadedMotoServer" + (
        " + local.moto_patches" if variant == "moto-patched" else ", stock"
    )
    return Server(variant, description, process, f"http://{HOST}:{line.split()[1]}")


def start_dynalite() -> Server | str:
    if not DYNALITE_CLI.exists():
        return f"not installed (no {DYNALITE_CLI.relative_to(REPO)}): `make bench-emulators` installs it"
    version = json.loads((DYNALITE_CLI.parent / "package.json").read_text(encoding="utf-8"))["version"]
    node_binary = shutil.which("node")
    if node_binary is None:
        return "Node.js is not on PATH"
    node = subprocess.run(
        [node_binary, "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    port = _free_port()
    process = subprocess.Popen(
        # Tables are ACTIVE at once (the default keeps them CREATING for 500 ms).
        [node_binary, str(DYNALITE_CLI), "--host", HOST, "--port", str(port), "--createTableMs", "0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    endpoint = f"http://{HOST}:{port}"
    try:
        _wait_until_listening(endpoint, process)
    except RuntimeError as error:
        process.kill()
        return f"did not start: {error}"
    return Server("dynalite", f"dynalite {version} (in-memory LevelDB), Node {node}", process, endpoint)


STARTERS: dict[str, Callable[[], Server | str]] = {
    "moto": lambda: start_moto("moto"),
    "moto-patched": lambda: start_moto("moto-patched"),
    "dynalite": start_dynalite,
}


# --- The table and its items --------------------------------------------------------------------


def client_for(endpoint: str, service: str = "dynamodb") -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=DUMMY_CREDENTIAL,
        aws_secret_access_key=DUMMY_CREDENTIAL,
        # No retries: a retried call would hide a failure and double a latency.
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=300),
    )


def create_table(client: Any) -> list[str]:
    """Create the billing table from `template.yaml`; return what the candidate refused on the way."""
    from botocore.exceptions import ClientError

    from local.cloudformation import create_tables, table_definitions

    refused: list[str] = []
    try:
        create_tables(client, {"BillingTable": TABLE})
    except ClientError as error:
        refused.append(f"template's table: {_error_text(error)}")
        if TABLE not in client.list_tables()["TableNames"]:
            properties = table_definitions()["BillingTable"]
            keys = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
            client.create_table(TableName=TABLE, **{key: properties[key] for key in keys})
    for _ in range(100):
        if client.describe_table(TableName=TABLE)["Table"]["TableStatus"] == "ACTIVE":
            break
        time.sleep(0.05)
    return refused


def _error_text(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        details = response.get("Error", {})
        return f"{details.get('Code', '?')}: {details.get('Message', '')}".strip()
    return f"{type(error).__name__}: {error}"


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def invoice_item(index: int, partitions: int) -> dict[str, Any]:
    """An item about the size and shape of a Remit invoice (about 700 bytes)."""
    partition = index % partitions
    customer = (index // partitions) % CUSTOMERS_PER_PARTITION
    invoice = f"inv_{index:08d}"
    lines = [
        {
            "M": {
                "description": _s(f"Consulting, week {week}"),
                "quantity": {"N": str(week + 1)},
                "unit_amount": {"N": "12500"},
                "tax_rate": {"N": "0.2"},
            }
        }
        for week in range(3)
    ]
    return {
        "PK": _s(f"ORG#org_{partition}"),
        "SK": _s(f"INVOICE#{invoice}"),
        "GSI1PK": _s(f"ORG#org_{partition}#CUSTOMER#cus_{customer}"),
        "GSI1SK": _s(f"INVOICE#{invoice}"),
        "type": _s("invoice"),
        "id": _s(invoice),
        "status": _s(("draft", "open", "paid")[index % 3]),
        "currency": _s("EUR"),
        "total": {"N": str(90000 + index % 1000)},
        "customer_name": _s(f"Customer {customer} Ltd"),
        "created_at": _s("2026-11-30T12:00:00Z"),
        "line_items": {"L": lines},
        "version": {"N": "1"},
    }


def load(client: Any, start: int, stop: int, partitions: int) -> None:
    """BatchWriteItem items [start, stop), 25 at a time, resending what comes back unprocessed."""
    for first in range(start, stop, 25):
        requests = [
            {"PutRequest": {"Item": invoice_item(i, partitions)}} for i in range(first, min(first + 25, stop))
        ]
        pending: dict[str, Any] = {TABLE: requests}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


# --- What each candidate supports ---------------------------------------------------------------


def probe(server: Server, client: Any, refused: list[str]) -> dict[str, str]:
    """Try each behaviour Remit relies on; return `{behaviour: what happened}`."""
    from botocore.exceptions import ClientError

    found: dict[str, str] = {}

    def attempt(name: str, action: Callable[[], str]) -> None:
        try:
            found[name] = action()
        except ClientError as error:
            found[name] = f"no: {_error_text(error)}"
        except Exception as error:  # an emulator may fail in any way: record it
            found[name] = f"no: {type(error).__name__}: {error}"

    pk = _s("PROBE#p")
    gsi_pk = _s("PROBE#gsi")

    def put(sk: str) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": TABLE,
                "Item": {"PK": pk, "SK": _s(sk), "GSI1PK": gsi_pk, "GSI1SK": _s(sk)},
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }

    def exists(sk: str) -> bool:
        return "Item" in client.get_item(TableName=TABLE, Key={"PK": pk, "SK": _s(sk)}, ConsistentRead=True)

    def transaction() -> str:
        client.transact_write_items(TransactItems=[put("A"), put("B")])
        return "yes" if exists("A") and exists("B") else "no: answered OK but did not write both items"

    def cancelled() -> str:
        try:
            client.transact_write_items(TransactItems=[put("A"), put("C")])
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code != "TransactionCanceledException":
                raise
            reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
            atomic = "nothing written" if not exists("C") else "BUT the other put was written"
            return f"yes: {code}, CancellationReasons {reasons}, {atomic}"
        return "no: the transaction succeeded although a condition failed"

    def update_and_check() -> str:
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"PK": pk, "SK": _s("A")},
                        "UpdateExpression": "SET amount = if_not_exists(amount, :zero) + :one",
                        "ConditionExpression": "attribute_exists(PK)",
                        "ExpressionAttributeValues": {":zero": {"N": "0"}, ":one": {"N": "1"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": {"PK": pk, "SK": _s("B")},
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
            ]
        )
        item = client.get_item(TableName=TABLE, Key={"PK": pk, "SK": _s("A")}, ConsistentRead=True)["Item"]
        return "yes" if item.get("amount") == {"N": "1"} else f"no: item is {item}"

    def gsi() -> str:
        client.put_item(TableName=TABLE, Item={"PK": pk, "SK": _s("G"), "GSI1PK": gsi_pk, "GSI1SK": _s("G")})
        items = client.query(
            TableName=TABLE,
            IndexName=GSI,
            KeyConditionExpression="GSI1PK = :pk AND begins_with(GSI1SK, :prefix)",
            ExpressionAttributeValues={":pk": gsi_pk, ":prefix": _s("G")},
        )["Items"]
        return "yes" if len(items) == 1 else f"no: {len(items)} items found"

    def limit() -> str:
        page = client.query(
            TableName=TABLE, KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": pk}, Limit=1
        )
        return "yes" if len(page["Items"]) == 1 and "LastEvaluatedKey" in page else f"no: {page}"

    def streams() -> str:
        table = client.describe_table(TableName=TABLE)["Table"]
        arn = table.get("LatestStreamArn")
        if not arn:
            return "no: the table has no stream (StreamSpecification refused or ignored)"
        streams_client = client_for(server.endpoint, "dynamodbstreams")
        shards = streams_client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        records = 0
        images = set()
        for shard in shards:
            iterator = streams_client.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            for record in streams_client.get_records(ShardIterator=iterator)["Records"]:
                records += 1
                images |= {key for key in ("NewImage", "OldImage") if key in record["dynamodb"]}
        if not records:
            return "no: the stream exists but GetRecords returned nothing"
        view = table["StreamSpecification"]["StreamViewType"]
        return f"yes: {records} records, {view}, images {sorted(images)}"

    def ttl() -> str:
        # The billing table has none in the template; the idempotency table's is the same call.
        client.update_time_to_live(
            TableName=TABLE, TimeToLiveSpecification={"AttributeName": "expires_at", "Enabled": True}
        )
        description = client.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
        if description.get("TimeToLiveStatus") != "ENABLED":
            return f"no: TimeToLiveStatus {description.get('TimeToLiveStatus')}"
        return f"setting kept ({description.get('AttributeName')}); expiry not probed"

    attempt("TransactWriteItems, conditional puts", transaction)
    attempt("cancelled transaction, CancellationReasons", cancelled)
    attempt("transaction with Update and ConditionCheck", update_and_check)
    attempt("GSI query", gsi)
    attempt("Query Limit, LastEvaluatedKey", limit)
    attempt("streams (NEW_AND_OLD_IMAGES)", streams)
    attempt("TTL (UpdateTimeToLive)", ttl)
    if refused:
        found["table from template.yaml"] = "no: " + "; ".join(refused)
    else:
        found["table from template.yaml"] = "yes"
    for sk in ("A", "B", "C", "G"):
        client.delete_item(TableName=TABLE, Key={"PK": pk, "SK": _s(sk)})
    return found


# --- The timed operations -----------------------------------------------------------------------


@dataclass
class Candidate:
    server: Server
    client: Any
    partitions: int
    loaded: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(8))  # noqa: S311 (a repeatable key sequence)
    written: int = 0
    samples: dict[tuple[int, str], list[float]] = field(default_factory=dict)
    unsupported: dict[str, str] = field(default_factory=dict)
    load_seconds: dict[int, float] = field(default_factory=dict)
    rss_mb: dict[int, float | None] = field(default_factory=dict)

    def _new_key(self) -> dict[str, Any]:
        self.written += 1
        return {"PK": _s("BENCH#writes"), "SK": _s(f"W#{self.written:08d}")}

    def _existing_key(self) -> dict[str, Any]:
        index = self.rng.randrange(max(self.loaded, 1))
        return {
            key: value for key, value in invoice_item(index, self.partitions).items() if key in ("PK", "SK")
        }

    def _conditional_put(self, key: dict[str, Any]) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": TABLE,
                "Item": {**key, "status": _s("draft"), "total": {"N": "100"}},
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }

    def operation(self, name: str) -> Callable[[], Any]:
        """A call of operation `name` with fresh arguments (drawn before the clock starts)."""
        client = self.client
        if name == "put":
            item = {**self._new_key(), "status": _s("draft"), "total": {"N": "100"}}
            return lambda: client.put_item(TableName=TABLE, Item=item)
        if name == "transact":
            items = [self._conditional_put(self._new_key()), self._conditional_put(self._new_key())]
            return lambda: client.transact_write_items(TransactItems=items)
        if name == "cancelled":
            # The first put names an item that exists (at size 0, one this run wrote): it fails.
            existing = (
                self._existing_key() if self.loaded else {"PK": _s("BENCH#writes"), "SK": _s("W#00000001")}
            )
            items = [self._conditional_put(existing), self._conditional_put(self._new_key())]
            self.written -= 1  # the cancelled put writes nothing: its key stays free

            def cancel() -> None:
                try:
                    client.transact_write_items(TransactItems=items)
                except client.exceptions.TransactionCanceledException:
                    return
                raise RuntimeError("the transaction was not cancelled")

            return cancel
        if name == "query":
            partition = f"ORG#org_{self.rng.randrange(self.partitions)}"
            return lambda: client.query(
                TableName=TABLE,
                KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
                ExpressionAttributeValues={":pk": _s(partition), ":prefix": _s("INVOICE#")},
                Limit=20,
            )
        if name == "gsi_query":
            partition = self.rng.randrange(self.partitions)
            customer = self.rng.randrange(CUSTOMERS_PER_PARTITION)
            return lambda: client.query(
                TableName=TABLE,
                IndexName=GSI,
                KeyConditionExpression="GSI1PK = :pk",
                ExpressionAttributeValues={":pk": _s(f"ORG#org_{partition}#CUSTOMER#cus_{customer}")},
                Limit=20,
            )
        if name == "get":
            key = self._existing_key()
            return lambda: client.get_item(TableName=TABLE, Key=key)
        raise ValueError(name)

    def time_once(self, size: int, name: str) -> float | None:
        """Time one call; None (and the operation marked unsupported) when the candidate refuses it."""
        if name in self.unsupported:
            return None
        call = self.operation(name)
        started = time.perf_counter()
        try:
            call()
        except Exception as error:  # recorded; the operation is skipped from then on
            self.unsupported[name] = _error_text(error)
            return None
        elapsed = time.perf_counter() - started
        self.samples.setdefault((size, name), []).append(elapsed)
        return elapsed


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (with fewer than 100 samples, p99 is the slowest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def measure_size(
    candidates: list[Candidate], size: int, rounds: int, reps: int, budget: float, slow: float
) -> None:
    """Interleave the candidates: each round, each candidate (rotating order) runs every operation."""
    per_round: dict[tuple[str, str], int] = {}
    extra_slow_calls: dict[tuple[str, str], int] = {}
    for candidate in candidates:
        for name in OPERATIONS:
            # A warm-up call sizes the repetitions to the round's time budget. It is dropped, unless
            # the call is so slow (seconds) that it is kept and followed by one more call only.
            warm = candidate.time_once(size, name)
            if warm is None:
                continue
            if warm >= slow:
                extra_slow_calls[(candidate.server.name, name)] = 1
            else:
                candidate.samples[(size, name)].pop()
                per_round[(candidate.server.name, name)] = max(1, min(reps, int(budget / max(warm, 1e-6))))
    for round_number in range(rounds):
        shift = round_number % len(candidates)
        for candidate in candidates[shift:] + candidates[:shift]:
            for name in OPERATIONS:
                key = (candidate.server.name, name)
                if extra_slow_calls.get(key):
                    extra_slow_calls[key] -= 1
                    candidate.time_once(size, name)
                    continue
                for _ in range(per_round.get(key, 0)):
                    if candidate.time_once(size, name) is None:
                        break
                samples = candidate.samples.get((size, name))
                if samples and key in per_round:
                    typical = statistics.median(samples)
                    per_round[key] = max(1, min(reps, int(budget / max(typical, 1e-6))))


# --- Report -------------------------------------------------------------------------------------


def _cell(samples: list[float] | None) -> str:
    if not samples:
        return "n/a"
    median = statistics.median(samples) * 1000
    p99 = percentile(samples, 0.99) * 1000
    return f"{median:.1f} / {p99:.1f} ({len(samples)})"


def report(candidates: list[Candidate], sizes: list[int], support: dict[str, dict[str, str]]) -> None:
    print("\n### Behaviours Remit relies on\n")
    behaviours = list(next(iter(support.values())))
    names = [candidate.server.name for candidate in candidates]
    print("| behaviour | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for behaviour in behaviours:
        print(f"| {behaviour} | " + " | ".join(support[name].get(behaviour, "?") for name in names) + " |")

    print("\n### Latency per operation: median / p99 ms (samples), by items pre-loaded\n")
    for name, title in OPERATIONS.items():
        print(f"{title}\n")
        print("| candidate | " + " | ".join(f"{size:,}" for size in sizes) + " |")
        print("|---|" + "---:|" * len(sizes))
        for candidate in candidates:
            if name in candidate.unsupported:
                cells = [f"unsupported: {candidate.unsupported[name]}"] + [""] * (len(sizes) - 1)
            else:
                cells = [_cell(candidate.samples.get((size, name))) for size in sizes]
            print(f"| {candidate.server.name} | " + " | ".join(cells) + " |")
        print()

    print("### Loading (BatchWriteItem, 25 a call) and the server's memory\n")
    print("| candidate | " + " | ".join(f"{size:,}" for size in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    for candidate in candidates:
        cells = []
        for size in sizes:
            seconds = candidate.load_seconds.get(size)
            rss = candidate.rss_mb.get(size)
            load_text = f"{seconds:.1f} s" if seconds is not None else "-"
            rss_text = f"{rss:.0f} MB" if rss is not None else "?"
            cells.append(f"{load_text}, RSS {rss_text}")
        print(f"| {candidate.server.name} | " + " | ".join(cells) + " |")


# --- Entry point --------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks emulators",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", default="0,1000,2000,5000,10000", help="items pre-loaded, ascending")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per table size")
    parser.add_argument("--reps", type=int, default=10, help="most calls of one operation per round")
    parser.add_argument("--budget", type=float, default=1.0, help="seconds one operation may take per round")
    parser.add_argument(
        "--slow",
        type=float,
        default=5.0,
        help="a call this slow (s) is sampled twice per size, not per round",
    )
    parser.add_argument("--partitions", type=int, default=4, help="organisations the items are spread across")
    parser.add_argument("--candidates", default=",".join(CANDIDATES), help=f"among {', '.join(CANDIDATES)}")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args.serve)
    sizes = sorted({int(size) for size in args.sizes.split(",")})
    names = [name.strip() for name in args.candidates.split(",") if name.strip()]
    unknown = [name for name in names if name not in STARTERS]
    if unknown:
        parser.error(f"unknown candidate(s): {', '.join(unknown)}")

    print(f"machine: {os.cpu_count()} CPUs (shared with whatever else runs: figures are noisy)")
    print(
        f"workload: sizes {sizes}, {args.partitions} partitions x {CUSTOMERS_PER_PARTITION} customers,",
        end=" ",
    )
    print(f"{args.rounds} interleaved rounds, up to {args.reps} calls per operation per round")
    servers: list[Server] = []
    candidates: list[Candidate] = []
    support: dict[str, dict[str, str]] = {}
    try:
        for name in names:
            started = STARTERS[name]()
            if isinstance(started, str):
                print(f"{name}: not measured: {started}")
                continue
            servers.append(started)
            print(f"{name}: {started.description} at {started.endpoint}")
            client = client_for(started.endpoint)
            refused = create_table(client)
            support[name] = probe(started, client, refused)
            candidates.append(Candidate(started, client, args.partitions))
        if not candidates:
            print("no candidate could be started: nothing measured", file=sys.stderr)
            return 1
        for size in sizes:
            for candidate in candidates:
                started_at = time.perf_counter()
                load(candidate.client, candidate.loaded, size, args.partitions)
                candidate.load_seconds[size] = time.perf_counter() - started_at
                candidate.loaded = size
                candidate.rss_mb[size] = candidate.server.rss_mb()
            measure_size(candidates, size, args.rounds, args.reps, args.budget, args.slow)
            print(f"  measured at {size:,} items", flush=True)
    finally:
        for server in servers:
            server.stop()
    report(candidates, sizes, support)
    written = max(candidate.written for candidate in candidates)
    print(f"\n(The timed writes add {written:,} items of their own, in one partition, on top of the sizes.)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Saving the emulation's data while the stack runs: between requests, about once a second after a change.

A save writes the items a request changed; taking it while a request is half-way through its
writes could save half a request. `RequestGate` lets requests run together but makes a save wait
for them to finish, and makes new ones wait for the save.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from local.journal import SaveSummary

logger = logging.getLogger(__name__)


class StackStopping(RuntimeError):
    """The stack is shutting down and takes no more requests."""


class RequestGate:
    """A readers-writer lock between requests (shared) and snapshots (exclusive), closable at shutdown.

    Snapshots go first when both wait, so that a steady stream of requests cannot postpone a
    snapshot for ever.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._requests_in_flight = 0
        self._snapshots_waiting = 0
        self._snapshot_running = False
        self._closed = False
        # How many requests each thread holds, so `outside()` knows what to hand back.
        self._held = threading.local()

    @contextmanager
    def request(self) -> Iterator[None]:
        """Hold the gate open for one request. Raises `StackStopping` once the gate is closed."""
        with self._condition:
            while not self._closed and (self._snapshot_running or self._snapshots_waiting):
                self._condition.wait()
            if self._closed:
                raise StackStopping
            self._requests_in_flight += 1
        self._held.count = self._held_count() + 1
        try:
            yield
        finally:
            self._held.count = self._held_count() - 1
            with self._condition:
                self._requests_in_flight -= 1
                self._condition.notify_all()

    @contextmanager
    def outside(self) -> Iterator[None]:
        """Step out of the requests this thread holds (if any) for the block, and back in after it.

        For a request that waits for work other threads do under the gate (`POST
        /_dev/run/invoicing-cycle` waits for the billing queue to drain): holding its share while
        it waits, a snapshot that starts waiting would hold those threads back, and they would hold
        the request back, until it gave up. Stepping back in waits for a snapshot as a new request
        does; if the gate closed meanwhile, it steps back in all the same (the caller still ends
        its request) and raises `StackStopping`.
        """
        held = self._held_count()
        if not held:
            yield
            return
        with self._condition:
            self._requests_in_flight -= held
            self._condition.notify_all()
        self._held.count = 0
        try:
            yield
        finally:
            with self._condition:
                while not self._closed and (self._snapshot_running or self._snapshots_waiting):
                    self._condition.wait()
                self._requests_in_flight += held
                closed = self._closed
            self._held.count = held
        if closed:
            raise StackStopping

    def _held_count(self) -> int:
        count: int = getattr(self._held, "count", 0)
        return count

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Wait until no request is running and keep new ones out until the block ends."""
        with self._condition:
            self._snapshots_waiting += 1
            # Once closed, requests still in flight are ones `close` gave up waiting for.
            while self._snapshot_running or (self._requests_in_flight and not self._closed):
                self._condition.wait()
            self._snapshots_waiting -= 1
            self._snapshot_running = True
        try:
            yield
        finally:
            with self._condition:
                self._snapshot_running = False
                self._condition.notify_all()

    def close(self, timeout: float) -> bool:
        """Refuse new requests and wait up to `timeout` seconds for running ones; True if all finished."""
        deadline = time.monotonic() + timeout
        with self._condition:
            self._closed = True
            self._condition.notify_all()
            while self._requests_in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._condition.wait(remaining)
        return True


class Store(Protocol):
    def save(self) -> SaveSummary: ...


class Autosaver:
    """A background thread that saves what changed within about `interval` seconds of a change.

    Anything that may have changed the emulation's data calls `mark_changed()`; `stop()` ends the
    thread and saves one last time, so a clean shutdown loses nothing. A save costs what changed
    since the previous one. `housekeeping` (expiring items whose time-to-live has passed) runs
    between requests too, at most every `HOUSEKEEPING_SECONDS`.
    """

    HOUSEKEEPING_SECONDS = 60.0

    def __init__(
        self,
        store: Store,
        gate: RequestGate,
        interval: float = 1.0,
        housekeeping: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._gate = gate
        self._interval = interval
        self._housekeeping = housekeeping
        self._next_housekeeping = time.monotonic() + self.HOUSEKEEPING_SECONDS
        self._changed = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="remit-autosave")

    def mark_changed(self) -> None:
        """Note that data may have changed since the last snapshot."""
        self._changed.set()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and save the final snapshot. Raises what the final save raises."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()
        self.save_now()

    def save_now(self) -> None:
        """Save what changed, between requests, whether or not anything was marked."""
        with self._gate.exclusive():
            # Cleared inside the gate: a request that changes data after this point marks it again.
            self._changed.clear()
            started = time.perf_counter()
            try:
                if self._housekeeping is not None and time.monotonic() >= self._next_housekeeping:
                    self._next_housekeeping = time.monotonic() + self.HOUSEKEEPING_SECONDS
                    self._housekeeping()
                summary = self._store.save()
            except BaseException:
                self._changed.set()
                raise
        logger.debug(
            "saved %d items, %d objects in %.0f ms",
            summary.items,
            summary.objects,
            (time.perf_counter() - started) * 1000,
        )

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            if not self._changed.is_set() and time.monotonic() < self._next_housekeeping:
                continue
            try:
                self.save_now()
            except Exception:
                logger.exception("saving the data failed; will retry")

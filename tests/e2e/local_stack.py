"""Starting and stopping the local stack as `make run` does, for the end-to-end tests."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
# Generous: a failure is reported at once, and under parallel workers on 2 busy cores a start
# (importing moto and Remit, restoring the data) can take 20-30 s where it takes 5 s alone.
READY_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 60.0


@dataclass
class RunningLocalStack:
    """One `python -m local` process and what a client needs to talk to it."""

    process: subprocess.Popen[bytes]
    base_url: str
    dev_api_key: str
    data_dir: Path
    log_path: Path

    def url(self, path: str) -> str:
        return self.base_url + path

    def auth(self, api_key: str | None = None) -> dict[str, str]:
        """The `Authorization` header for `api_key` (the dev key by default)."""
        return {"Authorization": f"Bearer {api_key or self.dev_api_key}"}

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def child_pids(self) -> set[int]:
        """Processes whose parent is the stack's process (read from /proc)."""
        children = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                # The command name (2nd field) is in parentheses and may contain spaces.
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.process.pid:
                    children.add(int(stat.parent.name))
        return children

    def interrupt(self) -> int:
        """Send SIGINT (Ctrl-C) and return the exit status, killing the process if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"the stack did not stop on SIGINT; its log:\n{self.log()}") from None

    def crash(self) -> None:
        """End the process at once (SIGKILL), as a power cut or `kill -9` would."""
        self.process.kill()
        self.process.wait()


def start_local_stack(data_dir: Path, dev_api_key: str | None, port: int | None = None) -> RunningLocalStack:
    """Start `python -m local` as `make run` does and return once `GET /health` answers 200.

    Without `port` the stack binds a port the kernel chooses (`PORT=0`) and the test reads it from
    the banner, so parallel workers never race for one. With `dev_api_key` None, the stack chooses
    (or reuses) its own key, read from its banner too.
    """
    environment = dict(os.environ)
    environment.update(
        {
            "PORT": str(port or 0),
            "REMIT_LOCAL_DIR": str(data_dir),
            "PYTHONPATH": os.pathsep.join(filter(None, ["functions", ".", os.environ.get("PYTHONPATH")])),
            "PYTHONUNBUFFERED": "1",
        }
    )
    environment.pop("REMIT_DEV_API_KEY", None)
    environment.pop("REMIT_DEV_EMAIL", None)
    environment.pop("REMIT_DEV_PASSWORD", None)
    if dev_api_key is not None:
        environment["REMIT_DEV_API_KEY"] = dev_api_key

    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir.parent / f"{data_dir.name}-stack-{time.monotonic_ns()}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "local"],
            cwd=REPOSITORY_ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    stack = RunningLocalStack(process, "", dev_api_key or "", data_dir, log_path)
    stack.base_url = printed(stack, r"^\s+API\s+(http://\S+)$", READY_TIMEOUT_SECONDS)
    _wait_until_healthy(stack)
    if dev_api_key is None:
        stack.dev_api_key = printed(stack, r"Dev API key\s+(\S+)", 5)
    return stack


def _wait_until_healthy(stack: RunningLocalStack) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if stack.process.poll() is not None:
            raise AssertionError(f"the stack exited with {stack.process.returncode}; its log:\n{stack.log()}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(stack.url("/health"), timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    stack.crash()
    raise AssertionError(
        f"the stack was not healthy within {READY_TIMEOUT_SECONDS} s; its log:\n{stack.log()}"
    )


def printed(stack: RunningLocalStack, pattern: str, timeout_seconds: float) -> str:
    """The first group of `pattern` once the stack's banner prints it (a line of its own, multiline)."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        match = re.search(pattern, stack.log(), re.MULTILINE)
        if match:
            return match.group(1)
        if stack.process.poll() is not None:
            raise AssertionError(f"the stack exited with {stack.process.returncode}; its log:\n{stack.log()}")
        time.sleep(0.05)
    stack.crash()
    raise AssertionError(
        f"the stack never printed {pattern!r} within {timeout_seconds} s; its log:\n{stack.log()}"
    )

"""The e-invoice validator off AWS: the engine in a long-lived child process, asked over a pipe.

Saxon (the XSLT 2.0 engine the rules need) crashes when used after a fork or from a second
thread, and takes a second to load the stylesheets. So the local stack and the tests start one
child Python process (a fresh interpreter, `python -m remit.adapters.process_einvoice_validator`:
never a fork of this one) that loads the rules once and answers one request at a time, each a line
of JSON on its stdin answered by a line of JSON on its stdout. A lock makes one `validate` at a
time reach it, whatever thread calls. A child that dies or hangs is replaced once; when the new one
fails too, `validate` raises `DocumentUnavailable`.

On AWS the same engine runs in `EinvoiceValidatorFunction` (`lambda_einvoice_validator.py`).
"""

from __future__ import annotations

import base64
import json
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from remit.domain.einvoices import EINVOICE_FORMATS, EinvoiceFormat, ValidationReport
from remit.domain.errors import DocumentUnavailable

# How long the child may take to load the rules, and to answer one document.
START_TIMEOUT_SECONDS = 120.0
ANSWER_TIMEOUT_SECONDS = 60.0
# Seconds a caller is told to wait when the validator cannot be reached.
RETRY_AFTER_SECONDS = 30


class _ChildFailed(Exception):
    """The child died, hung or answered nonsense."""


class ProcessEinvoiceValidator:
    """`EinvoiceValidator` backed by one child process that holds the engine."""

    def __init__(
        self,
        rules_dir: Path | None = None,
        start_timeout: float = START_TIMEOUT_SECONDS,
        answer_timeout: float = ANSWER_TIMEOUT_SECONDS,
    ) -> None:
        self._rules_dir = rules_dir
        self._start_timeout = start_timeout
        self._answer_timeout = answer_timeout
        self._lock = threading.Lock()
        self._child: subprocess.Popen[bytes] | None = None
        self._buffer = b""
        self.starts = 0

    def validate(self, einvoice_format: EinvoiceFormat, document: bytes) -> ValidationReport:
        if einvoice_format not in EINVOICE_FORMATS:
            raise ValueError(f"unknown e-invoice format {einvoice_format!r}")
        request = {"format": einvoice_format, "document": base64.b64encode(document).decode("ascii")}
        with self._lock:
            failure: Exception | None = None
            for _attempt in range(2):
                try:
                    child = self._running_child()
                    answer = self._ask(child, request, self._answer_timeout)
                except (_ChildFailed, OSError) as error:
                    failure = error
                    self._stop()
                    continue
                if "error" in answer:
                    raise DocumentUnavailable(
                        f"the e-invoice validator failed: {answer['error']}", RETRY_AFTER_SECONDS
                    )
                return ValidationReport.model_validate(answer["report"])
            raise DocumentUnavailable(
                f"the e-invoice validator cannot be reached: {failure}", RETRY_AFTER_SECONDS
            ) from failure

    def close(self) -> None:
        """Stop the child (it is started again on the next `validate`)."""
        with self._lock:
            self._stop()

    @property
    def pid(self) -> int | None:
        """The child's process id, while one runs."""
        return self._child.pid if self._child is not None and self._child.poll() is None else None

    def _running_child(self) -> subprocess.Popen[bytes]:
        if self._child is not None and self._child.poll() is None:
            return self._child
        self._stop()
        environment = dict(os.environ)
        if self._rules_dir is not None:
            environment["REMIT_EINVOICE_RULES_DIR"] = str(self._rules_dir)
        child = subprocess.Popen(  # our own interpreter and module, no shell
            [sys.executable, "-m", "remit.adapters.process_einvoice_validator"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=environment,
            close_fds=True,
        )
        self._child = child
        self._buffer = b""
        self.starts += 1
        ready = self._read_line(child, self._start_timeout)
        if ready.get("ready") is not True:
            raise _ChildFailed(f"the validator process did not start: {ready.get('error', ready)}")
        return child

    def _ask(self, child: subprocess.Popen[bytes], request: dict[str, str], timeout: float) -> dict[str, Any]:
        stdin = child.stdin
        if stdin is None:
            raise _ChildFailed("no pipe to the validator process")
        try:
            stdin.write(json.dumps(request).encode("ascii") + b"\n")
            stdin.flush()
        except (BrokenPipeError, ValueError) as error:
            raise _ChildFailed(f"the validator process is gone: {error}") from error
        return self._read_line(child, timeout)

    def _read_line(self, child: subprocess.Popen[bytes], timeout: float) -> dict[str, Any]:
        stdout = child.stdout
        if stdout is None:
            raise _ChildFailed("no pipe from the validator process")
        descriptor = stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _ChildFailed(f"no answer from the validator process within {timeout:g} s")
            readable, _, _ = select.select([descriptor], [], [], remaining)
            if not readable:
                continue
            chunk = os.read(descriptor, 1 << 20)
            if not chunk:
                raise _ChildFailed(f"the validator process exited ({child.poll()})")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            answer = json.loads(line)
        except ValueError as error:
            raise _ChildFailed(f"the validator process answered nonsense: {line[:200]!r}") from error
        if not isinstance(answer, dict):
            raise _ChildFailed("the validator process answered nonsense")
        return answer

    def _stop(self) -> None:
        child, self._child = self._child, None
        self._buffer = b""
        if child is None:
            return
        for pipe in (child.stdin, child.stdout):
            if pipe is not None:
                pipe.close()
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=2)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def _serve(requests: IO[bytes], answers: IO[bytes]) -> int:
    """The child's loop: load the engine, say so, then answer each request line until stdin closes."""

    def send(message: dict[str, Any]) -> None:
        answers.write(json.dumps(message).encode("utf-8") + b"\n")
        answers.flush()

    try:
        from remit.adapters.einvoice_rules import EinvoiceRules  # loads Saxon, in the child only

        engine = EinvoiceRules()
    except Exception as error:  # reported to the parent, which raises DocumentUnavailable
        send({"ready": False, "error": f"{type(error).__name__}: {error}"})
        return 1
    send({"ready": True})
    for line in requests:
        try:
            request = json.loads(line)
            einvoice_format = request["format"]
            if einvoice_format not in EINVOICE_FORMATS:
                raise ValueError(f"unknown e-invoice format {einvoice_format!r}")
            document = base64.b64decode(request["document"], validate=True)
            report = engine.validate(einvoice_format, document)
        except Exception as error:  # one bad request must not end the process
            send({"error": f"{type(error).__name__}: {error}"})
            continue
        send({"report": report.model_dump(mode="json")})
    return 0


def main() -> int:
    # The answers go out on a copy of stdout; whatever else writes to stdout (Saxon's messages)
    # goes to stderr instead, so it can never corrupt an answer.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    return _serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    sys.exit(main())

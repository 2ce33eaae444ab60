"""The child process that holds the e-invoice engine off AWS: started once, restarted once, locked.

Saxon is neither fork- nor thread-safe, so the validator keeps it in one child interpreter and lets
one request at a time reach it. These tests kill the child, start it where the rules are missing,
and call it from many threads at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from remit.adapters.process_einvoice_validator import ProcessEinvoiceValidator
from remit.domain.errors import DocumentUnavailable

EXAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "einvoices"
VALID_UBL = (EXAMPLES / "xrechnung" / "01.01a-INVOICE_ubl.xml").read_bytes()
VALID_CII = (EXAMPLES / "xrechnung" / "01.01a-INVOICE_uncefact.xml").read_bytes()


def test_a_killed_child_is_replaced_once_and_the_request_answered() -> None:
    validator = ProcessEinvoiceValidator()
    try:
        assert validator.validate("xrechnung_ubl", VALID_UBL).valid
        first = validator.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        os.waitpid(first, 0)

        report = validator.validate("xrechnung_ubl", VALID_UBL)

        assert report.valid
        assert validator.starts == 2
        assert validator.pid not in (None, first)
    finally:
        validator.close()
    assert validator.pid is None


def test_a_child_that_cannot_load_the_rules_is_unavailable(tmp_path: Path) -> None:
    validator = ProcessEinvoiceValidator(rules_dir=tmp_path / "no-rules-here")
    try:
        with pytest.raises(DocumentUnavailable) as raised:
            validator.validate("xrechnung_ubl", VALID_UBL)
    finally:
        validator.close()

    assert "missing" in str(raised.value)
    assert raised.value.retry_after > 0
    assert validator.starts == 2  # tried, then tried once more


def test_a_hung_child_is_given_up_on() -> None:
    validator = ProcessEinvoiceValidator(answer_timeout=3.0)
    try:
        assert validator.validate("xrechnung_ubl", VALID_UBL).valid
        pid = validator.pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)  # alive but never answering; the next child answers
        try:
            report = validator.validate("xrechnung_ubl", VALID_UBL)
        finally:
            with contextlib.suppress(ProcessLookupError):  # the validator killed it
                os.kill(pid, signal.SIGCONT)
        assert report.valid
        assert validator.pid != pid
        assert validator.starts == 2
    finally:
        validator.close()


def test_callers_on_many_threads_each_get_their_own_answer() -> None:
    validator = ProcessEinvoiceValidator()
    work = [("xrechnung_ubl", VALID_UBL), ("xrechnung_cii", VALID_CII), ("xrechnung_cii", VALID_UBL)] * 8
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            reports = list(pool.map(lambda job: validator.validate(*job), work))
    finally:
        validator.close()

    assert [report.format for report in reports] == [einvoice_format for einvoice_format, _ in work]
    assert [report.valid for report in reports] == [True, True, False] * 8
    assert validator.starts == 1


def test_an_unknown_format_is_refused_before_the_child_is_asked() -> None:
    validator = ProcessEinvoiceValidator()
    with pytest.raises(ValueError, match="unknown e-invoice format"):
        validator.validate("pdf", VALID_UBL)  # type: ignore[arg-type]
    assert validator.starts == 0

"""EinvoiceValidatorFunction's handler: a request in, a report out, a malformed request refused.

The handler runs the engine in this process, as it does on Lambda (one thread, no fork); and
bootstrap picks the Lambda adapter exactly when the stack names the function.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from einvoice_validator import app
from remit import bootstrap
from remit.adapters.lambda_einvoice_validator import LambdaEinvoiceValidator
from remit.adapters.process_einvoice_validator import ProcessEinvoiceValidator
from remit.domain.einvoices import ValidationReport

EXAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "einvoices"


def _event(einvoice_format: object, document: bytes) -> dict[str, object]:
    return {"format": einvoice_format, "document": base64.b64encode(document).decode("ascii")}


def test_a_valid_document_is_answered_with_its_report() -> None:
    document = (EXAMPLES / "peppol" / "base-example.xml").read_bytes()

    answer = app.validate(_event("peppol_ubl", document))

    report = ValidationReport.model_validate(answer)
    assert report.valid
    assert report.rule_sets == ["XSD UBL 2.1 Invoice", "EN16931-UBL 1.3.16", "Peppol BIS Billing 3.0.19"]


def test_a_broken_document_is_a_report_not_an_error() -> None:
    answer = app.validate(_event("xrechnung_cii", b"<not-closed"))

    assert answer["valid"] is False
    assert [rule["rule"] for rule in answer["failed_rules"]] == ["XML"]


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"format": "pdf", "document": ""}, "format"),
        ({"document": "PEludm9pY2UvPg=="}, "format"),
        ({"format": "peppol_ubl"}, "document"),
        ({"format": "peppol_ubl", "document": "not base64!"}, "document"),
    ],
)
def test_a_malformed_request_is_refused_naming_the_field(event: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}:"):
        app.validate(event)


def test_bootstrap_invokes_the_function_when_the_stack_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMIT_EINVOICE_VALIDATOR_FUNCTION", "remit-dev-EinvoiceValidatorFunction")
    bootstrap.reset()
    try:
        assert isinstance(bootstrap.einvoice_validator(), LambdaEinvoiceValidator)
        monkeypatch.delenv("REMIT_EINVOICE_VALIDATOR_FUNCTION")
        bootstrap.reset()
        local = bootstrap.einvoice_validator()
        assert isinstance(local, ProcessEinvoiceValidator)
        assert bootstrap.einvoice_validator() is local
    finally:
        bootstrap.reset()

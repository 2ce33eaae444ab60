"""The API's side of the e-invoice validator on AWS: invoking EinvoiceValidatorFunction.

botocore's Stubber plays the Lambda service: it checks the request the adapter sends and answers
with a report, a function error or a throttle.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from remit.adapters.lambda_einvoice_validator import LambdaEinvoiceValidator
from remit.domain.errors import DocumentUnavailable

FUNCTION = "remit-dev-EinvoiceValidatorFunction"
DOCUMENT = b"<Invoice/>"
REPORT = {
    "format": "peppol_ubl",
    "valid": False,
    "failed_rules": [
        {"rule": "BR-CO-10", "message": "[BR-CO-10]-Sum of Invoice line net amount …", "location": "/*"}
    ],
    "warnings": [],
    "rule_sets": ["XSD UBL 2.1 Invoice", "EN16931-UBL 1.3.16", "Peppol BIS Billing 3.0.19"],
}


def _body(payload: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(payload), len(payload))


@pytest.fixture
def lambda_client() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("lambda", region_name="eu-west-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _expected_request() -> dict[str, object]:
    payload = json.dumps({"format": "peppol_ubl", "document": base64.b64encode(DOCUMENT).decode("ascii")})
    return {"FunctionName": FUNCTION, "InvocationType": "RequestResponse", "Payload": payload.encode("ascii")}


def test_the_function_is_invoked_with_the_document_and_its_report_returned(
    lambda_client: tuple[Any, Stubber],
) -> None:
    client, stubber = lambda_client
    stubber.add_response(
        "invoke", {"StatusCode": 200, "Payload": _body(json.dumps(REPORT).encode())}, _expected_request()
    )

    report = LambdaEinvoiceValidator(lambda: client, FUNCTION).validate("peppol_ubl", DOCUMENT)

    assert not report.valid
    assert [rule.rule for rule in report.failed_rules] == ["BR-CO-10"]
    assert report.rule_sets[-1] == "Peppol BIS Billing 3.0.19"


def test_a_function_error_is_unavailable_not_invalid(lambda_client: tuple[Any, Stubber]) -> None:
    client, stubber = lambda_client
    error = json.dumps(
        {"errorMessage": "Task timed out after 30.00 seconds", "errorType": "Timeout"}
    ).encode()
    stubber.add_response(
        "invoke",
        {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": _body(error)},
        _expected_request(),
    )

    with pytest.raises(DocumentUnavailable, match="timed out") as raised:
        LambdaEinvoiceValidator(lambda: client, FUNCTION).validate("peppol_ubl", DOCUMENT)
    assert raised.value.retry_after > 0


def test_a_throttled_invoke_is_unavailable(lambda_client: tuple[Any, Stubber]) -> None:
    client, stubber = lambda_client
    stubber.add_client_error("invoke", "TooManyRequestsException", "Rate exceeded", 429)

    with pytest.raises(DocumentUnavailable, match="cannot be reached"):
        LambdaEinvoiceValidator(lambda: client, FUNCTION).validate("peppol_ubl", DOCUMENT)


def test_an_answer_that_is_not_a_report_is_unavailable(lambda_client: tuple[Any, Stubber]) -> None:
    client, stubber = lambda_client
    stubber.add_response(
        "invoke", {"StatusCode": 200, "Payload": _body(b'{"valid": "maybe"}')}, _expected_request()
    )

    with pytest.raises(DocumentUnavailable, match="something else than a report"):
        LambdaEinvoiceValidator(lambda: client, FUNCTION).validate("peppol_ubl", DOCUMENT)

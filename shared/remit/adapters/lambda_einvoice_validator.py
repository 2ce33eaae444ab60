"""The e-invoice validator on AWS: `EinvoiceValidatorFunction`, invoked synchronously.

The engine (Saxon-HE and the rules, `einvoice_rules.py`) is too large and too fork- and
thread-unsafe to live in the API's function: it has a function of its own, with the rules layer,
and the API invokes it (`lambda:InvokeFunction`, scoped to that function in template.yaml). The
request is `{"format", "document"}` (the XML in base64), the answer the `ValidationReport`.

An unreachable, throttled or failing validator function raises `DocumentUnavailable`: the
document could not be checked, which is not the same as a document that broke rules.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from remit.domain.einvoices import EINVOICE_FORMATS, EinvoiceFormat, ValidationReport
from remit.domain.errors import DocumentUnavailable

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

# Seconds a caller is told to wait when the validator function cannot be reached.
RETRY_AFTER_SECONDS = 30


class LambdaEinvoiceValidator:
    """`EinvoiceValidator` that asks `EinvoiceValidatorFunction` (its name or ARN: `function_name`)."""

    def __init__(self, client: Callable[[], LambdaClient], function_name: str) -> None:
        self._client = client
        self._function_name = function_name

    def validate(self, einvoice_format: EinvoiceFormat, document: bytes) -> ValidationReport:
        if einvoice_format not in EINVOICE_FORMATS:
            raise ValueError(f"unknown e-invoice format {einvoice_format!r}")
        payload = json.dumps(
            {"format": einvoice_format, "document": base64.b64encode(document).decode("ascii")}
        )
        try:
            response = self._client().invoke(
                FunctionName=self._function_name,
                InvocationType="RequestResponse",
                Payload=payload.encode("ascii"),
            )
            body = response["Payload"].read()
        except (BotoCoreError, ClientError) as error:
            raise DocumentUnavailable(
                f"the e-invoice validator function cannot be reached: {error}", RETRY_AFTER_SECONDS
            ) from error
        if response.get("FunctionError"):
            raise DocumentUnavailable(
                f"the e-invoice validator function failed: {body[:500].decode('utf-8', 'replace')}",
                RETRY_AFTER_SECONDS,
            )
        try:
            return ValidationReport.model_validate(json.loads(body))
        except (ValueError, ValidationError) as error:
            raise DocumentUnavailable(
                f"the e-invoice validator function answered something else than a report: {error}",
                RETRY_AFTER_SECONDS,
            ) from error

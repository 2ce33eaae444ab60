"""The e-invoice validator function: checks one XML document against the official rules.

Invoked synchronously by the API (`remit.adapters.lambda_einvoice_validator`) with
`{"format": "facturx" | "xrechnung_cii" | "xrechnung_ubl" | "peppol_ubl", "document": <base64 XML>}`;
answers the `ValidationReport` (docs/einvoicing-validation.md). It is the only function with the
rules layer (Saxon-HE, lxml and the rules): the engine is loaded once per execution environment,
during the init phase, and then takes milliseconds a document.

A malformed request raises (the caller sees a `FunctionError` and reports the validator
unavailable); a malformed document is a report with `valid: false`.
"""

from __future__ import annotations

import base64
import binascii
import os
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from remit.adapters.einvoice_rules import EinvoiceRules
from remit.domain.einvoices import EINVOICE_FORMATS
from remit.observability import logger


@cache
def engine() -> EinvoiceRules:
    """The schemas and compiled stylesheets, loaded once per execution environment."""
    return EinvoiceRules()


def validate(event: dict[str, Any]) -> dict[str, Any]:
    einvoice_format = event.get("format")
    if einvoice_format not in EINVOICE_FORMATS:
        raise ValueError(f"format: one of {', '.join(EINVOICE_FORMATS)} expected, got {einvoice_format!r}")
    encoded = event.get("document")
    if not isinstance(encoded, str):
        raise ValueError("document: the XML in base64 expected")
    try:
        document = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError(f"document: not base64 ({error})") from error
    report = engine().validate(einvoice_format, document)
    logger.info(
        "E-invoice validated",
        extra={"format": einvoice_format, "valid": report.valid, "failed_rules": len(report.failed_rules)},
    )
    return report.model_dump(mode="json")


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return validate(event)


# On Lambda the engine loads in the init phase (up to 10 s, before the first request is timed);
# imported elsewhere (the tests), on first use.
if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    engine()

"""The one Powertools Logger and Metrics of every Remit function.

Traces come from Lambda's built-in active tracing (`Tracing: Active` in template.yaml) and from the
API stage, without the X-Ray SDK in the function: see docs/cold-start.md for the figures and why.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="remit")
metrics = Metrics(namespace="Remit", service="remit")

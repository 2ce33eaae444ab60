"""The one Powertools Logger, Tracer and Metrics of every Remit function."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="remit")
tracer = Tracer(service="remit")
metrics = Metrics(namespace="Remit", service="remit")

"""The cold-start reference: the Lambda handler any team would write with Powertools.

One REST route validated by a pydantic body model (`APIGatewayRestResolver(enable_validation=True)`),
Logger, Tracer, Metrics, and the idempotency utility with its DynamoDB persistence layer, all
built at import time as Powertools' own examples do. `make bench` (benchmarks/cold_start.py)
times importing each Remit handler against importing this module; the budget is 1.0x.

It is never deployed; it only has to import (and would work if it were deployed).
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayRestResolver(enable_validation=True)

persistence = DynamoDBPersistenceLayer(table_name=os.environ.get("IDEMPOTENCY_TABLE", "idempotency"))
idempotency_config = IdempotencyConfig(expires_after_seconds=24 * 60 * 60)


class OrderRequest(BaseModel):
    customer_id: str = Field(min_length=1, max_length=64)
    amount: int = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class Order(BaseModel):
    id: str
    customer_id: str
    amount: int
    currency: str


@idempotent_function(
    data_keyword_argument="request", persistence_store=persistence, config=idempotency_config
)
def create_order(request: OrderRequest) -> dict[str, Any]:
    return Order(id=f"ord_{request.customer_id}", **request.model_dump()).model_dump()


@app.post("/orders")
@tracer.capture_method
def post_order(request: OrderRequest) -> Order:
    order = Order(**create_order(request=request))
    metrics.add_metric(name="OrdersCreated", unit=MetricUnit.Count, value=1)
    return order


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency_config.register_lambda_context(context)
    return app.resolve(event, context)

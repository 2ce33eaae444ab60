"""The webhook delivery queue (SQS): one message per attempt, each with its own delay."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from remit.domain.deliveries import MAX_QUEUE_DELAY_SECONDS, DeliveryOrder

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

_BATCH = 10  # SendMessageBatch's limit
_ATTEMPTS = 5


class SqsDeliveryQueue:
    def __init__(self, client_factory: Callable[[], SQSClient], queue_url: Callable[[], str]) -> None:
        self._client_factory = client_factory
        self._client: SQSClient | None = None
        self._queue_url = queue_url

    def send(self, orders: Sequence[DeliveryOrder], *, delay_seconds: int = 0) -> None:
        """Send every order; entries SQS refuses in a batch are sent again, then it raises."""
        if not orders:
            return
        url = self._queue_url()
        if not url:
            raise RuntimeError("the webhook delivery queue's URL is not set (REMIT_WEBHOOK_QUEUE_URL)")
        if self._client is None:
            self._client = self._client_factory()
        delay = max(0, min(MAX_QUEUE_DELAY_SECONDS, delay_seconds))
        for start in range(0, len(orders), _BATCH):
            pending = {
                str(i): order.model_dump_json() for i, order in enumerate(orders[start : start + _BATCH])
            }
            for _ in range(_ATTEMPTS):
                response = self._client.send_message_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": key, "MessageBody": body, "DelaySeconds": delay}
                        for key, body in pending.items()
                    ],
                )
                failed = {entry["Id"] for entry in response.get("Failed", [])}
                pending = {key: body for key, body in pending.items() if key in failed}
                if not pending:
                    break
            else:
                raise RuntimeError(f"SQS refused {len(pending)} webhook deliveries {_ATTEMPTS} times")

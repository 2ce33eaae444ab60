"""A work queue (SQS): the billing worker's, the reminders function's or the send worker's, sent in
batches of ten."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

_BATCH = 10  # SendMessageBatch's limit
_ATTEMPTS = 5


class SqsWorkQueue:
    def __init__(self, client_factory: Callable[[], SQSClient], queue_url: Callable[[], str]) -> None:
        self._client_factory = client_factory
        self._client: SQSClient | None = None
        self._queue_url = queue_url

    def send(self, messages: Sequence[Mapping[str, Any]]) -> None:
        """Send every message; entries SQS refuses in a batch are sent again, then it raises."""
        if not messages:
            return
        url = self._queue_url()
        if not url:
            raise RuntimeError(
                "the queue's URL is not set (REMIT_BILLING_QUEUE_URL, REMIT_REMINDERS_QUEUE_URL, "
                "REMIT_SEND_QUEUE_URL)"
            )
        if self._client is None:
            self._client = self._client_factory()
        for start in range(0, len(messages), _BATCH):
            pending = {
                str(i): json.dumps(m, separators=(",", ":"))
                for i, m in enumerate(messages[start : start + _BATCH])
            }
            for _ in range(_ATTEMPTS):
                response = self._client.send_message_batch(
                    QueueUrl=url, Entries=[{"Id": key, "MessageBody": body} for key, body in pending.items()]
                )
                failed = {entry["Id"] for entry in response.get("Failed", [])}
                pending = {key: body for key, body in pending.items() if key in failed}
                if not pending:
                    break
            else:
                raise RuntimeError(f"SQS refused {len(pending)} messages {_ATTEMPTS} times")

"""Running a Remit Lambda handler in this process the way the Lambda service would.

Each `LocalFunction` stands for one warm execution environment: its handler module is imported
once, on first use, and it serves one invocation at a time. The one-at-a-time rule matters: the
Powertools resolvers keep the current event on the app object, as Lambda allows, so two
threads inside one handler at once would read each other's requests.
"""

from __future__ import annotations

import importlib
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from local.environment import REGION

_ACCOUNT_ID = "123456789012"

LambdaHandler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LambdaContext:
    """The context object a Python Lambda handler receives, with the attributes Powertools reads."""

    function_name: str
    aws_request_id: str
    memory_limit_in_mb: int
    timeout_seconds: float
    function_version: str = "$LATEST"
    invoked_function_arn: str = ""
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        arn = f"arn:aws:lambda:{REGION}:{_ACCOUNT_ID}:function:{self.function_name}"
        self.invoked_function_arn = self.invoked_function_arn or arn
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the invocation's timeout, never below 0."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class LocalFunction:
    """One Lambda function of the template, served from `functions/` by dotted handler name.

    `handler` is the template's `Handler` property, e.g. `api.app.lambda_handler`.
    """

    def __init__(
        self, name: str, handler: str, *, timeout_seconds: float = 29.0, memory_limit_in_mb: int = 128
    ) -> None:
        self.name = name
        self._module_name, _, self._attribute = handler.rpartition(".")
        self._timeout_seconds = timeout_seconds
        self._memory_limit_in_mb = memory_limit_in_mb
        self._handler: LambdaHandler | None = None
        self._invocation = threading.Lock()

    @property
    def handler_module(self) -> str:
        """The dotted module the handler lives in, e.g. `api.app`."""
        return self._module_name

    def load(self) -> LambdaHandler:
        """Import the handler module (once) and return the handler; raises what the import raises."""
        if self._handler is None:
            module = importlib.import_module(self._module_name)
            self._handler = getattr(module, self._attribute)
        return self._handler

    def invoke(self, event: dict[str, Any], request_id: str | None = None) -> Any:
        """Call the handler with `event` and a fresh context, after any invocation already running."""
        with self._invocation:
            handler = self.load()
            context = LambdaContext(
                function_name=self.name,
                aws_request_id=request_id or str(uuid.uuid4()),
                memory_limit_in_mb=self._memory_limit_in_mb,
                timeout_seconds=self._timeout_seconds,
            )
            return handler(event, context)

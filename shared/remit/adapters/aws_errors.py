"""Which AWS failures are transient: worth answering "try again later" rather than "we broke".

botocore already retried these (throttling with back-off, timeouts, dropped connections) before
they reach Remit's code, so one that gets here outlasted its retries. The request changed nothing
that a retry would repeat wrongly (every write is conditional or idempotent), so the caller should
retry later: the API answers `503` with `Retry-After`, the webhook `503` so the provider redelivers.
"""

from __future__ import annotations

from botocore.exceptions import ClientError, ConnectionClosedError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

# Seconds a caller should wait before retrying a request that met a transient failure.
RETRY_AFTER_SECONDS = 1

_TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "TransactionConflictException",
        "TransactionInProgressException",
        "InternalServerError",
        "ServiceUnavailable",
    }
)


def is_transient(error: BaseException) -> bool:
    """True for a throttle, a server-side error, a timeout or a lost connection from AWS."""
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code") in _TRANSIENT_CODES
    # Timeouts before (connect) and after (read) the request reached AWS, and dropped connections.
    return isinstance(error, (BotocoreConnectionError, HTTPClientError, ConnectionClosedError))

"""Organisations' card-provider credentials in AWS Secrets Manager, one secret per organisation.

The secret is named `<prefix>/<organisation id>` (the API function may only reach that prefix)
and holds `{"provider", "secret_key", "webhook_secret"}` as JSON. The keys leave their
`SecretStr` only on the way into the secret store; nothing here logs them.

A warm process remembers what it read, a secret or its absence, for `cache_seconds` (five minutes
as deployed: `REMIT_SECRETS_CACHE_SECONDS`), for at most `max_cached` organisations, so that a
stream of webhooks does not read Secrets Manager on every call. Writing or removing a secret
through this adapter forgets it at once; another process (the webhooks function after the API's
`PUT …/payment_provider`) sees the change once its copy expires.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from remit.domain.card_payments import ProviderCredentials

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

_MISSING = ("ResourceNotFoundException",)


class SecretsManagerProviderSecrets:
    """The `PaymentProviderSecrets` port over Secrets Manager; the client is created on first use."""

    def __init__(
        self,
        client_factory: Callable[[], SecretsManagerClient],
        prefix: str,
        *,
        cache_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        max_cached: int = 1024,
    ) -> None:
        self._client_factory = client_factory
        self._client: SecretsManagerClient | None = None
        self._prefix = prefix.rstrip("/")
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._max_cached = max_cached
        # organisation id -> (expires at, credentials or None), oldest use first.
        self._cached: OrderedDict[str, tuple[float, ProviderCredentials | None]] = OrderedDict()
        self._lock = threading.Lock()
        # Counts writes, so that a read that raced a write never caches what it read before it.
        self._writes = 0

    @property
    def _secrets(self) -> SecretsManagerClient:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def secret_name(self, organisation_id: str) -> str:
        return f"{self._prefix}/{organisation_id}"

    def put(self, organisation_id: str, credentials: ProviderCredentials) -> None:
        """Create the organisation's secret, or replace its value when it already exists."""
        value = json.dumps(
            {
                "provider": credentials.provider,
                "secret_key": credentials.secret_key.get_secret_value(),
                "webhook_secret": credentials.webhook_secret.get_secret_value(),
            }
        )
        name = self.secret_name(organisation_id)
        try:
            self._secrets.create_secret(
                Name=name,
                SecretString=value,
                Description="Remit: the organisation's card provider credentials",
                Tags=[{"Key": "remit:organisation", "Value": organisation_id}],
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceExistsException":
                raise
            self._secrets.put_secret_value(SecretId=name, SecretString=value)
        finally:
            self._forget(organisation_id)

    def get(self, organisation_id: str) -> ProviderCredentials | None:
        """The organisation's credentials, or None when no provider is connected (either remembered
        for `cache_seconds`).
        """
        now = self._clock()
        with self._lock:
            cached = self._cached.get(organisation_id)
            if cached is not None and now < cached[0]:
                self._cached.move_to_end(organisation_id)
                return cached[1]
            writes = self._writes
        credentials = self._read(organisation_id)
        if self._cache_seconds > 0:
            with self._lock:
                if self._writes == writes:
                    self._cached[organisation_id] = (now + self._cache_seconds, credentials)
                    self._cached.move_to_end(organisation_id)
                    while len(self._cached) > self._max_cached:
                        self._cached.popitem(last=False)
        return credentials

    def _read(self, organisation_id: str) -> ProviderCredentials | None:
        try:
            found = self._secrets.get_secret_value(SecretId=self.secret_name(organisation_id))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise
        return ProviderCredentials.model_validate(json.loads(found["SecretString"]))

    def _forget(self, organisation_id: str) -> None:
        """Drop the remembered copy, after a write: a read that began before the write keeps nothing."""
        with self._lock:
            self._writes += 1
            self._cached.pop(organisation_id, None)

    def delete(self, organisation_id: str) -> None:
        """Remove the secret at once (no recovery window, so the organisation can connect again)."""
        try:
            self._secrets.delete_secret(
                SecretId=self.secret_name(organisation_id), ForceDeleteWithoutRecovery=True
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in _MISSING:
                raise
        finally:
            self._forget(organisation_id)

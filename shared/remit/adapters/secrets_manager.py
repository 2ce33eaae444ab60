"""Organisations' card-provider credentials in AWS Secrets Manager, one secret per organisation.

The secret is named `<prefix>/<organisation id>` (the API function may only reach that prefix)
and holds `{"provider", "secret_key", "webhook_secret"}` as JSON. The keys leave their
`SecretStr` only on the way into the secret store; nothing here logs them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from remit.domain.card_payments import ProviderCredentials

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

_MISSING = ("ResourceNotFoundException",)


class SecretsManagerProviderSecrets:
    """The `PaymentProviderSecrets` port over Secrets Manager; the client is created on first use."""

    def __init__(self, client_factory: Callable[[], SecretsManagerClient], prefix: str) -> None:
        self._client_factory = client_factory
        self._client: SecretsManagerClient | None = None
        self._prefix = prefix.rstrip("/")

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

    def get(self, organisation_id: str) -> ProviderCredentials | None:
        """The organisation's credentials, or None when no provider is connected."""
        try:
            found = self._secrets.get_secret_value(SecretId=self.secret_name(organisation_id))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise
        return ProviderCredentials.model_validate(json.loads(found["SecretString"]))

    def delete(self, organisation_id: str) -> None:
        """Remove the secret at once (no recovery window, so the organisation can connect again)."""
        try:
            self._secrets.delete_secret(
                SecretId=self.secret_name(organisation_id), ForceDeleteWithoutRecovery=True
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in _MISSING:
                raise

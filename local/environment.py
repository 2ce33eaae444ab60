"""What the local stack is told by its environment, and the environment it gives Remit's code.

Remit reads its settings from the environment once, and boto3 reads `AWS_ENDPOINT_URL`, so the
variables must be in place before any Remit module is imported.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

HOST = "127.0.0.1"
DEFAULT_PORT = 3000
REGION: Final = "eu-west-1"
#: The emulation accepts any credentials; these keep a developer's real ones out of every request.
DUMMY_CREDENTIAL = "local"

BILLING_TABLE = "remit-billing"
IDEMPOTENCY_TABLE = "remit-idempotency"
LOGO_BUCKET = "remit-logos"
#: The sender of every email, unless `REMIT_MAIL_FROM` names another; verified in the emulated SES.
DEFAULT_MAIL_FROM = "invoices@remit.local"

#: `{logical id in template.yaml: physical name}` of every table the stack creates.
TABLES = {"BillingTable": BILLING_TABLE, "IdempotencyTable": IDEMPOTENCY_TABLE}
BUCKETS = (LOGO_BUCKET,)

_REPOSITORY_ROOT = Path(__file__).resolve().parent.parent

# Variables that would point boto3 at a real AWS account.
_REAL_AWS_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


class SettingsError(ValueError):
    """The environment asks for something the local stack cannot do."""


@dataclass(frozen=True)
class LocalSettings:
    """Where the stack listens, where it keeps its data and which dev API key it must use."""

    port: int
    data_dir: Path
    dev_api_key: str | None

    @classmethod
    def from_environ(cls, environ: MutableMapping[str, str] = os.environ) -> LocalSettings:
        """Read `PORT` (default 3000; 0 picks a free port), `REMIT_LOCAL_DIR` and `REMIT_DEV_API_KEY`.

        Raises `SettingsError` when `PORT` is not a port number.
        """
        raw_port = environ.get("PORT", "").strip() or str(DEFAULT_PORT)
        if not raw_port.isdigit() or int(raw_port) > 65535:
            raise SettingsError(f"PORT must be a number from 0 to 65535, not {raw_port!r}")
        data_dir = Path(environ.get("REMIT_LOCAL_DIR", "").strip() or _REPOSITORY_ROOT / ".local")
        return cls(
            port=int(raw_port),
            data_dir=data_dir.resolve(),
            dev_api_key=environ.get("REMIT_DEV_API_KEY", "").strip() or None,
        )


def export_remit_environment(
    aws_endpoint_url: str, public_base_url: str, environ: MutableMapping[str, str] = os.environ
) -> None:
    """Point every AWS client of this process at the emulation and give Remit its local settings.

    Credentials are dummies and any profile is dropped, so nothing here can reach a real account.
    """
    mail_from = environ.get("REMIT_MAIL_FROM", "").strip() or DEFAULT_MAIL_FROM
    for name in _REAL_AWS_VARIABLES:
        environ.pop(name, None)
    environ.update(
        {
            "AWS_ENDPOINT_URL": aws_endpoint_url,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIAL,
            "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIAL,
            "REMIT_STAGE": "local",
            "REMIT_BILLING_TABLE": BILLING_TABLE,
            "REMIT_IDEMPOTENCY_TABLE": IDEMPOTENCY_TABLE,
            "REMIT_LOGO_BUCKET": LOGO_BUCKET,
            "REMIT_PUBLIC_BASE_URL": public_base_url,
            "REMIT_MAIL_FROM": mail_from,
            "POWERTOOLS_SERVICE_NAME": "remit",
            "POWERTOOLS_METRICS_NAMESPACE": "Remit",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
    )

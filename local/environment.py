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
#: The account the emulation answers as (moto's default): it appears in queue URLs and ARNs.
ACCOUNT_ID: Final = "123456789012"
#: The emulation accepts any credentials; these keep a developer's real ones out of every request.
DUMMY_CREDENTIAL = "local"

BILLING_TABLE = "remit-billing"
IDEMPOTENCY_TABLE = "remit-idempotency"
SESSIONS_TABLE = "remit-sessions"
LOGO_BUCKET = "remit-logos"
BILLING_QUEUE = "remit-billing"
REMINDERS_QUEUE = "remit-reminders"
SEND_QUEUE = "remit-send"
WEBHOOK_QUEUE = "remit-webhooks"
#: The dashboard's user pool and its app client (template.yaml's logical ids) and their local name.
USER_POOL = "DashboardUserPool"
USER_POOL_CLIENT = "DashboardUserPoolClient"
USER_POOL_NAME = "remit-local-dashboard"
#: The sender of every email, unless `REMIT_MAIL_FROM` names another; verified in the emulated SES.
DEFAULT_MAIL_FROM = "invoices@remit.local"

#: `{logical id in template.yaml: physical name}` of every table the stack creates.
TABLES = {
    "BillingTable": BILLING_TABLE,
    "IdempotencyTable": IDEMPOTENCY_TABLE,
    "SessionsTable": SESSIONS_TABLE,
}
BUCKETS = (LOGO_BUCKET,)
#: `{logical id in template.yaml: physical name}` of every queue the stack creates.
QUEUES = {
    "BillingQueue": BILLING_QUEUE,
    "BillingDeadLetterQueue": "remit-billing-dlq",
    "InvoicingCycleDeadLetterQueue": "remit-invoicing-cycle-dlq",
    "NotificationsDeadLetterQueue": "remit-notifications-dlq",
    "RemindersQueue": REMINDERS_QUEUE,
    "RemindersDeadLetterQueue": "remit-reminders-dlq",
    "RemindersScheduleDeadLetterQueue": "remit-reminders-schedule-dlq",
    "SendQueue": SEND_QUEUE,
    "SendDeadLetterQueue": "remit-send-dlq",
    "WebhookQueue": WEBHOOK_QUEUE,
    "WebhookDeadLetterQueue": "remit-webhooks-dlq",
    "WebhookFanOutDeadLetterQueue": "remit-webhook-fan-out-dlq",
}
#: Remit's own settings a user may set for the local stack; left unset, Remit's default applies.
_PASSED_THROUGH_INTEGERS = ("REMIT_MAX_PERIODS_PER_RUN",)

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
    #: `REMIT_MAX_PERIODS_PER_RUN` as the user set it; None leaves Remit's default.
    max_periods_per_run: int | None = None
    #: The dashboard's dev user (`REMIT_DEV_EMAIL` / `REMIT_DEV_PASSWORD`); None: kept or generated.
    dev_email: str | None = None
    dev_password: str | None = None

    @classmethod
    def from_environ(cls, environ: MutableMapping[str, str] = os.environ) -> LocalSettings:
        """Read `PORT` (default 3000; 0 picks a free port), `REMIT_LOCAL_DIR`, `REMIT_DEV_API_KEY`,
        `REMIT_DEV_EMAIL`, `REMIT_DEV_PASSWORD` and `REMIT_MAX_PERIODS_PER_RUN` (unset: Remit's default).

        Raises `SettingsError` when `PORT` is not a port number, or a count is not a positive integer.
        """
        raw_port = environ.get("PORT", "").strip() or str(DEFAULT_PORT)
        if not raw_port.isdigit() or int(raw_port) > 65535:
            raise SettingsError(f"PORT must be a number from 0 to 65535, not {raw_port!r}")
        data_dir = Path(environ.get("REMIT_LOCAL_DIR", "").strip() or _REPOSITORY_ROOT / ".local")
        raw_periods = environ.get("REMIT_MAX_PERIODS_PER_RUN", "").strip()
        if raw_periods and (not raw_periods.isdigit() or int(raw_periods) < 1):
            raise SettingsError(
                f"REMIT_MAX_PERIODS_PER_RUN must be a positive whole number, not {raw_periods!r}"
            )
        return cls(
            port=int(raw_port),
            data_dir=data_dir.resolve(),
            dev_api_key=environ.get("REMIT_DEV_API_KEY", "").strip() or None,
            max_periods_per_run=int(raw_periods) if raw_periods else None,
            dev_email=environ.get("REMIT_DEV_EMAIL", "").strip() or None,
            dev_password=environ.get("REMIT_DEV_PASSWORD", "") or None,
        )


def queue_url(aws_endpoint_url: str, queue_name: str) -> str:
    """The URL the emulation gives the queue `queue_name` (moto builds it from the endpoint)."""
    return f"{aws_endpoint_url.rstrip('/')}/{ACCOUNT_ID}/{queue_name}"


def export_remit_environment(
    aws_endpoint_url: str, public_base_url: str, environ: MutableMapping[str, str] = os.environ
) -> None:
    """Point every AWS client of this process at the emulation and give Remit its local settings.

    Credentials are dummies and any profile is dropped, so nothing here can reach a real account.
    Settings the user may tune (`REMIT_MAX_PERIODS_PER_RUN`) are kept when set and dropped when
    blank, so Remit applies its own default rather than fail on an empty value.
    """
    mail_from = environ.get("REMIT_MAIL_FROM", "").strip() or DEFAULT_MAIL_FROM
    for name in _REAL_AWS_VARIABLES:
        environ.pop(name, None)
    for name in _PASSED_THROUGH_INTEGERS:
        value = environ.pop(name, "").strip()
        if value:
            environ[name] = value
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
            "REMIT_SESSIONS_TABLE": SESSIONS_TABLE,
            "REMIT_LOGO_BUCKET": LOGO_BUCKET,
            "REMIT_BILLING_QUEUE_URL": queue_url(aws_endpoint_url, BILLING_QUEUE),
            "REMIT_REMINDERS_QUEUE_URL": queue_url(aws_endpoint_url, REMINDERS_QUEUE),
            "REMIT_SEND_QUEUE_URL": queue_url(aws_endpoint_url, SEND_QUEUE),
            "REMIT_WEBHOOK_QUEUE_URL": queue_url(aws_endpoint_url, WEBHOOK_QUEUE),
            "REMIT_PUBLIC_BASE_URL": public_base_url,
            "REMIT_MAIL_FROM": mail_from,
            # Webhook endpoints may be a receiver on this machine (http://127.0.0.1, localhost).
            "REMIT_WEBHOOKS_ALLOW_HTTP_LOOPBACK": "true",
            "POWERTOOLS_SERVICE_NAME": "remit",
            "POWERTOOLS_METRICS_NAMESPACE": "Remit",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
    )


def export_user_pool(
    user_pool_id: str, user_pool_client_id: str, environ: MutableMapping[str, str] = os.environ
) -> None:
    """Give Remit the dashboard's user pool, as the template gives the dashboard function."""
    environ["REMIT_USER_POOL_ID"] = user_pool_id
    environ["REMIT_USER_POOL_CLIENT_ID"] = user_pool_client_id

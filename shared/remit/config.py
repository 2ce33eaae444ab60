"""Settings read once from the environment (`REMIT_*`).

Plain `os.environ` reads rather than pydantic-settings: it is one of the heaviest imports of a
cold start, and these few values need no more than a type conversion.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cache

STAGES = ("local", "dev", "prod", "test")


@dataclass(frozen=True)
class Settings:
    stage: str = "local"
    billing_table: str = "remit-billing"
    idempotency_table: str = "remit-idempotency"
    logo_bucket: str = "remit-logos"
    # Public base URL of the API (hosted pages, logos). Empty: derived from each request.
    public_base_url: str = ""
    # How long a warm Lambda trusts an API key look-up before asking DynamoDB again.
    api_key_cache_seconds: float = 300.0
    max_logo_bytes: int = 1024 * 1024
    # The verified SES sender of every email (the organisation's name is shown with it).
    mail_from: str = ""
    # An SES configuration set to send with; empty for none.
    ses_configuration_set: str = ""
    # Secrets Manager names of the organisations' card-provider credentials: `<prefix>/<org id>`.
    secrets_prefix: str = "remit/local/payment-providers"
    # How long a warm process trusts a card-provider secret it read (or its absence).
    secrets_cache_seconds: float = 300.0
    # Where the Stripe SDK sends its requests; empty for Stripe's own API.
    stripe_api_base: str = ""
    # The SQS queue of the billing worker (bulk billing runs, the daily invoicing cycle's work).
    billing_queue_url: str = ""
    # The SQS queue of the reminders function's own work (one message per invoice to remind).
    reminders_queue_url: str = ""
    # The SQS queue of the send worker (one message per owed email, from the outbox).
    send_queue_url: str = ""
    # Owed emails one outbox sweep queues at most (every 5 minutes); the next sweep takes the rest.
    outbox_sweep_limit: int = 10_000
    # Missed periods one subscription catches up in one run, at most (the rest follow the next day).
    max_periods_per_run: int = 12
    # Index entries one planner's part reads, holds and queues, at most (docs/planners.md).
    planner_page_size: int = 500
    # The dashboard's Cognito user pool and its app client (template.yaml's DashboardUserPool*).
    user_pool_id: str = ""
    user_pool_client_id: str = ""
    # The dashboard's sessions and failed sign-in counters (template.yaml's SessionsTable).
    sessions_table: str = "remit-sessions"
    # The e-invoice validator function (template.yaml's EinvoiceValidatorFunction) the API invokes;
    # empty off AWS: the validator then runs in a child process of this one.
    einvoice_validator_function: str = ""
    # Whether webhook endpoints may be `http://127.0.0.1` or `http://localhost` (and resolve to
    # loopback): the local stack and the tests only, never a deployed stack.
    webhooks_allow_http_loopback: bool = False
    # The SQS queue of webhook deliveries (one message per attempt; template.yaml's WebhookQueue).
    webhook_queue_url: str = ""
    # The largest file a customer import takes: its request must stay under Lambda's 6 MB payload
    # once base64-encoded by API Gateway (docs/imports.md).
    max_import_bytes: int = 4 * 1024 * 1024
    # Rows one message of an import does (the worker's time and memory per invocation).
    import_part_rows: int = 250
    # How long one webhook POST may take, connection to answer (tests set less).
    webhook_timeout_seconds: float = 15.0

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Settings:
        """Settings from `REMIT_<NAME>` variables; a malformed value stops start-up with its name.

        Only outside Lambda may `REMIT_STAGE` be left out (then `local`): a deployed function
        without it raises `RuntimeError` at start, rather than run with the local stack's sandbox
        card provider and shown temporary passwords.
        """
        if environ.get("AWS_LAMBDA_FUNCTION_NAME") and not environ.get("REMIT_STAGE"):
            raise RuntimeError(
                "REMIT_STAGE is not set: a deployed function must name its stage (template.yaml sets "
                "it from the Stage parameter). Without it Remit would run as the local stack."
            )
        values: dict[str, object] = {}
        for field in fields(cls):
            raw = environ.get(f"REMIT_{field.name.upper()}")
            if raw is None:
                continue
            convert: type = type(field.default)
            try:
                values[field.name] = _flag(raw) if convert is bool else convert(raw)
            except ValueError:
                raise ValueError(f"REMIT_{field.name.upper()}={raw!r} is not a valid {field.type}") from None
        settings = cls(**values)  # type: ignore[arg-type]
        if settings.stage not in STAGES:
            raise ValueError(f"REMIT_STAGE must be one of {', '.join(STAGES)}, not {settings.stage!r}")
        return settings


def _flag(raw: str) -> bool:
    """`true`/`false` (also 1/0, yes/no): `bool("false")` would be true."""
    value = raw.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no", ""):
        return False
    raise ValueError(raw)


@cache
def settings() -> Settings:
    return Settings.from_environment(os.environ)

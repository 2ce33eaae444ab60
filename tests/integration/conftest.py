"""Integration fixtures: AWS mocked by moto in-process, tables built from template.yaml."""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from local import moto_patches
from local.cloudformation import create_tables, create_user_pool
from local.moto_server import LocalMotoServer
from tests.clocks import SettableClock
from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.fake_stripe import FakeStripe

STRIPE_SECRETS_PREFIX = "remit/test/payment-providers"

# The in-process mock gets the same transaction undo log and key-range queries as the local stack.
moto_patches.install()

TABLES = {
    "BillingTable": "remit-billing",
    "IdempotencyTable": "remit-idempotency",
    "SessionsTable": "remit-sessions",
}
LOGO_BUCKET = "remit-logos"
BILLING_QUEUE = "remit-billing"
REMINDERS_QUEUE = "remit-reminders"
SEND_QUEUE = "remit-send"
SAMPLE_KEY = "rk_sample_dev_key_do_not_use_in_prod_000000"


@pytest.fixture(autouse=True)
def remit_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "REMIT_STAGE": "test",
        "REMIT_BILLING_TABLE": TABLES["BillingTable"],
        "REMIT_IDEMPOTENCY_TABLE": TABLES["IdempotencyTable"],
        "REMIT_SESSIONS_TABLE": TABLES["SessionsTable"],
        "REMIT_LOGO_BUCKET": LOGO_BUCKET,
        "REMIT_PUBLIC_BASE_URL": "https://api.remit.test",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


def reset_remit() -> None:
    from api import idempotency
    from remit.bootstrap import reset

    reset()
    idempotency.reset()


@pytest.fixture
def aws() -> Iterator[None]:
    """A fresh mocked AWS with the stack's tables and bucket."""
    with mock_aws():
        create_tables(boto3.client("dynamodb"), TABLES)
        boto3.client("s3").create_bucket(
            Bucket=LOGO_BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        sqs = boto3.client("sqs")
        queue_url = sqs.create_queue(QueueName=BILLING_QUEUE)["QueueUrl"]
        reminders_url = sqs.create_queue(QueueName=REMINDERS_QUEUE)["QueueUrl"]
        send_url = sqs.create_queue(QueueName=SEND_QUEUE)["QueueUrl"]
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("REMIT_BILLING_QUEUE_URL", queue_url)
            patch.setenv("REMIT_REMINDERS_QUEUE_URL", reminders_url)
            patch.setenv("REMIT_SEND_QUEUE_URL", send_url)
            reset_remit()
            yield
            reset_remit()


@pytest.fixture
def user_pool(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dashboard's user pool and app client, built from template.yaml, named in Remit's settings."""
    pool_id, client_id = create_user_pool(
        boto3.client("cognito-idp"), "DashboardUserPool", "DashboardUserPoolClient", "remit-test-dashboard"
    )
    monkeypatch.setenv("REMIT_USER_POOL_ID", pool_id)
    monkeypatch.setenv("REMIT_USER_POOL_CLIENT_ID", client_id)
    reset_remit()


def new_account(name: str = "Test account", api_key: str | None = None) -> ApiClient:
    from remit.bootstrap import services

    issued = services().accounts.create_account(name, api_key=api_key)
    return ApiClient(issued.api_key)


@pytest.fixture
def api(aws: None) -> ApiClient:
    """A client authenticated as a fresh account (whose key is also the sample events' key)."""
    return new_account("Acme account", api_key=SAMPLE_KEY)


@pytest.fixture
def stripe_api(monkeypatch: pytest.MonkeyPatch, aws: None) -> Iterator[FakeStripe]:
    """Stripe's endpoints faked on loopback, Remit's Stripe client pointed at them, and the
    organisations' provider secrets kept under the tests' own prefix."""
    monkeypatch.setenv("REMIT_SECRETS_PREFIX", STRIPE_SECRETS_PREFIX)
    with FakeStripe() as fake:
        monkeypatch.setenv("REMIT_STRIPE_API_BASE", fake.url)
        reset_remit()
        yield fake


@pytest.fixture
def sandbox(api: ApiClient) -> Iterator[Billing]:
    """An organisation of `api`'s account connected to the local stack's sandbox card provider."""
    from local.sandbox_gateway import sandbox_gateway
    from remit.bootstrap import use_card_gateway

    use_card_gateway("sandbox", sandbox_gateway)
    reset_remit()
    billing = Billing(api)
    assert (
        billing.api.put(f"{billing.base}/payment_provider", json_body={"provider": "sandbox"}).status == 200
    )
    yield billing
    use_card_gateway("sandbox", None)
    reset_remit()


@pytest.fixture
def other_api(aws: None) -> ApiClient:
    """A client of a second, unrelated account."""
    return new_account("Intruder account")


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A real moto server on loopback, for tests that need real concurrency (threads, HTTP).

    One per xdist worker; port 0 lets the kernel choose, so workers never race for a port.
    """
    server = LocalMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def served_aws(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The stack's tables on the moto server, fresh for each test (unique names), Remit pointed at them."""
    suffix = uuid.uuid4().hex[:8]
    names = {logical: f"{physical}-{suffix}" for logical, physical in TABLES.items()}
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("REMIT_BILLING_TABLE", names["BillingTable"])
    monkeypatch.setenv("REMIT_IDEMPOTENCY_TABLE", names["IdempotencyTable"])
    monkeypatch.setenv("REMIT_SESSIONS_TABLE", names["SessionsTable"])
    create_tables(boto3.client("dynamodb"), names)
    sqs = boto3.client("sqs")
    monkeypatch.setenv(
        "REMIT_BILLING_QUEUE_URL", sqs.create_queue(QueueName=f"{BILLING_QUEUE}-{suffix}")["QueueUrl"]
    )
    monkeypatch.setenv(
        "REMIT_REMINDERS_QUEUE_URL", sqs.create_queue(QueueName=f"{REMINDERS_QUEUE}-{suffix}")["QueueUrl"]
    )
    monkeypatch.setenv(
        "REMIT_SEND_QUEUE_URL", sqs.create_queue(QueueName=f"{SEND_QUEUE}-{suffix}")["QueueUrl"]
    )
    reset_remit()
    yield
    reset_remit()


@pytest.fixture
def clock() -> Iterator[SettableClock]:
    """The services' clock, set by the test: injected through `bootstrap.use_clock`."""
    from remit import bootstrap

    settable = SettableClock()
    bootstrap.use_clock(settable)
    yield settable
    bootstrap.use_clock(None)


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """What Remit's logger writes while the test runs, as its formatter writes it."""
    from remit.observability import logger

    buffer = io.StringIO()
    capture = logging.StreamHandler(buffer)
    capture.setFormatter(logger.registered_formatter)
    logging.getLogger(logger.name).addHandler(capture)
    yield buffer
    logging.getLogger(logger.name).removeHandler(capture)

"""Card-provider secrets are read from Secrets Manager once per warm process and organisation for
five minutes, not on every webhook; a secret replaced or removed in the same process takes effect
at once.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from pydantic import SecretStr

from remit.adapters.secrets_manager import SecretsManagerProviderSecrets
from remit.domain.card_payments import ProviderCredentials
from tests.integration.api_client import ApiClient, LambdaContext
from tests.integration.billing import Billing
from tests.integration.test_card_webhooks import sign, stripe_event, webhook_event

PREFIX = "remit/test/payment-providers"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def credentials(webhook_secret: str = "whsec_one") -> ProviderCredentials:  # noqa: S107 - test data
    return ProviderCredentials(
        provider="stripe", secret_key=SecretStr("sk_test_x"), webhook_secret=SecretStr(webhook_secret)
    )


@pytest.fixture
def reads(aws: None) -> list[str]:
    """The secret ids of every `GetSecretValue` call the clients made from now on."""
    calls: list[str] = []
    real = boto3.client

    def counting(name: str, *args: Any, **kwargs: Any) -> Any:
        client = real(name, *args, **kwargs)
        if name == "secretsmanager":
            client.meta.events.register(
                "provide-client-params.secrets-manager.GetSecretValue",
                lambda params, **_: calls.append(params["SecretId"]),
            )
        return client

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(boto3, "client", counting)
        yield calls


def secrets(clock: Clock) -> SecretsManagerProviderSecrets:
    return SecretsManagerProviderSecrets(
        lambda: boto3.client("secretsmanager"), PREFIX, cache_seconds=300, clock=clock
    )


def test_a_secret_is_read_once_per_five_minutes_and_an_absent_one_too(reads: list[str]) -> None:
    clock = Clock()
    writer = secrets(clock)
    writer.put("org_a", credentials())
    store = secrets(clock)

    for _ in range(3):
        assert store.get("org_a") == credentials()
        assert store.get("org_none") is None
    clock.now += 299
    store.get("org_a")
    assert reads == [f"{PREFIX}/org_a", f"{PREFIX}/org_none"]

    clock.now += 2
    assert store.get("org_a") == credentials()
    assert reads[-1] == f"{PREFIX}/org_a"
    assert len(reads) == 3


def test_replacing_or_removing_a_secret_takes_effect_at_once_in_the_same_process(reads: list[str]) -> None:
    store = secrets(Clock())
    store.put("org_a", credentials("whsec_one"))
    assert store.get("org_a") == credentials("whsec_one")

    store.put("org_a", credentials("whsec_two"))
    assert store.get("org_a") == credentials("whsec_two")

    store.delete("org_a")
    assert store.get("org_a") is None


def test_a_process_remembers_a_bounded_number_of_organisations(reads: list[str]) -> None:
    store = SecretsManagerProviderSecrets(
        lambda: boto3.client("secretsmanager"), PREFIX, cache_seconds=300, clock=Clock(), max_cached=3
    )
    for index in range(10):
        store.get(f"org_{index}")
    store.get("org_9")
    store.get("org_0")

    assert reads.count(f"{PREFIX}/org_9") == 1
    assert reads.count(f"{PREFIX}/org_0") == 2


def test_without_a_cache_every_read_asks_secrets_manager(reads: list[str]) -> None:
    store = SecretsManagerProviderSecrets(lambda: boto3.client("secretsmanager"), PREFIX, cache_seconds=0)

    store.get("org_a")
    store.get("org_a")

    assert len(reads) == 2


# Through the functions, as deployed: one warm process (the local stack's, or a test's) serves the API
# that rotates the secret and the webhooks that use it.


@pytest.fixture
def webhooks(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, Any]], dict[str, Any]]:
    from payment_webhooks import app

    monkeypatch.setenv("REMIT_SECRETS_PREFIX", PREFIX)

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = app.lambda_handler(copy.deepcopy(event), LambdaContext("req-cache"))
        return result

    return invoke


def test_webhooks_read_the_secret_once_and_a_rotated_secret_applies_at_once(
    api: ApiClient, reads: list[str], webhooks: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    acme = Billing(api)
    connect = {"provider": "stripe", "secret_key": "sk_test_x", "webhook_secret": "whsec_one"}
    assert api.put(f"{acme.base}/payment_provider", json_body=connect).status == 200
    reads.clear()

    for index in range(5):
        body = stripe_event(f"evt_ignored_{index}", "customer.created", acme.org, "inv_x")
        assert webhooks(webhook_event(acme.org, body, sign(body, "whsec_one")))["statusCode"] == 200
    assert len(reads) == 1

    rotated = connect | {"webhook_secret": "whsec_two"}
    assert api.put(f"{acme.base}/payment_provider", json_body=rotated).status == 200
    body = stripe_event("evt_after", "customer.created", acme.org, "inv_x")
    old = webhooks(webhook_event(acme.org, body, sign(body, "whsec_one")))
    new = webhooks(webhook_event(acme.org, body, sign(body, "whsec_two")))

    assert (old["statusCode"], new["statusCode"]) == (400, 200)
    assert json.loads(new["body"]) == {"received": True}

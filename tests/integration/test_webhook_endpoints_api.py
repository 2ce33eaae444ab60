"""Webhook endpoints through the API: managed, refused destinations, secrets shown once, isolated."""

from __future__ import annotations

import io
import ipaddress
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from remit.ports.webhooks import Addresses
from tests.clocks import SettableClock
from tests.integration.api_client import ApiClient

PUBLIC = "https://hooks.example.com/remit"


class Resolver:
    """DNS as the test says: names not listed do not resolve."""

    def __init__(self) -> None:
        self.answers = {
            "hooks.example.com": ["93.184.215.14"],
            "other.example.com": ["2606:4700::6810:84e5"],
            "intranet.example.com": ["10.20.30.40"],
            "rebind.example.com": ["93.184.215.14", "127.0.0.1"],
            "metadata.example.com": ["169.254.169.254"],
        }

    def resolve(self, host: str) -> Addresses:
        if host not in self.answers:
            raise LookupError(host)
        return [ipaddress.ip_address(address) for address in self.answers[host]]


@pytest.fixture(autouse=True)
def resolver(aws: None) -> Iterator[Resolver]:
    from remit import bootstrap

    given = Resolver()
    bootstrap.use_host_resolver(given)
    yield given
    bootstrap.use_host_resolver(None)


@pytest.fixture
def organisation(api: ApiClient) -> str:
    response = api.post("/v1/organisations", {"name": "Acme Ltd", "default_currency": "EUR"})
    assert response.status == 201, response.body
    return f"/v1/organisations/{response.json()['id']}/webhook_endpoints"


def create(api: ApiClient, endpoints: str, **fields: Any) -> dict[str, Any]:
    response = api.post(endpoints, {"url": PUBLIC, "enabled_events": ["invoice.*"], **fields})
    assert response.status == 201, response.body
    return response.json()


def test_an_endpoint_is_created_with_its_secret_shown_once(api: ApiClient, organisation: str) -> None:
    created = create(api, organisation, description="Accounting sync", enabled_events=["invoice.paid", "*"])

    assert created["secret"].startswith("whsec_")
    assert created["id"].startswith("we_")
    assert created["url"] == PUBLIC
    assert created["status"] == "enabled"
    assert created["enabled_events"] == ["invoice.paid", "*"]
    assert created["description"] == "Accounting sync"
    read = api.get(f"{organisation}/{created['id']}")
    listed = api.get(organisation)
    assert read.status == listed.status == 200
    assert read.json() == {key: value for key, value in created.items() if key != "secret"}
    assert [endpoint["id"] for endpoint in listed.json()["data"]] == [created["id"]]
    for answer in (read, listed):
        assert created["secret"] not in answer.body.decode()
        assert b"secret" not in answer.body


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "https://[::1]/hook",
        "https://[fd00:ec2::254]/latest/meta-data/",
        "https://[::ffff:127.0.0.1]/hook",
        "https://0.0.0.0/hook",
        "http://2130706433/hook",
        "https://2130706433/hook",
        "https://0177.0.0.1/hook",
        "https://0x7f.1/hook",
        "https://intranet.example.com/hook",
        "https://rebind.example.com/hook",
        "https://metadata.example.com/hook",
        "https://unknown.example.com/hook",
        "https://admin:hunter2@hooks.example.com/hook",
        "http://hooks.example.com/hook",
        "http://127.0.0.1:9000/hook",
        "file:///etc/passwd",
        "gopher://hooks.example.com:70/_x",
        "https://hooks.example.com/" + "a" * 2100,
    ],
)
def test_a_refused_destination_is_a_422_naming_url_and_nothing_is_created(
    api: ApiClient, organisation: str, url: str
) -> None:
    response = api.post(organisation, {"url": url, "enabled_events": ["*"]})

    assert response.status == 422, response.body
    assert [problem["field"] for problem in response.json()["errors"]] == ["url"]
    assert api.get(organisation).json()["data"] == []


def test_the_local_stack_may_send_to_its_own_loopback_over_http(
    api: ApiClient, organisation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from remit.bootstrap import reset

    monkeypatch.setenv("REMIT_WEBHOOKS_ALLOW_HTTP_LOOPBACK", "true")
    reset()

    local = api.post(organisation, {"url": "http://127.0.0.1:9000/hook", "enabled_events": ["*"]})
    private = api.post(organisation, {"url": "http://10.0.0.1/hook", "enabled_events": ["*"]})

    assert local.status == 201, local.body
    assert private.status == 422


def test_false_is_read_as_false(api: ApiClient, organisation: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from remit.bootstrap import reset

    monkeypatch.setenv("REMIT_WEBHOOKS_ALLOW_HTTP_LOOPBACK", "false")
    reset()

    assert api.post(organisation, {"url": "http://127.0.0.1:9000/", "enabled_events": ["*"]}).status == 422


def test_an_unknown_event_type_is_a_422_naming_its_position(api: ApiClient, organisation: str) -> None:
    response = api.post(organisation, {"url": PUBLIC, "enabled_events": ["invoice.paid", "invoice.payed"]})

    assert response.status == 422
    assert [problem["field"] for problem in response.json()["errors"]] == ["enabled_events.1"]
    assert api.get(organisation).json()["data"] == []


def test_an_endpoint_is_updated_and_a_refused_change_changes_nothing(
    api: ApiClient, organisation: str
) -> None:
    created = create(api, organisation, description="Old")
    path = f"{organisation}/{created['id']}"

    changed = api.patch(
        path, {"url": "https://other.example.com/x", "enabled_events": ["payment.*"], "status": "disabled"}
    )
    cleared = api.patch(path, {"description": None})
    refused = api.patch(path, {"url": "https://intranet.example.com/x"})
    null_url = api.patch(path, {"url": None})
    bad_status = api.patch(path, {"status": "failing"})

    assert changed.status == 200, changed.body
    assert changed.json()["url"] == "https://other.example.com/x"
    assert changed.json()["enabled_events"] == ["payment.*"]
    assert changed.json()["status"] == "disabled"
    assert changed.json()["description"] == "Old"
    assert cleared.json()["description"] is None
    assert refused.status == null_url.status == bad_status.status == 422
    assert [p["field"] for p in refused.json()["errors"]] == ["url"]
    assert [p["field"] for p in null_url.json()["errors"]] == ["url"]
    assert [p["field"] for p in bad_status.json()["errors"]] == ["status"]
    assert api.get(path).json() == cleared.json()


def test_rotating_gives_a_new_secret_and_the_old_one_signs_for_24_hours(
    api: ApiClient, organisation: str, clock: SettableClock
) -> None:
    import boto3

    from remit.adapters.dynamodb import DynamoTable
    from remit.adapters.dynamodb_webhooks import DynamoWebhookEndpoints

    created = create(api, organisation)
    rotated = api.post(f"{organisation}/{created['id']}/rotate_secret")

    assert rotated.status == 200, rotated.body
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != created["secret"]
    organisation_id = organisation.split("/")[3]
    stored = DynamoWebhookEndpoints(DynamoTable(lambda: boto3.client("dynamodb"), "remit-billing")).get(
        organisation_id, created["id"]
    )
    assert stored is not None
    assert stored.signing_secrets(clock.now()) == [rotated.json()["secret"], created["secret"]]
    assert stored.signing_secrets(clock.now() + timedelta(hours=24)) == [rotated.json()["secret"]]
    assert b"whsec_" not in api.get(f"{organisation}/{created['id']}").body


def test_an_endpoint_is_deleted(api: ApiClient, organisation: str) -> None:
    created = create(api, organisation)

    deleted = api.delete(f"{organisation}/{created['id']}")

    assert deleted.status == 204
    assert api.get(f"{organisation}/{created['id']}").status == 404
    assert api.delete(f"{organisation}/{created['id']}").status == 404
    assert api.get(organisation).json()["data"] == []


def test_an_organisation_has_at_most_16_endpoints_and_a_deletion_frees_a_place(
    api: ApiClient, organisation: str
) -> None:
    made = [create(api, organisation) for _ in range(16)]

    refused = api.post(organisation, {"url": PUBLIC, "enabled_events": ["*"]})
    api.delete(f"{organisation}/{made[0]['id']}")
    again = api.post(organisation, {"url": PUBLIC, "enabled_events": ["*"]})

    assert refused.status == 409
    assert "16" in refused.json()["detail"]
    assert again.status == 201
    assert len(api.get(organisation).json()["data"]) == 16


def test_another_organisations_endpoint_is_not_found_and_unchanged(
    api: ApiClient, other_api: ApiClient, organisation: str
) -> None:
    created = create(api, organisation)
    path = f"{organisation}/{created['id']}"
    theirs = other_api.post("/v1/organisations", {"name": "Intruder", "default_currency": "EUR"}).json()
    own_path = f"/v1/organisations/{theirs['id']}/webhook_endpoints/{created['id']}"

    answers = [
        other_api.get(path),
        other_api.patch(path, {"url": "https://other.example.com/x"}),
        other_api.post(f"{path}/rotate_secret"),
        other_api.delete(path),
        other_api.get(own_path),
        other_api.patch(own_path, {"status": "disabled"}),
        other_api.post(f"{own_path}/rotate_secret"),
        other_api.delete(own_path),
    ]

    assert [answer.status for answer in answers] == [404] * len(answers)
    assert other_api.get(organisation).status == 404
    assert api.get(path).json() == {key: value for key, value in created.items() if key != "secret"}


def test_secrets_are_never_logged(api: ApiClient, organisation: str, captured_logs: io.StringIO) -> None:
    created = create(api, organisation)
    rotated = api.post(f"{organisation}/{created['id']}/rotate_secret").json()
    api.get(organisation)

    logged = captured_logs.getvalue()
    assert "Request answered" in logged
    assert created["secret"] not in logged
    assert rotated["secret"] not in logged


@pytest.mark.parametrize("role", ["billing", "viewer"])
def test_billing_and_viewer_roles_read_endpoints_but_cannot_manage_them(
    api: ApiClient, organisation: str, role: str
) -> None:
    from remit.bootstrap import services
    from remit.domain.errors import NotPermitted
    from remit.domain.roles import Caller
    from remit.domain.webhooks import NewWebhookEndpoint, WebhookEndpointChanges

    created = create(api, organisation)
    organisation_id = organisation.split("/")[3]
    account_id = services().accounts.authenticate(f"Bearer {api.api_key}").account_id
    caller = services().acting_as(Caller.member(account_id, "someone@acme.test", role))  # type: ignore[arg-type]

    assert [e.id for e in caller.webhook_endpoints.list(account_id, organisation_id)] == [created["id"]]
    with pytest.raises(NotPermitted):
        caller.webhook_endpoints.create(
            account_id, organisation_id, NewWebhookEndpoint(url=PUBLIC, enabled_events=["*"])
        )
    with pytest.raises(NotPermitted):
        caller.webhook_endpoints.rotate_secret(account_id, organisation_id, created["id"])
    with pytest.raises(NotPermitted):
        caller.webhook_endpoints.update(
            account_id, organisation_id, created["id"], WebhookEndpointChanges(status="disabled")
        )
    with pytest.raises(NotPermitted):
        caller.webhook_endpoints.delete(account_id, organisation_id, created["id"])

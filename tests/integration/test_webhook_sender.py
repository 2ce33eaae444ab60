"""Posting signed events to a receiver on loopback: what succeeds, what fails and is reported,
and destinations refused at delivery time whatever their hostname resolved to before."""

from __future__ import annotations

import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from remit.adapters.webhook_sender import WebhookSender
from remit.domain.deliveries import RESPONSE_HEAD_BYTES, PostResult
from remit.domain.webhook_addresses import IPAddress
from tests.integration.webhook_receiver import Receiver, running_receiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OLD_SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="
BODY = json.dumps({"id": "evt_1", "type": "invoice.finalized"}).encode()
LOOPBACK = ipaddress.ip_address("127.0.0.1")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def sender(**options: object) -> WebhookSender:
    return WebhookSender(allow_http_loopback=True, **options)  # type: ignore[arg-type]


def post(
    with_sender: WebhookSender, url: str, *, message_id: str = "evt_1", secrets: Sequence[str] = (SECRET,)
) -> PostResult:
    return with_sender.send(
        url=url, message_id=message_id, body=BODY, secrets=secrets, timestamp=datetime.now(UTC)
    )


def test_an_event_arrives_signed_and_the_library_verifies_it(receiver: Receiver) -> None:
    result = post(sender(), receiver.url("/hooks?source=remit"), message_id="evt_1")

    assert result.succeeded
    assert result.status_code == 200
    assert result.response_head == '{"received": true}'
    [request] = receiver.to("/hooks?source=remit")
    assert request.headers["webhook-id"] == "evt_1"
    assert request.headers["content-type"] == "application/json"
    assert Webhook(SECRET).verify(request.body, request.headers) == json.loads(BODY)


def test_during_a_rotation_both_secrets_sign_and_either_verifies(receiver: Receiver) -> None:
    result = post(sender(), receiver.url("/hooks"), message_id="evt_2", secrets=[SECRET, OLD_SECRET])

    assert result.succeeded
    [request] = receiver.to("/hooks")
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(SECRET).verify(request.body, request.headers)
    Webhook(OLD_SECRET).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "Tk9UVEhFU0VDUkVUTk9UVEhFU0VDUkVU").verify(request.body, request.headers)
    tampered = request.body.replace(b"finalized", b"paid")
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(tampered, request.headers)


def test_a_500_is_a_failed_attempt_with_the_answer_kept(receiver: Receiver) -> None:
    result = post(sender(), receiver.url("/fail"), message_id="evt_3")

    assert not result.succeeded
    assert result.status_code == 500
    assert result.error == "answered 500"
    assert result.response_head == "internal error"


def test_a_redirect_is_not_followed_and_fails(receiver: Receiver) -> None:
    result = post(sender(), receiver.url("/redirect"), message_id="evt_4")

    assert not result.succeeded
    assert result.status_code == 302
    assert result.error is not None
    assert "not followed" in result.error
    assert len(receiver.requests) == 1


def test_a_slow_receiver_times_out_within_the_deadline(receiver: Receiver) -> None:
    receiver.slow_seconds = 3.0
    started = time.monotonic()
    result = post(sender(timeout_seconds=0.5), receiver.url("/slow"), message_id="evt_5")

    assert time.monotonic() - started < 1.5
    assert not result.succeeded
    assert result.status_code is None
    assert result.error == "timed out after 0.5 s"


def test_a_dead_port_fails_with_connection_refused() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    result = post(sender(), f"http://127.0.0.1:{port}/", message_id="evt_6")

    assert not result.succeeded
    assert result.status_code is None
    assert result.error == "connection refused"


def test_a_huge_answer_is_never_read_past_the_first_kilobyte(receiver: Receiver) -> None:
    started = time.monotonic()
    result = post(sender(), receiver.url("/huge"), message_id="evt_7")

    assert result.succeeded
    assert len(result.response_head) == RESPONSE_HEAD_BYTES
    assert time.monotonic() - started < 2


def test_a_slow_endpoint_does_not_delay_another(receiver: Receiver) -> None:
    receiver.slow_seconds = 2.0
    slow_sender = sender(timeout_seconds=5)
    threading.Thread(
        target=lambda: slow_sender.send(
            url=receiver.url("/slow"),
            message_id="evt_s",
            body=BODY,
            secrets=[SECRET],
            timestamp=datetime.now(UTC),
        ),
        daemon=True,
    ).start()
    time.sleep(0.1)
    started = time.monotonic()
    result = post(sender(), receiver.url("/fast"), message_id="evt_f")

    assert result.succeeded
    assert time.monotonic() - started < 1.0


class RebindingResolver:
    """Answers with each list in turn: a name that resolved to a harmless address at creation,
    then to a private one at delivery."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = [[ipaddress.ip_address(a) for a in answer] for answer in answers]
        self.calls = 0

    def resolve(self, host: str) -> Sequence[IPAddress]:
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        return answer


def test_the_checked_address_is_the_one_connected_to_without_a_second_lookup() -> None:
    # The receiver listens on 127.0.0.2 only; the system resolves `localhost` to 127.0.0.1 (or
    # ::1), where nothing listens: the request can only arrive through the address checked.
    with running_receiver("127.0.0.2") as elsewhere:
        resolver = RebindingResolver(["127.0.0.2"])
        result = post(
            sender(resolver=resolver), elsewhere.url("/hooks", host="localhost"), message_id="evt_8"
        )

        assert result.succeeded, result.error
        assert resolver.calls == 1
        [request] = elsewhere.to("/hooks")
        assert request.headers["host"] == f"localhost:{elsewhere.port}"


def test_a_host_rebound_to_a_private_address_is_refused_at_delivery(receiver: Receiver) -> None:
    resolver = RebindingResolver(["127.0.0.1"], ["10.0.0.7"], ["127.0.0.1", "169.254.169.254"])
    with_resolver = sender(resolver=resolver)
    url = receiver.url("/hooks", host="localhost")

    first = post(with_resolver, url, message_id="evt_9")
    second = post(with_resolver, url, message_id="evt_9")
    third = post(with_resolver, url, message_id="evt_9")

    assert first.succeeded
    assert not second.succeeded
    assert second.error is not None
    assert "10.0.0.7" in second.error
    assert "private network" in second.error
    assert not third.succeeded
    assert third.error is not None
    assert "metadata" in third.error
    assert resolver.calls == 3
    assert len(receiver.requests) == 1


def test_outside_the_local_stack_loopback_and_http_are_refused(receiver: Receiver) -> None:
    deployed = WebhookSender(allow_http_loopback=False, resolver=RebindingResolver(["127.0.0.1"]))

    over_http = post(deployed, receiver.url("/hooks"), message_id="evt_10")
    to_loopback = post(deployed, f"https://hooks.example.com:{receiver.port}/", message_id="evt_10")

    assert over_http.error == "url must be an https:// URL"
    assert to_loopback.error is not None
    assert "loopback" in to_loopback.error
    assert receiver.requests == []


def _certificate(tmp_path: Path, hostname: str) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate it signs for `hostname`: (CA file, cert file, key file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Remit test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


def test_over_https_the_pinned_address_is_reached_and_the_certificate_checked_for_the_hostname(
    tmp_path: Path,
) -> None:
    ca, cert, key = _certificate(tmp_path, "hooks.remit.test")
    with running_receiver() as receiver:
        server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_tls.load_cert_chain(cert, key)
        receiver.server.socket = server_tls.wrap_socket(receiver.server.socket, server_side=True)
        trusting = ssl.create_default_context(cafile=str(ca))
        # The test's resolver is the only way to the receiver: `hooks.remit.test` resolves nowhere else.
        with_tls = sender(resolver=RebindingResolver(["127.0.0.1"]), tls_context=trusting)

        good = post(with_tls, f"https://hooks.remit.test:{receiver.port}/tls", message_id="evt_tls")
        wrong_name = post(
            sender(resolver=RebindingResolver(["127.0.0.1"]), tls_context=trusting),
            f"https://other.remit.test:{receiver.port}/tls",
            message_id="evt_tls",
        )

    assert good.succeeded, good.error
    [request] = receiver.to("/tls")
    assert request.headers["host"] == f"hooks.remit.test:{receiver.port}"
    Webhook(SECRET).verify(request.body, request.headers)
    assert not wrong_name.succeeded
    assert wrong_name.error is not None
    assert wrong_name.error.startswith("TLS failed")

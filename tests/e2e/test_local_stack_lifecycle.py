"""Starting, stopping, restarting and crashing the local stack: what survives and what is left behind."""

from __future__ import annotations

import contextlib
import socket
import struct
import time
import zlib
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import DEV_API_KEY
from tests.e2e.local_stack import RunningLocalStack, start_local_stack

pytestmark = pytest.mark.e2e


def one_pixel_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\x1a\x73\xe8")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def create_organisation_with_customer(stack: RunningLocalStack) -> tuple[str, str]:
    organisation = requests.post(
        stack.url("/v1/organisations"),
        json={"name": "Acme Ltd", "default_currency": "EUR"},
        headers=stack.auth(),
        timeout=10,
    )
    assert organisation.status_code == 201, organisation.text
    organisation_id = organisation.json()["id"]
    customer = requests.post(
        stack.url(f"/v1/organisations/{organisation_id}/customers"),
        json={"name": "Globex GmbH", "email": "ap@globex.test"},
        headers=stack.auth(),
        timeout=10,
    )
    assert customer.status_code == 201, customer.text
    return organisation_id, customer.json()["id"]


def customer_ids(stack: RunningLocalStack, organisation_id: str) -> list[str]:
    response = requests.get(
        stack.url(f"/v1/organisations/{organisation_id}/customers"), headers=stack.auth(), timeout=10
    )
    assert response.status_code == 200, response.text
    return [customer["id"] for customer in response.json()["data"]]


def test_a_restart_keeps_organisations_customers_and_the_dev_key(tmp_path: Path) -> None:
    first_run = start_local_stack(tmp_path / "data", DEV_API_KEY)
    organisation_id, customer_id = create_organisation_with_customer(first_run)
    assert first_run.interrupt() == 0, first_run.log()

    second_run = start_local_stack(tmp_path / "data", DEV_API_KEY)
    try:
        organisation = requests.get(
            second_run.url(f"/v1/organisations/{organisation_id}"), headers=second_run.auth(), timeout=10
        )
        kept_customers = customer_ids(second_run, organisation_id)
    finally:
        assert second_run.interrupt() == 0, second_run.log()

    assert organisation.status_code == 200, organisation.text
    assert organisation.json()["name"] == "Acme Ltd"
    assert kept_customers == [customer_id]


def test_without_a_configured_key_the_generated_dev_key_is_printed_and_kept_across_restarts(
    tmp_path: Path,
) -> None:
    first_run = start_local_stack(tmp_path / "data", dev_api_key=None)
    generated_key = first_run.dev_api_key
    organisations_before = requests.get(
        first_run.url("/v1/organisations"), headers=first_run.auth(), timeout=10
    )
    assert first_run.interrupt() == 0, first_run.log()

    second_run = start_local_stack(tmp_path / "data", dev_api_key=None)
    try:
        organisations_after = requests.get(
            second_run.url("/v1/organisations"), headers=second_run.auth(generated_key), timeout=10
        )
    finally:
        assert second_run.interrupt() == 0, second_run.log()

    assert organisations_before.status_code == 200
    assert second_run.dev_api_key == generated_key
    assert organisations_after.status_code == 200


def now_on_the_file_clock(folder: Path) -> float:
    """Now, as the file system stamps it (its clock is coarser than `time.time()`)."""
    probe = folder / "now"
    probe.touch()
    return probe.stat().st_mtime


def modification_times(folder: Path) -> list[float]:
    times = []
    for path in folder.rglob("*"):
        with contextlib.suppress(FileNotFoundError):  # a save's temporary file, renamed meanwhile
            times.append(path.stat().st_mtime)
    return times


def wait_for_a_save_after(data_dir: Path, moment: float, timeout_seconds: float = 60.0) -> None:
    """Return once the stack has written to `data_dir` at or after `moment`, plus half a second.

    The stack saves about a second after a change, but spaces its saves by a multiple of the last
    save's duration, so on 2 busy cores (parallel workers) a fixed sleep was sometimes too short.
    A save that starts after a request has finished includes it (saves wait for requests).
    """
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if any(modified >= moment for modified in modification_times(data_dir)):
            time.sleep(0.5)  # let a save that writes several files finish them
            return
        time.sleep(0.1)
    raise AssertionError(f"the stack saved nothing within {timeout_seconds} s of a change")


def test_data_written_seconds_before_a_crash_survives_it(tmp_path: Path) -> None:
    first_run = start_local_stack(tmp_path / "data", DEV_API_KEY)
    organisation_id, customer_id = create_organisation_with_customer(first_run)
    wait_for_a_save_after(first_run.data_dir, now_on_the_file_clock(tmp_path))
    first_run.crash()

    second_run = start_local_stack(tmp_path / "data", DEV_API_KEY)
    try:
        kept_customers = customer_ids(second_run, organisation_id)
    finally:
        assert second_run.interrupt() == 0, second_run.log()

    assert kept_customers == [customer_id]


def test_an_uploaded_logo_is_served_and_survives_a_restart(tmp_path: Path) -> None:
    logo = one_pixel_png()
    first_run = start_local_stack(tmp_path / "data", DEV_API_KEY)
    organisation_id, _ = create_organisation_with_customer(first_run)
    uploaded = requests.put(
        first_run.url(f"/v1/organisations/{organisation_id}/logo"),
        data=logo,
        headers={**first_run.auth(), "Content-Type": "image/png"},
        timeout=10,
    )
    assert uploaded.status_code == 200, uploaded.text
    logo_url = uploaded.json()["branding"]["logo_url"]
    # What is stored is drawn again from the upload's pixels: a PNG, not the very bytes sent.
    stored = requests.get(logo_url, timeout=10).content
    assert first_run.interrupt() == 0, first_run.log()

    # The logo's URL names the stack's address, so the second run listens where the first did.
    second_run = start_local_stack(
        tmp_path / "data", DEV_API_KEY, port=int(logo_url.split(":")[2].split("/")[0])
    )
    try:
        served = requests.get(logo_url, timeout=10)
    finally:
        assert second_run.interrupt() == 0, second_run.log()

    assert logo_url.startswith(first_run.base_url)
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/png"
    assert served.content == stored
    assert stored.startswith(b"\x89PNG\r\n\x1a\n")


def test_the_stack_exits_0_on_sigint_and_leaves_no_process_or_port_behind(tmp_path: Path) -> None:
    running = start_local_stack(tmp_path / "data", DEV_API_KEY)
    port = int(running.base_url.rsplit(":", 1)[1])
    children = running.child_pids()

    exit_status = running.interrupt()

    assert exit_status == 0, running.log()
    assert [pid for pid in children if Path(f"/proc/{pid}").exists()] == []
    with socket.socket() as probe:
        # With SO_REUSEADDR, binding fails only while something still listens on the port.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
    assert "stopped; data saved" in running.log()

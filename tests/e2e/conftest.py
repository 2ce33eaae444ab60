"""End-to-end fixtures: the local stack started as `make run` starts it, driven over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, sync_playwright

from tests.e2e.local_stack import RunningLocalStack, start_local_stack

DEV_API_KEY = "rk_e2e_dev_key_for_the_local_stack_0001"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLocalStack]:
    """A local stack shared by a test module, with an empty data directory and a known dev key."""
    running = start_local_stack(tmp_path_factory.mktemp("local-stack") / "data", DEV_API_KEY)
    yield running
    assert running.interrupt() == 0, running.log()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, driven by Playwright (no browser is downloaded)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield launched
        launched.close()


def call(stack: RunningLocalStack, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
    """One API call with the dev key; asserts the status and answers the JSON body."""
    response = requests.request(method, stack.url(path), json=body, headers=stack.auth(), timeout=30)
    assert response.status_code == expect, response.text
    return response.json() if response.content else None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep each module's tests that share its stack on one xdist worker (`--dist loadgroup`), and
    hand the end-to-end tests out first.

    Otherwise every worker that got one of the module's tests would start a stack of its own. The
    e2e tests are few and long (a stack's start, a browser, up to a minute or more for one test):
    handed out last, as collected, one worker would still run one of them after the other had
    finished everything else; handed out first, the short unit and integration tests fill the end.
    """
    here = Path(__file__).parent
    for item in items:
        if "stack" in getattr(item, "fixturenames", ()) and item.path.is_relative_to(here):
            item.add_marker(pytest.mark.xdist_group(f"e2e-stack-{item.path.stem}"))
    end_to_end = [item for item in items if item.path.is_relative_to(here)]
    if end_to_end and len(end_to_end) < len(items):
        others = [item for item in items if not item.path.is_relative_to(here)]
        items[:] = end_to_end + others

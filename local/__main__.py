"""`make run`: the whole Remit platform on this machine, until Ctrl-C.

    PYTHONPATH=functions python -m local

Settings: `PORT` (default 3000), `REMIT_LOCAL_DIR` (default `.local/` in the repository),
`REMIT_DEV_API_KEY` (default: generated on the first start and kept in the data directory).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from datetime import UTC, datetime
from types import FrameType

from local.dev_accounts import DevAccountError
from local.environment import LocalSettings, SettingsError
from local.journal import JournalError
from local.stack import LocalStack, RunningStack

logger = logging.getLogger("local")
# How often the main thread looks whether a stop was asked for.
_STOP_POLL_SECONDS = 0.2


def main() -> int:
    """Run the stack until SIGINT or SIGTERM.

    Exit status: 0 after a clean stop, 1 when the stack could not start, 2 on bad settings.
    """
    _configure_logging()
    try:
        settings = LocalSettings.from_environ()
    except SettingsError as error:
        logger.error("%s", error)
        return 2

    stop_requested = _stop_on_signals()
    stack = LocalStack(settings)
    started = time.perf_counter()
    try:
        running = stack.start()
    except OSError as error:
        logger.error("cannot start the local stack on port %d: %s", settings.port, error)
        return 1
    except DevAccountError as error:
        logger.error("%s", error)
        return 1
    except JournalError as error:
        logger.error("%s; move the data directory away to start with no data", error)
        return 1
    if not stop_requested.is_set():  # Ctrl-C while starting: stop without advertising the stack
        _print_banner(running, time.perf_counter() - started)
        while not stop_requested.is_set():
            time.sleep(_STOP_POLL_SECONDS)
    logger.info("stopping (press Ctrl-C again to stop at once)")
    stack.stop()
    logger.info("stopped; data saved in %s", running.data_dir)
    return 0


class _StopRequest:
    """A flag the signal handler sets. Not a `threading.Event`: setting one takes a lock that the
    main thread may hold at the very moment the signal arrives (inside `Event.wait`), and the
    handler, which runs on the main thread, would then wait for ever: Ctrl-C seemed ignored.
    """

    def __init__(self) -> None:
        self.requested = False

    def is_set(self) -> bool:
        return self.requested


def _stop_on_signals() -> _StopRequest:
    """A flag set by the first SIGINT or SIGTERM; a second one ends the process at once.

    Ending at once is safe for the data: each save is one SQLite transaction, so the last
    complete one is what the next start finds.
    """
    stop_requested = _StopRequest()

    def request_stop(signal_number: int, frame: FrameType | None) -> None:
        if stop_requested.requested:
            os._exit(128 + signal_number)
        stop_requested.requested = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    return stop_requested


def _configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    logger.addHandler(handler)
    logger.setLevel(os.environ.get("REMIT_LOCAL_LOG_LEVEL", "INFO").upper())
    # Remit's own Powertools logger is configured by Remit; keep the stack's lines out of it.
    logger.propagate = False


def _print_banner(running: RunningStack, startup_seconds: float) -> None:
    key = running.dev_account.api_key
    restored = running.restored
    data = (
        f"{running.data_dir} (restored {restored.items} items, {restored.objects} objects)"
        if restored
        else f"{running.data_dir} (new)"
    )
    today = datetime.now(UTC).date().isoformat()
    user = running.dev_user
    dashboard = f"{running.base_url}/dashboard/"
    if user is not None:
        dashboard += f"\n  Dev user     {user.email} / {user.password}"
    cycle = (
        f"\n\nRecurring billing runs daily at {running.daily_cycle}; run a day's cycle now:\n"
        f'  curl -s -X POST {running.base_url}/_dev/run/invoicing-cycle -d \'{{"date":"{today}"}}\''
        if running.daily_cycle
        else ""
    )
    reminders = (
        f"\nPayment reminders go out daily at {running.daily_reminders}; now: "
        f'curl -s -X POST {running.base_url}/_dev/run/reminders -d \'{{"date":"{today}"}}\''
        if running.daily_reminders
        else ""
    )
    print(
        f"""
Remit local stack ready in {startup_seconds:.1f} s
  API          {running.base_url}
  Dashboard    {dashboard}
  AWS          {running.aws_endpoint_url} (the emulation; any credentials)
  Data         {data}
  Dev API key  {key}

Try:
  curl -s -X POST {running.base_url}/v1/organisations -H "Authorization: Bearer {key}" \\
    -H 'Content-Type: application/json' -d '{{"name":"Acme Ltd","default_currency":"EUR"}}'{cycle}{reminders}

Press Ctrl-C to stop.
""",
        flush=True,
    )


if __name__ == "__main__":
    raise SystemExit(main())

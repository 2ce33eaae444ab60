"""The dashboard's dev user, made in the dev account at every start of the local stack.

The emulated user pool is new at each start (the journal keeps tables and buckets, not Cognito),
so the user is created again each time, with the same email and password: `$REMIT_DEV_EMAIL` /
`$REMIT_DEV_PASSWORD` when set, otherwise the ones kept in the data directory, generated on the
very first start.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from local.atomic_files import write_atomically
from local.dev_accounts import DevAccountError

DEFAULT_DEV_EMAIL = "dev@remit.local"
_USER_FILE = "dev-user.json"


@dataclass(frozen=True)
class DevUser:
    """Who `make run` says can sign in to the dashboard."""

    email: str
    password: str


def ensure_dev_user(
    data_dir: Path, account_id: str, configured_email: str | None, configured_password: str | None
) -> DevUser:
    """Make sure the dashboard's user pool holds the dev user, in `account_id`, with its password.

    Raises `DevAccountError` when the pool refuses the configured email or password (a password
    its policy does not allow, for instance).
    """
    from remit.bootstrap import services
    from remit.domain.errors import InvalidInput

    kept = _read_kept_user(data_dir / _USER_FILE)
    email = configured_email or (kept.email if kept else DEFAULT_DEV_EMAIL)
    password = configured_password or (kept.password if kept else generated_password())
    try:
        services().users.create_user(email, account_id, password)
    except InvalidInput as refused:
        problems = "; ".join(f"{problem.field}: {problem.message}" for problem in refused.problems)
        raise DevAccountError(f"the dashboard's dev user cannot be created: {problems}") from refused
    if configured_email is None or configured_password is None:
        write_atomically(
            data_dir / _USER_FILE, json.dumps({"email": email, "password": password}).encode() + b"\n"
        )
    return DevUser(email=email, password=password)


def generated_password() -> str:
    """A password the pool's policy accepts (12+ characters, upper and lower case, a digit)."""
    return f"Dev-{secrets.token_urlsafe(15)}-7a"


def _read_kept_user(user_file: Path) -> DevUser | None:
    try:
        kept = json.loads(user_file.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    if not isinstance(kept, dict) or not kept.get("email") or not kept.get("password"):
        return None
    return DevUser(email=str(kept["email"]), password=str(kept["password"]))

"""Accounts for local development: the dev account made at start, and `POST /_dev/accounts`.

Accounts are created through Remit's own services (`remit.bootstrap.services().accounts`), so
keys work exactly as they do in a deployed stack. Remit is imported inside the functions, once
the stack has set the environment it reads.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.atomic_files import write_atomically
from local.http_messages import (
    HttpRequest,
    HttpResponse,
    RequestRejected,
    json_object_body,
    json_response,
    problem_response,
)

logger = logging.getLogger(__name__)

DEV_ACCOUNT_NAME = "Dev account"
ACCOUNT_NAME_MAX_LENGTH = 200
_KEY_FILE = "dev-api-key"


class DevAccountError(RuntimeError):
    """No dev account can be set up with the configured key."""


@dataclass(frozen=True)
class DevAccount:
    """The account `make run` prints the key of, and whether this start created it."""

    account_id: str
    api_key: str
    created: bool


def ensure_dev_account(data_dir: Path, configured_key: str | None) -> DevAccount:
    """Make sure an account answers to the dev API key, creating it if needed.

    The key is `configured_key` (`$REMIT_DEV_API_KEY`) when given; otherwise the key kept in the
    data directory, or, on the very first start, a key Remit generates, which is then kept there
    for later starts. Idempotent: a key that already authenticates is left as it is.
    Raises `DevAccountError` when Remit refuses the key (too short, for instance).
    """
    from remit.bootstrap import services
    from remit.domain.errors import DomainError

    accounts = services().accounts
    key_file = data_dir / _KEY_FILE
    api_key = configured_key or _read_kept_key(key_file)
    if api_key is not None:
        account_id = accounts.account_for_key(api_key)
        if account_id is not None:
            return DevAccount(account_id=account_id, api_key=api_key, created=False)

    try:
        account = accounts.create_account(DEV_ACCOUNT_NAME, api_key=api_key)
    except DomainError as refused:
        source = "REMIT_DEV_API_KEY" if configured_key else str(key_file)
        raise DevAccountError(f"the dev API key from {source} cannot be used: {refused.detail}") from refused
    if configured_key is None:
        write_atomically(key_file, f"{account.api_key}\n".encode())
    logger.debug("created the dev account %s", account.account_id)
    return DevAccount(account_id=account.account_id, api_key=account.api_key, created=True)


def open_account(request: HttpRequest) -> HttpResponse:
    """`POST /_dev/accounts {"name": …}`: a new account, answered `201 {"account_id", "api_key"}`.

    400 when the body is not a JSON object, 422 when `name` is not a string of 1 to 200 characters.
    """
    from remit.bootstrap import services
    from remit.domain.errors import InvalidInput

    name = _account_name(json_object_body(request))
    try:
        account = services().accounts.create_account(name)
    except InvalidInput as invalid:
        raise RequestRejected(
            _invalid_fields([{"field": p.field, "message": p.message} for p in invalid.problems])
        ) from None
    return json_response(201, {"account_id": account.account_id, "api_key": account.api_key})


def _account_name(body: dict[str, Any]) -> str:
    name = body.get("name")
    if isinstance(name, str) and name.strip() and len(name) <= ACCOUNT_NAME_MAX_LENGTH:
        return name
    if name is None:
        message = "is required"
    elif not isinstance(name, str):
        message = "must be a string"
    elif not name.strip():
        message = "must not be blank"
    else:
        message = f"must be at most {ACCOUNT_NAME_MAX_LENGTH} characters"
    raise RequestRejected(_invalid_fields([{"field": "name", "message": message}]))


def _invalid_fields(errors: list[dict[str, str]]) -> HttpResponse:
    summary = "; ".join(f"{error['field']}: {error['message']}" for error in errors)
    return problem_response(422, "invalid-fields", f"Invalid fields: {summary}", errors)


def _read_kept_key(key_file: Path) -> str | None:
    try:
        return key_file.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None

"""The local stack's dashboard dev user: made in the dev account, its password kept or configured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local.dev_accounts import DevAccountError
from local.dev_users import DEFAULT_DEV_EMAIL, ensure_dev_user

pytestmark = pytest.mark.usefixtures("user_pool")


def test_a_generated_dev_user_signs_in_to_the_dev_account_and_is_kept(tmp_path: Path) -> None:
    from remit.bootstrap import services

    user = ensure_dev_user(tmp_path, "acc_dev", None, None)

    tokens = services().users.sign_in(user.email, user.password)
    assert services().users.user_of(tokens.access_token).account_id == "acc_dev"
    assert user.email == DEFAULT_DEV_EMAIL
    kept = json.loads((tmp_path / "dev-user.json").read_text())
    assert kept == {"email": user.email, "password": user.password}


def test_the_configured_email_and_password_are_used_and_not_written_down(tmp_path: Path) -> None:
    from remit.bootstrap import services

    user = ensure_dev_user(tmp_path, "acc_dev", "me@example.com", "Chosen-password-1")

    services().users.sign_in("me@example.com", "Chosen-password-1")
    assert (user.email, user.password) == ("me@example.com", "Chosen-password-1")
    assert not (tmp_path / "dev-user.json").exists()


def test_a_password_the_pool_refuses_stops_the_start_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(DevAccountError, match="password"):
        ensure_dev_user(tmp_path, "acc_dev", None, "short")

"""API keys: random, recognisable by their prefix, and stored only as a digest."""

from __future__ import annotations

import re

from remit.domain.account import API_KEY_PREFIX, api_key_digest, generate_api_key


def test_an_api_key_is_rk_then_43_url_safe_characters() -> None:
    api_key = generate_api_key()

    assert api_key.startswith(API_KEY_PREFIX)
    assert API_KEY_PREFIX == "rk_"
    assert re.fullmatch(r"rk_[A-Za-z0-9_-]{43}", api_key), api_key


def test_every_generated_api_key_is_different() -> None:
    keys = {generate_api_key() for _ in range(1_000)}

    assert len(keys) == 1_000


def test_the_digest_of_a_key_never_changes() -> None:
    # Stored digests must keep matching the keys customers hold, release after release.
    assert api_key_digest("rk_example") == "de0b95505be786f80c71e2fa6168ba3ca61ee58611c53b07ef4f48efcfbc88d3"


def test_the_digest_does_not_reveal_the_key() -> None:
    api_key = generate_api_key()

    digest = api_key_digest(api_key)

    assert api_key not in digest
    assert api_key.removeprefix(API_KEY_PREFIX) not in digest
    assert re.fullmatch(r"[0-9a-f]{64}", digest)


def test_different_keys_have_different_digests() -> None:
    assert api_key_digest("rk_a") != api_key_digest("rk_b")
    assert api_key_digest(generate_api_key()) != api_key_digest(generate_api_key())

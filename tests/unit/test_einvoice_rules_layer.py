"""The validator function's layer is pinned by the requirements files, never by a list of its own."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_the_rules_layer_takes_its_pins_from_the_requirements_files(tmp_path: Path) -> None:
    from tools.einvoice_rules import LAYER_SHARED_PACKAGES, REPOSITORY, _pins

    shared = _pins(REPOSITORY / "shared" / "requirements.txt", LAYER_SHARED_PACKAGES)
    assert sorted(pin.split("==")[0] for pin in shared) == sorted(LAYER_SHARED_PACKAGES)
    assert all("==" in pin for pin in shared)
    partial = tmp_path / "requirements.txt"
    partial.write_text("# only one\npydantic==2.13.5\n")
    with pytest.raises(RuntimeError, match="does not pin all"):
        _pins(partial, ("pydantic", "pydantic-core"))

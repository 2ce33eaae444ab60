"""Settings read from the environment: a deployed function names its stage or does not start."""

from __future__ import annotations

import pytest

from remit.config import Settings


def test_a_deployed_function_without_a_stage_refuses_to_start() -> None:
    with pytest.raises(RuntimeError, match="REMIT_STAGE"):
        Settings.from_environment({"AWS_LAMBDA_FUNCTION_NAME": "remit-prod-ApiFunction"})


def test_a_deployed_function_runs_in_the_stage_it_names() -> None:
    environment = {"AWS_LAMBDA_FUNCTION_NAME": "remit-prod-ApiFunction", "REMIT_STAGE": "prod"}

    assert Settings.from_environment(environment).stage == "prod"


def test_an_empty_stage_is_no_stage() -> None:
    with pytest.raises(RuntimeError, match="REMIT_STAGE"):
        Settings.from_environment({"AWS_LAMBDA_FUNCTION_NAME": "remit-api", "REMIT_STAGE": ""})


def test_outside_lambda_an_unset_stage_is_the_local_stack() -> None:
    assert Settings.from_environment({}).stage == "local"


def test_a_stage_that_does_not_exist_is_refused() -> None:
    with pytest.raises(ValueError, match="REMIT_STAGE must be one of"):
        Settings.from_environment({"REMIT_STAGE": "staging"})

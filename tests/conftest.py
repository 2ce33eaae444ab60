"""Settings every test layer shares."""

from __future__ import annotations

import functools

import botocore.loaders
import botocore.session
from hypothesis import settings

# Every boto3 session botocore makes loads the AWS service models (large JSON files) afresh, and
# moto's `mock_aws` starts each test with a new default session: one loader per data path for
# the whole test process parses each model once. The models are read-only data, which a session
# already shares among its clients.
botocore.session.create_loader = functools.cache(botocore.loaders.create_loader)

# Property tests are deterministic (the examples are seeded from each test, so every run and every
# xdist worker tries the same ones), keep no example database (nothing shared between workers or
# worktrees) and have no deadline (2 busy cores make timings meaningless). To search for new
# counter-examples instead: `make test PYTEST_ARGS='--hypothesis-profile=explore'`.
settings.register_profile("remit", database=None, deadline=None, derandomize=True, print_blob=True)
settings.register_profile("explore", database=None, deadline=None, derandomize=False, print_blob=True)
settings.load_profile("remit")

"""Settings every test layer shares."""

from __future__ import annotations

from hypothesis import settings

# Property tests are deterministic (the examples are seeded from each test, so every run and every
# xdist worker tries the same ones), keep no example database (nothing shared between workers or
# worktrees) and have no deadline (2 busy cores make timings meaningless). To search for new
# counter-examples instead: `make test PYTEST_ARGS='--hypothesis-profile=explore'`.
settings.register_profile("remit", database=None, deadline=None, derandomize=True, print_blob=True)
settings.register_profile("explore", database=None, deadline=None, derandomize=False, print_blob=True)
settings.load_profile("remit")

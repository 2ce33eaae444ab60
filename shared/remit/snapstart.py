"""Lambda SnapStart: warm the snapshot, and renew what must differ between restored environments.

With SnapStart (the API and payment-webhook functions, template.yaml), Lambda initialises a
function once per published version, snapshots the memory, and resumes every new execution
environment from that one snapshot. Whatever the snapshot holds is therefore shared by all of
them, so after a restore each environment renews:

* the `random` module's state (retry jitter would otherwise be the same sequence everywhere;
  ids, API keys and tokens come from `secrets`, which reads the OS's entropy on every call);
* the boto3 default session (cached credentials and endpoints), and every client built from it:
  the services, and with them their clients and caches, are rebuilt on the next request;
* the settings read from the environment.

Before the snapshot, `prime` imports and wires the services (no AWS call, no client), so that a
restored environment does not pay for the imports that handlers leave to the first request.

The hooks are registered with `snapshot_restore_py`, which AWS ships in its Python managed
runtimes (3.12 and later); it is a development dependency here, and never part of the layer.
Outside SnapStart, registering does nothing: the runtime simply never calls the hooks.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import boto3
from snapshot_restore_py import register_after_restore, register_before_snapshot

from remit import bootstrap


def prime() -> None:
    """Imports and wires the services, as the snapshot should hold them (no AWS call)."""
    bootstrap.services()


def renew_after_restore() -> None:
    """Gives this environment its own random state, AWS session, clients and settings."""
    random.seed()  # from os.urandom: a fresh seed per restored environment
    boto3.DEFAULT_SESSION = None
    bootstrap.reset()


def register_hooks(
    *, also_prime: Callable[[], object] | None = None, also_renew: Callable[[], object] | None = None
) -> None:
    """Registers `prime` before the snapshot and `renew_after_restore` after each restore.

    `also_prime` and `also_renew` are the handler's own additions, e.g. the API's OpenAPI document
    to warm and its idempotency persistence layer to forget. The runtime calls before-snapshot
    hooks in the reverse order of registration and after-restore hooks in order, so Remit's own
    renewal always runs before the handler's.
    """
    register_before_snapshot(prime)
    if also_prime is not None:
        register_before_snapshot(also_prime)
    register_after_restore(renew_after_restore)
    if also_renew is not None:
        register_after_restore(also_renew)

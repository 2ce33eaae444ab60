"""moto's threaded server with DynamoDB made safe for concurrent clients.

moto's DynamoDB backend is not thread-safe: `TransactWriteItems` deep-copies whole tables while
other request threads write to them ("dictionary changed size during iteration"), so concurrent
requests (the API, dev routes, scheduled runs) could fail at random. Real DynamoDB serialises
conflicting writes itself; here every DynamoDB request runs alone. Other services keep answering
in parallel, so an SQS long poll never holds up the rest.

Imported only when the emulation starts: moto is heavy.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

WsgiApplication = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# How often the serving loop checks for shutdown: stopping the stack waits for it.
_POLL_INTERVAL_SECONDS = 0.1


def one_dynamodb_request_at_a_time(application: WsgiApplication) -> WsgiApplication:
    """Wrap a moto WSGI app so that DynamoDB requests (`X-Amz-Target: DynamoDB_…`) never overlap."""
    dynamodb = threading.Lock()

    def serialised(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
            return application(environ, start_response)
        with dynamodb:
            # The body is produced inside the lock: WSGI apps may do their work while it is iterated.
            return list(application(environ, start_response))

    return serialised


class LocalMotoServer(ThreadedMotoServer):
    """`ThreadedMotoServer` serving `one_dynamodb_request_at_a_time(moto's app)`."""

    def _server_entry(self) -> None:
        _copy_each_table_once_per_transaction()
        application = one_dynamodb_request_at_a_time(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            self._ip_address, self._port, application, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever(_POLL_INTERVAL_SECONDS)


class _DeepCopyOncePerTransaction:
    """Stands in for the `copy` module inside moto's DynamoDB models.

    moto backs up a table before a `TransactWriteItems` by deep-copying it once per item of the
    transaction: the same copy, up to 100 times over. Within one transaction (DynamoDB requests
    run one at a time here) the first copy of each table is reused, which is the same backup at a
    fraction of the cost; every other deep copy passes straight through.
    """

    def __init__(self) -> None:
        self.copies: dict[int, Any] | None = None

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        if self.copies is None:
            return copy.deepcopy(value, memo)
        if id(value) not in self.copies:
            self.copies[id(value)] = copy.deepcopy(value, memo)
        return self.copies[id(value)]


def _copy_each_table_once_per_transaction() -> None:
    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend

    if isinstance(getattr(models, "copy", None), _DeepCopyOncePerTransaction):
        return
    shim = _DeepCopyOncePerTransaction()
    models.copy = shim  # type: ignore[assignment]
    transact = DynamoDBBackend.transact_write_items

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        shim.copies = {}
        try:
            transact(self, transact_items)
        finally:
            shim.copies = None

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]

"""moto's threaded server with DynamoDB made safe for concurrent clients.

moto's DynamoDB backend is not thread-safe: a transaction applies its items one by one and undoes
them when cancelled, while other request threads would read and write the same tables, so
concurrent requests (the API, dev routes, scheduled runs) could see half a transaction or fail at
random. Real DynamoDB isolates transactions itself; here every DynamoDB request runs alone, and
`local.moto_patches` makes each one cost what it touches. Other services keep answering
in parallel, so an SQS long poll never holds up the rest.

Imported only when the emulation starts: moto is heavy.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from local import moto_patches

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
        moto_patches.install()
        application = one_dynamodb_request_at_a_time(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            self._ip_address, self._port, application, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever(_POLL_INTERVAL_SECONDS)

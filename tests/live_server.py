"""Run a WSGI app on a loopback port in a background thread, so tests speak real HTTP to it."""

from __future__ import annotations

import threading

from werkzeug.serving import make_server

from service.mock_idp.server import QueryFreeRequestHandler


class LiveServer:
    """A threaded werkzeug server on 127.0.0.1 with an OS-chosen port; logs omit query strings."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0):
        self.app = app
        self._server = make_server(
            host, port, app, threaded=True, request_handler=QueryFreeRequestHandler
        )
        self.host = host
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

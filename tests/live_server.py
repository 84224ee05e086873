"""Run a WSGI app on a loopback port in a background thread, so tests speak real HTTP to it."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

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


@contextmanager
def served_minifin(app_env: dict[str, str], **overrides: str) -> Iterator[LiveServer]:
    """Minifin on a free loopback port with its public URL pointing there, so what comes back to
    it (the mock's notifications, a browser sent back from the login page) arrives."""
    from service import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app({**app_env, **overrides, "MINIFIN_PUBLIC_URL": f"http://127.0.0.1:{port}"})
    try:
        with LiveServer(app, port=port) as live:
            yield live
    finally:
        app.extensions["minifin"].gateway.close()

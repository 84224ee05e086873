"""Serving the mock over HTTP with access logs that leave out query strings.

Gateway requests carry tokens and business content (names, ID numbers) in their query strings
when clients use GET; an access log must not copy them.
"""

from __future__ import annotations

from werkzeug.serving import WSGIRequestHandler, run_simple


class QueryFreeRequestHandler(WSGIRequestHandler):
    """werkzeug's handler, logging `GET /gateway.do` instead of the full request target."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path.split("?", 1)[0]
        self.log("info", '"%s %s %s" %s %s', self.command, path, self.request_version, code, size)


def serve(app, host: str, port: int) -> None:
    """Run the mock with threads, no reloader, and query-free access logs."""
    run_simple(
        host, port, app, threaded=True, use_reloader=False,
        request_handler=QueryFreeRequestHandler,
    )  # fmt: skip

"""Answers spoiled on the wire: what a real gateway, a proxy or a network in between can send.

Each kind replaces the (already rendered) answer of a call that acted, the way a reply is lost
after the platform did its work:

- `reset`: half the body, then the TCP connection is reset (RST, `SO_LINGER` 0);
- `trickle`: the whole body, one byte every `seconds` (default 0.5), so no single read waits
  long but the answer takes far longer than any client's timeout;
- `oversize`: the signed envelope padded with a field of 8 MiB, sent chunked (no
  Content-Length, so only a client that counts what it reads can stop early);
- `html`: a proxy's HTML error page with HTTP 502;
- `not_json`: HTTP 200 with a body that is not JSON;
- `wrong_method`: a correctly signed envelope under another method's `_response` key.
"""

from __future__ import annotations

import logging
import socket
import struct
import time
from collections.abc import Iterator
from typing import Any

from flask import Response, request

from service.gateway.signing import response_key
from service.mock_idp.responses import render_response

KINDS = ("reset", "trickle", "oversize", "html", "not_json", "wrong_method")
DEFAULT_TRICKLE_SECONDS = 0.5
OVERSIZE_PADDING_BYTES = 8 * 1024 * 1024
OTHER_METHOD = "alipay.system.oauth.token"
OTHER_METHOD_FALLBACK = "alipay.user.info.share"
PROXY_PAGE = (
    b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
    b"</h1></center><hr><center>nginx</center></body></html>\n"
)
logger = logging.getLogger(__name__)


def spoiled_response(
    kind: str,
    body: bytes,
    *,
    method: str,
    inner: dict[str, Any],
    private_key: Any,
    seconds: float | None,
) -> Response:
    """The HTTP response a `kind` fault sends in place of `body`."""
    json_type = "application/json;charset=utf-8"
    if kind == "reset":
        connection = request.environ.get("werkzeug.socket")
        return Response(_reset_midway(body, connection), status=200, content_type=json_type,
                        headers={"Content-Length": str(len(body))})  # fmt: skip
    if kind == "trickle":
        pause = DEFAULT_TRICKLE_SECONDS if seconds is None else seconds
        return Response(_trickle(body, pause), status=200, content_type=json_type,
                        headers={"Content-Length": str(len(body))})  # fmt: skip
    if kind == "oversize":
        return Response(_padded(body), status=200, content_type=json_type)  # chunked: no length
    if kind == "html":
        return Response(PROXY_PAGE, status=502, content_type="text/html")
    if kind == "not_json":
        return Response(b"<html><body>system busy</body></html>", status=200,
                        content_type="text/html;charset=utf-8")  # fmt: skip
    other = OTHER_METHOD if method != OTHER_METHOD else OTHER_METHOD_FALLBACK
    return Response(render_response(response_key(other), inner, private_key), status=200,
                    content_type=json_type)  # fmt: skip


def _reset_midway(body: bytes, connection: socket.socket | None) -> Iterator[bytes]:
    """Send half, then reset the connection so the client reads a broken answer."""
    yield body[: len(body) // 2]
    if connection is not None:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()
    else:  # a server that does not expose its socket: end short of Content-Length instead
        logger.warning("mock reset fault: no socket exposed; the answer is cut short")


def _padded(body: bytes) -> Iterator[bytes]:
    yield body[:-1] + b',"padding":"'
    chunk = b"x" * 65536
    for _ in range(OVERSIZE_PADDING_BYTES // len(chunk)):
        yield chunk
    yield b'"}'


def _trickle(body: bytes, pause: float) -> Iterator[bytes]:
    for index in range(len(body)):
        time.sleep(pause)
        yield body[index : index + 1]

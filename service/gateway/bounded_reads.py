"""Reading a gateway answer within a total deadline and a size cap.

httpx's read timeout bounds each read, not the answer: an answer trickling a byte at a time
never trips it. Here a watchdog shuts the socket down at the deadline, which ends a read blocked
in `recv` at once (between chunks the deadline is checked too), so no answer outlasts the call's
timeout by more than a tick. The answer is counted as it is read (decoded, so a gzip bomb meets
the cap too) and refused past `cap` bytes before it is buffered whole; a declared
Content-Length over the cap is refused before reading anything.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Mapping

import httpx


class AnswerTooLarge(Exception):
    """The answer ran past `max_answer_bytes`; the rest was not read."""


class DeadlinePassed(Exception):
    """The answer was still arriving when the call's total deadline passed."""


class _Watchdog:
    """Shuts the response's socket down at the deadline, ending a read that blocks past it."""

    def __init__(self, response: httpx.Response, deadline: float):
        self.fired = False
        stream = response.extensions.get("network_stream")
        self._socket = stream.get_extra_info("socket") if stream is not None else None
        self._timer = threading.Timer(max(0.0, deadline - time.perf_counter()), self._fire)
        self._timer.daemon = True
        if self._socket is not None:
            self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        with contextlib.suppress(OSError):  # already closed: the answer ended in time
            if self._socket is not None:  # always: the timer starts only with a socket
                self._socket.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


def post_within_deadline(
    http: httpx.Client,
    url: str,
    query: Mapping[str, str],
    body: Mapping[str, str],
    *,
    deadline: float,
    cap: int,
) -> tuple[int, bytes]:
    """POST a form and return (status, body), raising DeadlinePassed or AnswerTooLarge."""
    with http.stream(
        "POST",
        url,
        params=query,
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    ) as response:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            raise AnswerTooLarge
        watchdog = _Watchdog(response, deadline)
        try:
            return response.status_code, _read_capped(response, deadline, cap)
        except httpx.TransportError as exc:
            if watchdog.fired:
                raise DeadlinePassed from exc
            raise
        finally:
            watchdog.cancel()


def _read_capped(response: httpx.Response, deadline: float, cap: int) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > cap:
            raise AnswerTooLarge
        if time.perf_counter() >= deadline:
            raise DeadlinePassed
        chunks.append(chunk)
    return b"".join(chunks)

"""A merchant's webhook receiver on a loopback port, and a worker running the webhook sources.

The receiver verifies every delivery with the `standardwebhooks` package against the secrets it
knows, de-duplicates by `webhook-id`, and answers as the test tells it to (a status, a delay, a
redirect, a large body), so tests speak real HTTP to a real server.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"ok"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Received:
    id: str
    headers: dict[str, str]
    body: bytes
    verified_with: list[str]  # the known secrets that verify it
    payload: dict | None


class Receiver:
    """A threaded HTTP server on 127.0.0.1; `answer(n)` decides the n-th request's answer."""

    def __init__(self, secrets: list[str] | None = None,
                 answer: Callable[[int], Answer] | None = None):  # fmt: skip
        self.secrets = list(secrets or [])
        self.answer = answer or (lambda n: Answer())
        self.requests: list[Received] = []
        self.unique: dict[str, Received] = {}
        self.unverified = 0
        self._lock = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                receiver._record(dict(self.headers.items()), body)
                with receiver._lock:
                    number = len(receiver.requests)
                reply = receiver.answer(number)
                if reply.delay:
                    time.sleep(reply.delay)  # the endpoint being slow is the point
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def _record(self, headers: dict[str, str], body: bytes) -> None:
        verified, payload = [], None
        for secret in self.secrets:
            try:
                payload = Webhook(secret).verify(body, headers)
                verified.append(secret)
            except WebhookVerificationError:
                pass
        lowered = {k.lower(): v for k, v in headers.items()}
        received = Received(lowered.get("webhook-id", ""), lowered, body, verified, payload)
        with self._lock:
            self.requests.append(received)
            if not verified:
                self.unverified += 1
            self.unique.setdefault(received.id, received)
            self._lock.notify_all()

    def wait_for(self, predicate: Callable[[Receiver], bool], timeout: float = 20.0) -> None:
        """Until `predicate(self)` holds (checked at each request), or AssertionError."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"receiver: condition not met; got {len(self.requests)}")
                self._lock.wait(left)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class RunningWorker:
    """The webhook sources (fan-out and deliveries) in a worker thread of this process."""

    def __init__(self, app, poll_interval: float = 0.05):
        from service.scheduler.worker import Worker
        from service.webhooks.delivery import DELIVERIES
        from service.webhooks.fanout import FANOUT

        self.worker = Worker(app, sources=[FANOUT, DELIVERIES], poll_interval=poll_interval)
        self._thread = threading.Thread(target=self.worker.run, daemon=True)

    def __enter__(self) -> RunningWorker:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.worker.stop()
        self._thread.join(timeout=10)


def wait_until(condition: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    """Poll a condition the test cannot be told about (a row's state) until it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not met in {timeout}s: {what}")
        time.sleep(0.02)

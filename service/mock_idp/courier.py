"""The delivery thread of one mock app: posts due notifications and keeps what merchants answer.

Requests never wait for a merchant: they queue a notification and wake this thread. The thread
starts with the first notification (or at once when a restarted mock finds pending ones), sleeps
until the next attempt is due, and stops when the store closes.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from urllib.parse import urlencode

import httpx

from service.mock_idp import notifications
from service.mock_idp.notifications import DELIVERED_ANSWER, AttemptOutcome
from service.mock_idp.store import SETTINGS_TOPIC, MockStore

logger = logging.getLogger(__name__)
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
POST_TIMEOUT_SECONDS = 10.0
ERROR_KEPT_CHARS = 200
_PAUSE_AFTER_ERROR_SECONDS = 1.0


def _http_client() -> httpx.Client:
    # trust_env=False: the platform posts straight to the merchant, never through a local proxy.
    return httpx.Client(timeout=POST_TIMEOUT_SECONDS, trust_env=False, follow_redirects=False)


def post_form(http: httpx.Client, url: str, form: dict[str, str]) -> AttemptOutcome:
    """One POST of a notification; only HTTP 200 with the exact body `success` is delivered."""
    try:
        response = http.post(
            url,
            content=urlencode(form).encode("utf-8"),
            headers={"Content-Type": FORM_CONTENT_TYPE},
        )
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return AttemptOutcome(False, error=f"{type(exc).__name__}: {exc}"[:ERROR_KEPT_CHARS])
    delivered = response.status_code == 200 and response.content == DELIVERED_ANSWER
    answer = response.content.decode("utf-8", errors="replace")
    return AttemptOutcome(delivered, response.status_code, answer)


def deliver_now(store: MockStore, notify_id: str) -> bool | None:
    """One manual attempt right now, recorded; None when there is no such notification."""
    target = notifications.delivery_target(store, notify_id)
    if target is None:
        return None
    with _http_client() as http:
        outcome = post_form(http, *target)
    notifications.record_attempt(store, notify_id, outcome, manual=True, now=time.time())
    return outcome.delivered


class NotificationCourier:
    """One daemon thread per mock app, started lazily, woken by the store's announcements."""

    def __init__(self, store: MockStore):
        self.store = store
        self.thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._start_lock = threading.Lock()
        store.listen(notifications.TOPIC, self.wake)
        store.listen(SETTINGS_TOPIC, self._wake.set)  # a new time scale moves due times
        store.on_close(self.stop)

    @property
    def running(self) -> bool:
        """Whether the delivery thread is alive."""
        return self.thread is not None and self.thread.is_alive()

    def wake(self) -> None:
        """Start the thread if it is not running and have it look for due work now."""
        with self._start_lock:
            if self.thread is None and not self._stopping.is_set():
                self.thread = threading.Thread(
                    target=self._run, name="mock-idp-notifications", daemon=True
                )
                self.thread.start()
        self._wake.set()

    def resume(self) -> None:
        """Deliver what an earlier run of the mock left pending in the store."""
        if notifications.has_pending(self.store):
            self.wake()

    def stop(self, timeout: float = POST_TIMEOUT_SECONDS / 2) -> None:
        """Stop the thread (an attempt in flight is finished or abandoned) and wait for it."""
        self._stopping.set()
        self._wake.set()
        thread = self.thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        with _http_client() as http:
            while not self._stopping.is_set():
                self._wake.clear()
                try:
                    wait = self._deliver_due(http)
                except sqlite3.ProgrammingError:
                    return  # the store was closed under us
                except Exception:
                    logger.exception("mock notification delivery failed; retrying shortly")
                    wait = _PAUSE_AFTER_ERROR_SECONDS
                self._wake.wait(wait)

    def _deliver_due(self, http: httpx.Client) -> float | None:
        """Attempt every due notification; return seconds until the next is due (None: idle)."""
        while not self._stopping.is_set():
            pending = notifications.pending_deliveries(self.store)
            if not pending:
                return None
            delivery = pending[0]
            delay = delivery.due_at - time.time()
            if delay > 0:
                return delay
            outcome = post_form(http, delivery.notify_url, delivery.form)
            notifications.record_attempt(
                self.store, delivery.notify_id, outcome, manual=False, now=time.time()
            )
        return None

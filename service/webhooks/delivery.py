"""Delivering webhooks, endpoint by endpoint, so one slow or dead endpoint delays no other.

A worker claims *endpoints*, not deliveries: up to as many as its pool has free threads, among
the enabled endpoints with a due delivery, whose lease is free and whose circuit is closed (`FOR
UPDATE SKIP LOCKED` on PostgreSQL, so workers take different endpoints). Each claimed endpoint is
served by one thread of a bounded per-process pool, with at most PER_ENDPOINT requests out at
once (one worker holds an endpoint, so that bounds what it receives): its due deliveries, up to
PER_CLAIM at a time (one, a probe, while it is failing), each attempt recorded with its outcome
(outcomes.py; a run of successes in one transaction, a failure at once), the lease renewed
with each record. The thread keeps its endpoint while deliveries are
due and it answers, up to SERVE_SECONDS, then hands it back. `run_batch` returns as soon as the
claimed endpoints are handed to the pool, so a thread stuck on a timeout holds its own endpoint's
lease and nothing else: the worker's next pass claims the others again.

A worker that is stopped lets its threads finish the requests they have out (each bounded by
the timeout), record them and hand their endpoints back before it exits, so a restart delays
no endpoint. A worker killed mid-delivery leaves the endpoint's lease to run out; its
deliveries are still pending and go out again (at least once; receivers de-duplicate by
`webhook-id`).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import and_, exists, or_, select, update

from service.components import settings
from service.dbtypes import utcnow
from service.events.models import Event
from service.extensions import db
from service.scheduler.clock import db_now, db_now_plus
from service.scheduler.worker import DueWorkSource
from service.sql import seconds_until_earliest
from service.webhooks import sender
from service.webhooks.endpoints import signing_secrets
from service.webhooks.event_log import event_view
from service.webhooks.metrics import summary_line
from service.webhooks.models import PENDING, WebhookDelivery, WebhookEndpoint
from service.webhooks.outcomes import Attempted, lease_seconds, record_attempt, record_successes

log = logging.getLogger(__name__)
POOL_THREADS = 8  # endpoints served at once by one worker process
PER_CLAIM = 50  # deliveries read at a time for a healthy endpoint
PER_ENDPOINT = 4  # requests out at once to one endpoint
SERVE_SECONDS = 30.0  # how long a thread keeps an endpoint before handing it back
FLUSH_SECONDS = 5.0  # successes are recorded a run at a time, at least this often
STOP_MARGIN_SECONDS = 5.0  # beyond the request timeout, for a stopping pool's last records


def _due_delivery():
    return and_(
        WebhookDelivery.endpoint_id == WebhookEndpoint.id,
        WebhookDelivery.status == PENDING,
        WebhookDelivery.next_attempt_at <= db_now(),
    )


def _claimable():
    now = db_now()
    return (
        WebhookEndpoint.enabled.is_(True),
        or_(WebhookEndpoint.lease_expires_at.is_(None), WebhookEndpoint.lease_expires_at < now),
        or_(WebhookEndpoint.circuit_until.is_(None), WebhookEndpoint.circuit_until <= now),
    )


def claim_endpoints(worker_id: str, limit: int) -> list[str]:
    """Lease up to `limit` endpoints that have due deliveries to this worker; commits."""
    candidates = (
        select(WebhookEndpoint.id)
        .where(*_claimable(), exists().where(_due_delivery()))
        .order_by(WebhookEndpoint.lease_expires_at.nulls_first())
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = db.session.scalars(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id.in_(candidates.scalar_subquery()), *_claimable())
        .values(locked_by=worker_id, lease_expires_at=db_now_plus(lease_seconds()))
        .returning(WebhookEndpoint.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return list(claimed)


@dataclass(frozen=True)
class Due:
    """A delivery to make now, with what its body needs."""

    attempted: Attempted
    event_id: str
    body: str


def due_work(endpoint_id: str, worker_id: str) -> tuple[str, list[str], list[Due]] | None:
    """The endpoint's URL, signing secrets and due deliveries, while this worker holds it
    (None when it no longer does); ends the read's transaction before any request goes out."""
    try:
        endpoint = db.session.execute(
            select(WebhookEndpoint).where(
                WebhookEndpoint.id == endpoint_id, WebhookEndpoint.locked_by == worker_id,
                WebhookEndpoint.enabled.is_(True),
            ).execution_options(populate_existing=True)
        ).scalar_one_or_none()  # fmt: skip
        if endpoint is None:
            return None
        rows = db.session.execute(
            select(WebhookDelivery.id, WebhookDelivery.attempts, Event)
            .join(Event, Event.seq == WebhookDelivery.event_seq)
            .where(
                WebhookDelivery.endpoint_id == endpoint_id,
                WebhookDelivery.status == PENDING,
                WebhookDelivery.next_attempt_at <= db_now(),
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(1 if endpoint.failing_since else PER_CLAIM)
        ).all()
        now = utcnow()
        secrets = signing_secrets(endpoint.id, endpoint.secret_sealed,
                                  endpoint.previous_secret_sealed,
                                  endpoint.previous_secret_expires_at, now)  # fmt: skip
        work = [
            Due(Attempted(row.id, endpoint.id, row.attempts, endpoint.failing_since,
                          endpoint.failure_streak), row.Event.id,
                sender.body_of(row.Event.type, row.Event.created_at, event_view(row.Event)))
            for row in rows
        ]  # fmt: skip
        return endpoint.url, secrets, work
    finally:
        db.session.rollback()


def release(endpoint_id: str, worker_id: str) -> None:
    """Hand the endpoint back (its lease freed for any worker); commits."""
    db.session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.locked_by == worker_id)
        .values(locked_by=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def serve_endpoint(endpoint_id: str, worker_id: str, stopping: threading.Event) -> int:
    """Deliver the endpoint's due deliveries while it answers; returns how many succeeded.

    Requests go out in windows: one first, then twice as many after each window answered, up
    to PER_ENDPOINT at once (an endpoint far away is not limited to one round trip at a time,
    and one that does not answer costs one attempt); when one fails, the others of its window
    are recorded too and the endpoint is handed back, its circuit open. Once `stopping` is set
    no new window starts: what answered is recorded and the endpoint handed back.
    """
    config = settings()
    timeout = config.webhook_timeout_seconds
    client = sender.new_client(allow_private=config.webhook_allow_private_networks,
                               resolver=sender.configured_resolver(), timeout=timeout)  # fmt: skip
    posting = ThreadPoolExecutor(PER_ENDPOINT, thread_name_prefix=f"webhooks-{endpoint_id}")
    delivered, until = 0, time.monotonic() + SERVE_SECONDS
    width = 1  # one request first: an endpoint that does not answer ties up one attempt

    def attempt(due: Due, url: str, secrets: list[str]) -> sender.Outcome:
        headers = sender.signed_headers(due.event_id, secrets, due.body, utcnow())
        return sender.post(client, url, headers, due.body, timeout)

    try:
        while time.monotonic() < until and not stopping.is_set():
            found = due_work(endpoint_id, worker_id)
            if not found or not found[2]:
                break
            url, secrets, work = found
            succeeded: list[tuple[Attempted, sender.Outcome]] = []
            flushed = time.monotonic()
            start = 0
            while start < len(work) and not stopping.is_set():
                window, start = work[start : start + width], start + width
                outcomes = list(posting.map(attempt, window, [url] * len(window),
                                            [secrets] * len(window)))  # fmt: skip
                failed = [(d, o) for d, o in zip(window, outcomes, strict=True) if not o.succeeded]
                succeeded.extend((d.attempted, o) for d, o in zip(window, outcomes, strict=True)
                                 if o.succeeded)  # fmt: skip
                delivered += len(window) - len(failed)
                if failed:
                    record_successes(succeeded, worker_id)
                    for due, outcome in failed:
                        record_attempt(due.attempted, outcome, worker_id)
                    return delivered
                width = min(PER_ENDPOINT, width * 2)  # it answers: more at once
                if time.monotonic() - flushed > FLUSH_SECONDS:  # keep the lease renewed
                    record_successes(succeeded, worker_id)
                    succeeded, flushed = [], time.monotonic()
            record_successes(succeeded, worker_id)
    finally:
        posting.shutdown(wait=True)
        client.close()
        db.session.rollback()  # after an error, the session must start afresh to let go
        release(endpoint_id, worker_id)
    return delivered


class DeliveryPool:
    """A worker process's bounded set of threads, one endpoint each at a time."""

    def __init__(self, app: Flask, size: int = POOL_THREADS):
        self.app, self.size = app, size
        self._queue: queue.SimpleQueue[tuple[str, str] | None] = queue.SimpleQueue()
        self._busy = 0
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._serve, name=f"webhooks-{number}", daemon=True)
            for number in range(size)
        ]
        for thread in self._threads:
            thread.start()

    def free(self) -> int:
        with self._lock:
            return self.size - self._busy

    def busy(self) -> int:
        with self._lock:
            return self._busy

    def submit(self, endpoint_id: str, worker_id: str) -> None:
        with self._lock:
            self._busy += 1
        self._queue.put((endpoint_id, worker_id))

    def close(self, timeout: float) -> int:
        """Let each thread finish its endpoint's requests out, record them and hand the
        endpoint back, then end; returns how many threads are still running after `timeout`."""
        self.stopping.set()
        for _thread in self._threads:
            self._queue.put(None)  # one each: a thread takes it once its endpoint is handed back
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return sum(thread.is_alive() for thread in self._threads)

    def _serve(self) -> None:
        while (claimed := self._queue.get()) is not None:
            endpoint_id, worker_id = claimed
            try:
                with self.app.app_context():
                    serve_endpoint(endpoint_id, worker_id, self.stopping)
            except Exception:
                log.exception("delivering to webhook endpoint %s failed", endpoint_id)
            finally:
                with self._lock:
                    self._busy -= 1


def pool() -> DeliveryPool:
    """This process's pool for the current app, started on first use."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # werkzeug's proxy
    with _POOLS_LOCK:
        found = app.extensions.get("webhook_pool")
        if found is None:
            found = app.extensions["webhook_pool"] = DeliveryPool(app)
    return found


_POOLS_LOCK = threading.Lock()


def deliver(worker_id: str, limit: int) -> int:
    """Hand up to `limit` endpoints with due deliveries to free pool threads; returns how many."""
    workers = pool()
    free = min(limit, workers.free())
    if free <= 0:
        return 0
    claimed = claim_endpoints(worker_id, free)
    for endpoint_id in claimed:
        workers.submit(endpoint_id, worker_id)
    return len(claimed)


def stop_delivering() -> None:
    """The worker is stopping: close this process's pool, if it started one, within the request
    timeout and a margin; a later worker of the same app starts a new pool."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # werkzeug's proxy
    with _POOLS_LOCK:
        found = app.extensions.pop("webhook_pool", None)
    if found is None:
        return
    timeout = settings().webhook_timeout_seconds + STOP_MARGIN_SECONDS
    if left := found.close(timeout):
        log.warning("%d webhook delivery thread(s) still busy after %.0fs; their endpoints' "
                    "leases will run out", left, timeout)  # fmt: skip


def _seconds_until_due(horizon: float) -> float:
    """Until the earliest pending delivery of an endpoint that could be claimed."""
    return seconds_until_earliest(
        WebhookDelivery.next_attempt_at,
        WebhookDelivery.status == PENDING,
        exists().where(WebhookEndpoint.id == WebhookDelivery.endpoint_id, *_claimable()),
        horizon=horizon,
    )


DELIVERIES = DueWorkSource(
    "webhook_deliveries", deliver, seconds_until_due=_seconds_until_due, summary=summary_line,
    stop=stop_delivering,
)

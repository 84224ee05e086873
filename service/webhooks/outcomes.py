"""What an attempt's outcome changes: the attempt recorded, the delivery's next try, the
endpoint's circuit, and disabling an endpoint that has failed for the whole schedule.

Retries follow RETRY_DELAYS_SECONDS (1 min, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h:
ten attempts over about three days) with ±20 % jitter, the whole schedule multiplied by
`MINIFIN_WEBHOOK_RETRY_SCALE` (tests compress it, as the mock compresses its notifications').

The endpoint has a circuit: from its first failure (`failing_since`) its deliveries wait for
`circuit_until`, which follows the same schedule by the endpoint's failure streak, and then one
delivery is tried, as a probe, instead of each timing out in turn; a success closes the circuit.
An endpoint still failing after the whole schedule is disabled, with a
`webhook_endpoint.disabled` event recorded in the same transaction; its pending deliveries wait,
and go out if it is enabled again.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, update

from schemas.webhooks import EndpointSchema
from service.components import settings
from service.dbtypes import utcnow
from service.events.log import record
from service.extensions import db
from service.scheduler.clock import db_now_plus
from service.webhooks.models import (
    FAILED,
    SUCCEEDED,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from service.webhooks.sender import Outcome

log = logging.getLogger(__name__)

RETRY_DELAYS_SECONDS = (60, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
MAX_ATTEMPTS = len(RETRY_DELAYS_SECONDS) + 1
FAILING_FOR_SECONDS = sum(RETRY_DELAYS_SECONDS)  # failing this long (scaled): disabled
DISABLED = "webhook_endpoint.disabled"


def retry_delay(attempts_made: int) -> timedelta:
    """How long after its `attempts_made`-th failure the next try waits (scaled, jittered)."""
    base = RETRY_DELAYS_SECONDS[min(attempts_made, MAX_ATTEMPTS - 1) - 1]
    return timedelta(seconds=base * settings().webhook_retry_scale * random.uniform(0.8, 1.2))  # noqa: S311


def lease_seconds() -> float:
    """An endpoint's lease outlasts one attempt by a job's lease (`MINIFIN_JOB_LEASE_SECONDS`),
    renewed with each outcome recorded; a killed worker's endpoint is free again after it."""
    config = settings()
    return config.webhook_timeout_seconds + config.job_lease_seconds


@dataclass(frozen=True)
class Attempted:
    """The delivery an outcome belongs to, as it was claimed."""

    delivery_id: str
    endpoint_id: str
    attempts_before: int
    failing_since: datetime | None
    failure_streak: int


def record_successes(done: list[tuple[Attempted, Outcome]], worker_id: str) -> None:
    """Record a run of successful attempts to one endpoint in one transaction; it commits.

    A healthy endpoint's deliveries are recorded a run at a time (a fixed number of statements
    per run), so a busy endpoint costs one commit per run, not per request; a worker killed
    before the commit leaves them pending, and they go out again (at least once).
    """
    if not done:
        return
    now = utcnow()
    db.session.execute(insert(WebhookAttempt), [
        {"delivery_id": a.delivery_id, "attempt": a.attempts_before + 1, "at": now,
         "duration_ms": o.duration_ms, "status_code": o.status_code, "error": None,
         "response_body": o.body}
        for a, o in done
    ])  # fmt: skip
    table = cast(Table, WebhookDelivery.__table__)  # Core: one executemany, not ORM bulk
    db.session.execute(
        update(table)
        .where(table.c.id == bindparam("delivery_id"))
        .values(status=SUCCEEDED, attempts=bindparam("attempt"),
                last_status=bindparam("summary"), finished_at=now),
        [{"delivery_id": a.delivery_id, "attempt": a.attempts_before + 1,
          "summary": o.summary} for a, o in done],
    )  # fmt: skip
    values: dict[str, Any] = {"lease_expires_at": db_now_plus(lease_seconds())}
    if any(a.failing_since is not None for a, _ in done):
        values.update(failing_since=None, failure_streak=0, circuit_until=None)
    db.session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == done[0][0].endpoint_id, WebhookEndpoint.locked_by == worker_id)
        .values(**values)
    )
    db.session.commit()


def record_attempt(attempted: Attempted, outcome: Outcome, worker_id: str) -> bool:
    """Record an attempt and what follows from it, in one transaction; it commits.

    Returns whether the endpoint is healthy (its next due delivery may go at once)."""
    now = utcnow()
    attempt = attempted.attempts_before + 1
    db.session.add(WebhookAttempt(
        delivery_id=attempted.delivery_id, attempt=attempt, at=now,
        duration_ms=outcome.duration_ms, status_code=outcome.status_code,
        error=outcome.error, response_body=outcome.body,
    ))  # fmt: skip
    delivery = update(WebhookDelivery).where(WebhookDelivery.id == attempted.delivery_id)
    endpoint = update(WebhookEndpoint).where(WebhookEndpoint.id == attempted.endpoint_id)
    lease: dict[str, Any] = {"lease_expires_at": db_now_plus(lease_seconds())}
    if outcome.succeeded:
        db.session.execute(delivery.values(
            status=SUCCEEDED, attempts=attempt, last_status=outcome.summary, finished_at=now,
        ))  # fmt: skip
        if attempted.failing_since is not None:
            lease.update(failing_since=None, failure_streak=0, circuit_until=None)
        db.session.execute(endpoint.where(WebhookEndpoint.locked_by == worker_id).values(**lease))
        db.session.commit()
        return True
    finished = {"status": FAILED, "finished_at": now} if attempt >= MAX_ATTEMPTS else {
        "next_attempt_at": now + retry_delay(attempt)}  # fmt: skip
    db.session.execute(
        delivery.values(attempts=attempt, last_status=outcome.summary[:200], **finished)
    )
    streak = attempted.failure_streak + 1
    failing_since = attempted.failing_since or now
    db.session.execute(endpoint.values(
        failing_since=failing_since, failure_streak=streak, circuit_until=now + retry_delay(streak),
    ))  # fmt: skip
    failing_for = timedelta(seconds=FAILING_FOR_SECONDS * settings().webhook_retry_scale)
    if failing_since <= now - failing_for:
        _disable(attempted.endpoint_id, now)
    db.session.commit()
    return False


def _disable(endpoint_id: str, now: datetime) -> None:
    """Disable a failing endpoint and record why; the caller commits."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id, populate_existing=True)
    if endpoint is None or not endpoint.enabled:
        return
    endpoint.enabled, endpoint.disabled_at = False, now
    endpoint.locked_by = endpoint.lease_expires_at = None
    record(DISABLED, "webhook_endpoint", endpoint.id, EndpointSchema().dump(endpoint))
    log.warning("webhook endpoint %s disabled: failing since %s", endpoint.id,
                endpoint.failing_since)  # fmt: skip

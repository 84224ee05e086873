"""The outbox: enqueue side effects with the state change, claim them with leases, run, record.

A use case calls `enqueue()` before its commit, so the effect exists exactly when the state change
does. Workers claim due jobs in batches (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so workers never
wait on each other; one atomic UPDATE on SQLite, whose writers are serialised anyway), run each
handler outside any transaction, and record the outcome only if they still hold the lease.
Failures retry with exponential backoff and jitter, and park as `dead` after the last attempt.
A worker that dies leaves its lease to expire; the next claim takes the job back.

Leases are per job: the claim leases the whole batch, and each job's lease is renewed (one
UPDATE) right before it starts, so a batch slower than one lease is never taken over job by job
behind the worker's back; a job another worker took meanwhile is skipped, not run twice. Every
time that workers compare (due, lease expiry, retry) is the database's clock (clock.py), so a
worker whose own clock is off neither steals live jobs nor misses expired ones.

A handler raises `OutcomeUnknown` when the effect may have happened but its answer was lost (a
timeout after the request went out). The job is retried like any failure, and the job counts
such attempts (`ambiguous_attempts`, handed to the next attempt) so that a handler whose effect
the other side does not deduplicate can bound its repeats. An attempt counts as unknown from the
moment it starts (the renewal adds one) until a clear outcome is recorded (which takes it back),
so a worker killed mid-job leaves its attempt counted, like a timeout.

A job recorded done keeps no payload (emptied by the same UPDATE): what a side effect needed to
run is not kept after it ran. Payloads never hold a bearer secret in the first place (a claim
link is built when its message is sent, from the gift's sealed token).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from service.components import job_handlers, settings
from service.dbtypes import utcnow
from service.extensions import db
from service.scheduler.clock import db_now, db_now_plus
from service.scheduler.metrics import summary_line
from service.scheduler.models import DEAD, DONE, PENDING, RUNNING, OutboxJob
from service.scheduler.worker import DueWorkSource
from service.sql import rows_changed, seconds_until_earliest

log = logging.getLogger(__name__)
WAKE_CHANNEL = "minifin_jobs"


class PermanentFailure(Exception):
    """Raised by a handler when retrying cannot help: the job goes straight to `dead`."""


class OutcomeUnknown(Exception):
    """Raised by a handler when the effect may have happened (its answer was lost).

    Retried like any failure; the job's `ambiguous_attempts` counts these.
    """


@dataclass(frozen=True)
class ClaimedJob:
    """What a handler receives: the job's identity, payload and how many tries this is."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempt: int
    max_attempts: int
    ambiguous_attempts: int = 0  # earlier attempts whose outcome is unknown


def enqueue(
    kind: str,
    payload: dict[str, Any],
    *,
    run_at: datetime | None = None,
    dedupe_key: str | None = None,
) -> None:
    """Add a job to the current transaction; the caller's commit makes it real (or not)."""
    if dedupe_key is None:
        _check_kind(kind)
        db.session.add(OutboxJob(**_job_values(kind, payload, run_at, None)))
        _notify_workers()
    else:
        enqueue_many(kind, [(payload, dedupe_key)], run_at=run_at)


def enqueue_many(
    kind: str, jobs: list[tuple[dict[str, Any], str]], *, run_at: datetime | None = None
) -> None:
    """Add many keyed jobs (payload, dedupe_key) of one kind in one statement: a batch's effects.

    A key already queued is skipped, as with `enqueue`; workers are woken once for the batch.
    """
    if not jobs:
        return
    _check_kind(kind)
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = [_job_values(kind, payload, run_at, key) for payload, key in jobs]
    db.session.execute(insert(OutboxJob).on_conflict_do_nothing(), rows)
    _notify_workers()


def _check_kind(kind: str) -> None:
    """A kind must have a handler in the app's wiring, or its jobs could never run."""
    if kind not in job_handlers():
        raise ValueError(f"no handler registered for job kind {kind!r}")


def _job_values(
    kind: str, payload: dict[str, Any], run_at: datetime | None, dedupe_key: str | None
) -> dict[str, Any]:
    now = utcnow()
    return {
        "kind": kind,
        "payload": payload,
        "dedupe_key": dedupe_key,
        "status": PENDING,
        "run_at": run_at or now,
        "attempts": 0,
        "max_attempts": settings().job_max_attempts,
        "created_at": now,
    }


def _notify_workers() -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(f"NOTIFY {WAKE_CHANNEL}"))  # delivered on commit


def claim_batch(worker_id: str, limit: int) -> list[ClaimedJob]:
    """Take up to `limit` due jobs (and jobs whose worker's lease ran out) for this worker.

    Due and expired are judged by the database's clock, never this worker's.
    """
    now = db_now()
    claimable = (
        select(OutboxJob.id)
        .where(
            or_(
                and_(OutboxJob.status == PENDING, OutboxJob.run_at <= now),
                and_(OutboxJob.status == RUNNING, OutboxJob.lease_expires_at < now),
            )
        )
        .order_by(OutboxJob.run_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = db.session.execute(
        update(OutboxJob)
        .where(OutboxJob.id.in_(claimable.scalar_subquery()))
        .values(
            status=RUNNING,
            locked_by=worker_id,
            lease_expires_at=db_now_plus(settings().job_lease_seconds),
            attempts=OutboxJob.attempts + 1,
        )
        .returning(
            OutboxJob.id,
            OutboxJob.kind,
            OutboxJob.payload,
            OutboxJob.attempts,
            OutboxJob.max_attempts,
            OutboxJob.ambiguous_attempts,
        )
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return [ClaimedJob(*row) for row in rows]


def _held_by(job: ClaimedJob, worker_id: str) -> tuple[Any, ...]:
    """The conditions under which this worker still owns this attempt of the job."""
    return (
        OutboxJob.id == job.id,
        OutboxJob.locked_by == worker_id,
        OutboxJob.status == RUNNING,
        OutboxJob.attempts == job.attempt,
    )


def renew_lease(job: ClaimedJob, worker_id: str) -> bool:
    """Lease the job afresh right before it runs; False when another worker has taken it.

    One statement: the claim's lease covered the batch, this one covers the job from its start.
    """
    renewed = rows_changed(
        update(OutboxJob)
        .where(*_held_by(job, worker_id))
        .values(
            lease_expires_at=db_now_plus(settings().job_lease_seconds),
            ambiguous_attempts=OutboxJob.ambiguous_attempts + 1,  # until its outcome is known
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if not renewed:
        log.warning("job %s (%s) was taken over before it started; skipped", job.id, job.kind)
    return bool(renewed)


def _finish(job: ClaimedJob, worker_id: str, *, known: bool = True, **values: Any) -> bool:
    """Record an outcome, but only while this worker still holds the job's lease.

    `known`: the attempt's outcome is clear, so it no longer counts as ambiguous.
    """
    if known:
        values["ambiguous_attempts"] = OutboxJob.ambiguous_attempts - 1
    updated = rows_changed(
        update(OutboxJob)
        .where(*_held_by(job, worker_id))
        .values(locked_by=None, lease_expires_at=None, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if not updated:
        log.warning("job %s (%s) was taken over before it finished", job.id, job.kind)
    return bool(updated)


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with full jitter: base·2^(attempt-1), capped, times 0.5–1.5."""
    config = settings()
    delay = min(config.job_backoff_max, config.job_backoff_base * 2 ** (attempt - 1))
    return delay * (0.5 + random.random())  # noqa: S311 (jitter, not secrecy)


def run_job(job: ClaimedJob, worker_id: str) -> str | None:
    """Run one claimed job's handler and record the outcome; returns the new status.

    None when the job was taken over before it started (it is not run).
    """
    if not renew_lease(job, worker_id):
        return None
    handler = job_handlers().get(job.kind)
    try:
        if handler is None:
            raise PermanentFailure(f"no handler registered for {job.kind!r}")
        handler(job)
    except Exception as exc:  # every failure is recorded; none may kill the worker
        db.session.rollback()
        error = f"{type(exc).__name__}: {exc}"[:500]
        known = not isinstance(exc, OutcomeUnknown)
        if isinstance(exc, PermanentFailure) or job.attempt >= job.max_attempts:
            _finish(job, worker_id, known=known, status=DEAD, last_error=error,
                    finished_at=utcnow())  # fmt: skip
            log.error("job %s (%s) is dead after %d attempt(s): %s",
                      job.id, job.kind, job.attempt, error)  # fmt: skip
            return DEAD
        delay = backoff_seconds(job.attempt)
        _finish(job, worker_id, known=known, status=PENDING, last_error=error,
                run_at=db_now_plus(delay))  # fmt: skip
        log.warning("job %s (%s) attempt %d failed, retry in %.1fs: %s",
                    job.id, job.kind, job.attempt, delay, error)  # fmt: skip
        return PENDING
    # A done job's payload has served its purpose; the row keeps only what and when.
    _finish(job, worker_id, status=DONE, last_error=None, finished_at=utcnow(), payload={})
    return DONE


def run_due_jobs(worker_id: str, limit: int) -> int:
    """One batch: claim due jobs and run them one by one; returns how many were claimed."""
    jobs = claim_batch(worker_id, limit)
    for job in jobs:
        run_job(job, worker_id)
    return len(jobs)


def seconds_until_next_job(horizon: float) -> float:
    """How long a worker may sleep before the next pending job falls due (at most `horizon`)."""
    return seconds_until_earliest(OutboxJob.run_at, OutboxJob.status == PENDING, horizon=horizon)


def requeue_dead(job_ids: list[int] | None = None) -> int:
    """Give dead jobs (all, or the ones named) a fresh set of attempts, due now.

    Earlier unknown outcomes are forgotten too: a message given up after a timeout is sent again
    when an operator asks for it.
    """
    statement = (
        update(OutboxJob)
        .where(OutboxJob.status == DEAD)
        .values(status=PENDING, attempts=0, ambiguous_attempts=0, run_at=db_now(), finished_at=None)
        .execution_options(synchronize_session=False)
    )
    if job_ids:
        statement = statement.where(OutboxJob.id.in_(job_ids))
    count = rows_changed(statement)
    db.session.commit()
    return count


def list_jobs(status: str, limit: int = 100) -> list[OutboxJob]:
    """Jobs in one state, oldest first (for the `minifin jobs` listing)."""
    return list(
        db.session.scalars(
            select(OutboxJob).where(OutboxJob.status == status).order_by(OutboxJob.id).limit(limit)
        )
    )


# The outbox's due work, run by every worker (declared in scheduler/contributions.py).
SOURCE = DueWorkSource("outbox", run_due_jobs, seconds_until_next_job, summary_line)

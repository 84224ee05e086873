"""The outbox: enqueue side effects with the state change, claim them with leases, run, record.

A use case calls `enqueue()` before its commit, so the effect exists exactly when the state change
does. Workers claim due jobs in batches (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so workers never
wait on each other; one atomic UPDATE on SQLite, whose writers are serialised anyway), run each
handler outside any transaction, and record the outcome only if they still hold the lease.
Failures retry with exponential backoff and jitter, and park as `dead` after the last attempt.
A worker that dies leaves its lease to expire; the next claim takes the job back.

Leases are per job and on the database's clock: the claim, the renewal right before a job starts
and the outcome's record are in outbox_leases.py.

A handler raises `OutcomeUnknown` when the effect may have happened but its answer was lost (a
timeout after the request went out). The job is retried like any failure, and the job counts
such attempts (`ambiguous_attempts`, handed to the next attempt) so that a handler whose effect
the other side does not deduplicate can bound its repeats.

A job recorded done keeps no payload (emptied by the same UPDATE): what a side effect needed to
run is not kept after it ran. Payloads never hold a bearer secret in the first place (a claim
link is built when its message is sent, from the gift's sealed token).
"""

from __future__ import annotations

import logging
import random
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select, text, update

from service.components import job_handlers, settings
from service.dbtypes import utcnow
from service.extensions import db
from service.scheduler.clock import db_now, db_now_plus
from service.scheduler.metrics import summary_line
from service.scheduler.models import DEAD, DONE, PENDING, OutboxJob
from service.scheduler.outbox_leases import ClaimedJob, claim_batch, record_outcome, renew_lease
from service.scheduler.worker import DueWorkSource
from service.sql import insert_rows, rows_changed, seconds_until_earliest

# What capabilities, the worker and the CLI use; `ClaimedJob`, what a handler receives, is made
# by the claim in outbox_leases.py and handed on from here.
__all__ = [
    "WAKE_CHANNEL",
    "ClaimedJob",
    "OutcomeUnknown",
    "PermanentFailure",
    "backoff_seconds",
    "enqueue",
    "enqueue_many",
    "list_jobs",
    "requeue_dead",
    "run_due_jobs",
    "run_job",
    "seconds_until_next_job",
]

log = logging.getLogger(__name__)
WAKE_CHANNEL = "minifin_jobs"


class PermanentFailure(Exception):
    """Raised by a handler when retrying cannot help: the job goes straight to `dead`."""


class OutcomeUnknown(Exception):
    """Raised by a handler when the effect may have happened (its answer was lost).

    Retried like any failure; the job's `ambiguous_attempts` counts these.
    """


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
    rows = [_job_values(kind, payload, run_at, key) for payload, key in jobs]
    insert_rows(cast(Table, OutboxJob.__table__), rows, skip_conflicts=True)
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
            record_outcome(job, worker_id, known=known, status=DEAD, last_error=error,
                           finished_at=utcnow())  # fmt: skip
            log.error("job %s (%s) is dead after %d attempt(s): %s",
                      job.id, job.kind, job.attempt, error)  # fmt: skip
            return DEAD
        delay = backoff_seconds(job.attempt)
        record_outcome(job, worker_id, known=known, status=PENDING, last_error=error,
                       run_at=db_now_plus(delay))  # fmt: skip
        log.warning("job %s (%s) attempt %d failed, retry in %.1fs: %s",
                    job.id, job.kind, job.attempt, delay, error)  # fmt: skip
        return PENDING
    # A done job's payload has served its purpose; the row keeps only what and when.
    record_outcome(job, worker_id, status=DONE, last_error=None, finished_at=utcnow(), payload={})
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

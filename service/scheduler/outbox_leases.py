"""Outbox leases: claim due jobs for a worker, renew a job's lease as it starts, record its end.

Leases are per job: the claim leases the whole batch, and each job's lease is renewed (one
UPDATE) right before it starts, so a batch slower than one lease is never taken over job by job
behind the worker's back; a job another worker took meanwhile is skipped, not run twice. Every
time that workers compare (due, lease expiry, retry) is the database's clock (clock.py), so a
worker whose own clock is off neither steals live jobs nor misses expired ones.

An attempt counts as unknown from the moment it starts (the renewal adds one to
`ambiguous_attempts`) until a clear outcome is recorded (which takes it back), so a worker killed
mid-job leaves its attempt counted, like a timeout.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select, update

from service.components import settings
from service.extensions import db
from service.scheduler.clock import db_now, db_now_plus
from service.scheduler.models import PENDING, RUNNING, OutboxJob
from service.sql import rows_changed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClaimedJob:
    """What a handler receives: the job's identity, payload and how many tries this is."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempt: int
    max_attempts: int
    ambiguous_attempts: int = 0  # earlier attempts whose outcome is unknown


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


def record_outcome(job: ClaimedJob, worker_id: str, *, known: bool = True, **values: Any) -> bool:
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

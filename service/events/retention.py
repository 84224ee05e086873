"""Pruning the event log: events older than `MINIFIN_EVENT_RETENTION_DAYS` go, a batch at a time.

The log is append-only and grows with every change, so every worker runs this as due work. A
batch deletes at most `PRUNE_BATCH` of the oldest events (by `seq`, the log's order) in one
short transaction, so pruning a large backlog never holds long locks or one huge transaction,
and workers take disjoint batches (`FOR UPDATE SKIP LOCKED` on PostgreSQL). An event's webhook
deliveries go with it (their foreign key cascades), so nothing is left pointing at a pruned
event. Age is the only rule: by the end of the retention period every delivery has long
finished (retries stop after about three days).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, select

from service.components import settings
from service.dbtypes import utcnow
from service.events.models import Event
from service.extensions import db
from service.scheduler.worker import DueWorkSource
from service.sql import rows_changed

log = logging.getLogger(__name__)
# Rows a batch deletes, whatever the worker's batch size: small rows, one short transaction.
PRUNE_BATCH = 1000


def _retention() -> timedelta:
    return timedelta(days=settings().event_retention_days)


def prune_events(worker_id: str, limit: int) -> int:
    """Delete up to `PRUNE_BATCH` events past the retention period; returns how many.

    `limit` is the worker's batch size for heavier work; deleting old events is cheap, so the
    batch here is fixed.
    """
    cutoff = utcnow() - _retention()
    # The oldest rows by `seq` (the primary key, so no index of its own on `created_at`, which
    # every insert would pay for), of which those past the cutoff go: `created_at` grows with
    # `seq`, so when none of the oldest is past it, no event is.
    oldest = (
        select(Event.seq, Event.created_at)
        .order_by(Event.seq)
        .limit(PRUNE_BATCH)
        .with_for_update(skip_locked=True)
        .subquery()
    )
    past = select(oldest.c.seq).where(oldest.c.created_at < cutoff)
    pruned = rows_changed(
        delete(Event)
        .where(Event.seq.in_(past.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if pruned:
        log.info("worker %s pruned %d event(s) older than %s", worker_id, pruned, cutoff)
    return pruned


def seconds_until_prunable(horizon: float) -> float:
    """How long until the oldest event passes the retention period (at most `horizon`)."""
    oldest = db.session.scalar(select(Event.created_at).order_by(Event.seq).limit(1))
    db.session.rollback()
    if oldest is None:
        return horizon
    return max(0.0, min(horizon, (oldest + _retention() - utcnow()).total_seconds()))


# Pruning as due work, run by every worker (declared in events/contributions.py).
EVENT_RETENTION = DueWorkSource("event_retention", prune_events, seconds_until_prunable)

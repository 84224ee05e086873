"""The fan-out: each new event becomes one delivery per enabled endpoint that subscribed to it.

A batch of events still marked `fanout_pending` is taken in `seq` order (with `FOR UPDATE SKIP
LOCKED` on PostgreSQL, so workers take disjoint batches), their deliveries are inserted (a
conflict on (endpoint, event) is ignored, so a batch run twice on SQLite owes nothing twice) and
the mark is cleared, in one transaction: an event is fanned out once, to the endpoints enabled
at that moment; an endpoint registered later does not receive the past.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from service.dbtypes import utcnow
from service.events.models import Event
from service.events.types import matches
from service.extensions import db
from service.ids import new_id
from service.scheduler.worker import DueWorkSource
from service.sql import seconds_until_earliest
from service.webhooks.models import WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)
INSERT_ROWS = 1000  # deliveries per multi-row insert (8 parameters each, under every limit)


def fan_out(worker_id: str, limit: int) -> int:
    """Turn up to `limit` pending events into deliveries (one transaction); returns how many
    events were fanned out."""
    events = db.session.execute(
        select(Event.seq, Event.id, Event.type)
        .where(Event.fanout_pending.is_(True))
        .order_by(Event.seq)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not events:
        db.session.rollback()
        return 0
    endpoints = db.session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.enabled_events).where(
            WebhookEndpoint.enabled.is_(True)
        )
    ).all()
    now = utcnow()
    rows = [
        {"id": new_id("whd"), "endpoint_id": endpoint.id, "event_seq": event.seq,
         "event_id": event.id, "status": "pending", "attempts": 0, "next_attempt_at": now,
         "created_at": now}
        for event in events
        for endpoint in endpoints
        if any(matches(pattern, event.type) for pattern in endpoint.enabled_events)
    ]  # fmt: skip
    dialect = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for start in range(0, len(rows), INSERT_ROWS):
        db.session.execute(
            dialect(WebhookDelivery)
            .values(rows[start : start + INSERT_ROWS])
            .on_conflict_do_nothing(index_elements=["event_seq", "endpoint_id"])
        )
    db.session.execute(
        update(Event)
        .where(Event.seq.in_([event.seq for event in events]))
        .values(fanout_pending=False)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    log.debug("worker %s fanned out %d event(s) into %d deliveries", worker_id, len(events),
              len(rows))  # fmt: skip
    return len(events)


def _seconds_until_due(horizon: float) -> float:
    return seconds_until_earliest(Event.created_at, Event.fanout_pending.is_(True), horizon=horizon)


FANOUT = DueWorkSource("webhook_fanout", fan_out, seconds_until_due=_seconds_until_due)

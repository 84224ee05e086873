"""The `events` table: an append-only log of what changed, written in the change's transaction.

`seq` orders the log (newest first in `GET /v1/events`, a cursor pages by it) and is what other
rows reference (a webhook delivery's `event_seq`); `id` is the opaque `evt_…` name merchants
see, the same on every webhook delivery of the event. Nothing looks an event up by `id`, so it
has no index: ids of about 100 random bits need no constraint to stay distinct, and a unique
index on them cost about a sixth of an event's insert time and WAL (bench/README.md, the
events overhead). `data` is a snapshot of the object as the API shows it to a merchant client,
never personal data (see log.py). `fanout_pending` marks the events the webhook fan-out has not
yet turned into deliveries; its partial index keeps that queue cheap to read however long the
log grows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, true
from sqlalchemy.orm import Mapped, mapped_column

from service.dbtypes import UTCDateTime, ascii_key, utcnow
from service.extensions import Model

# SQLite autoincrements only an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
SEQUENCE = BigInteger().with_variant(Integer(), "sqlite")


class Event(Model):
    """One change: its type, when it happened, the object it is about and that object's snapshot."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_type_seq", "type", "seq"),
        Index("ix_events_object_id_seq", "object_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(SEQUENCE, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(ascii_key(32))
    type: Mapped[str] = mapped_column(ascii_key(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(ascii_key(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    fanout_pending: Mapped[bool] = mapped_column(default=True, server_default=true())


# Only the events still waiting for the webhook fan-out: a small index on a long log.
Index(
    "ix_events_fanout_pending",
    Event.seq,
    postgresql_where=Event.fanout_pending.is_(True),
    sqlite_where=Event.fanout_pending.is_(True),
)

"""Outbox jobs: side effects recorded in the transaction of the state change that needs them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.dbtypes import UTCDateTime, utcnow
from service.extensions import Model

PENDING, RUNNING, DONE, DEAD = "pending", "running", "done", "dead"


class OutboxJob(Model):
    """One side effect to perform (a gateway call, a message), claimed by workers with a lease.

    A pending job runs once `run_at` has passed; a running job whose lease has expired belongs to
    a worker that died and is claimed again. `dedupe_key` makes enqueueing the same effect twice
    one job. `ambiguous_attempts` counts attempts whose outcome is unknown (the effect may have
    happened), so effects the other side does not deduplicate can bound their repeats.
    """

    __tablename__ = "outbox_jobs"
    __table_args__ = (Index("ix_outbox_jobs_status_run_at", "status", "run_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    dedupe_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    ambiguous_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    max_attempts: Mapped[int]
    locked_by: Mapped[str | None] = mapped_column(String(80))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

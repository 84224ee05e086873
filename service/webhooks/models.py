"""Webhook endpoints, one delivery per event and endpoint, and every attempt at it.

An endpoint's signing secret must be recoverable (it signs each delivery), so it is sealed with
the field cipher, bound to the endpoint's id; during a rotation's overlap the previous secret is
kept, sealed the same way, until `previous_secret_expires_at`. The endpoint also carries the
lease a worker holds while it delivers to it (one endpoint, one worker at a time, so a slow
endpoint ties up nothing of the others'), and its circuit: while `failing_since` is set, its
deliveries wait for `circuit_until` instead of each timing out in turn.

A delivery is unique per (endpoint, event) and is deleted with its event (retention) or its
endpoint; its attempts go with it. It references its event by `seq`, the log's key, which the
log has to index anyway; the event's `id` is copied beside it to name the delivery.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.dbtypes import UTCDateTime, ascii_key, utcnow
from service.events.models import SEQUENCE
from service.extensions import Model
from service.ids import new_id

PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"
DELIVERY_STATUSES = (PENDING, SUCCEEDED, FAILED)


class WebhookEndpoint(Model):
    """A merchant's URL that receives the events it subscribed to, signed."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("we"))
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(String(200), default="")
    enabled_events: Mapped[list[str]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(default=True)
    secret_sealed: Mapped[str] = mapped_column(String(255))
    previous_secret_sealed: Mapped[str | None] = mapped_column(String(255))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failure_streak: Mapped[int] = mapped_column(default=0)
    circuit_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_by: Mapped[str | None] = mapped_column(String(80))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # merchant's changes

    if TYPE_CHECKING:  # not a column: the clear secret, on the answer that shows it once
        secret: str


class WebhookDelivery(Model):
    """One event owed to one endpoint: pending until a 2xx, failed after the last retry."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # One delivery per event and endpoint; led by the event, it also serves the cascade.
        UniqueConstraint("event_seq", "endpoint_id"),
        Index("ix_webhook_deliveries_due", "endpoint_id", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_list", "endpoint_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("whd"))
    endpoint_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    event_seq: Mapped[int] = mapped_column(SEQUENCE, ForeignKey("events.seq", ondelete="CASCADE"))
    # The event's `evt_…` id, the delivery's `webhook-id`: copied at fan-out, never changed.
    event_id: Mapped[str] = mapped_column(ascii_key(32))
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_status: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    attempt_rows: Mapped[list[WebhookAttempt]] = relationship(
        order_by="WebhookAttempt.attempt", passive_deletes=True, lazy="raise"
    )


# The pending queue alone, for the claim, the metrics and an idle worker's next due time.
Index(
    "ix_webhook_deliveries_pending",
    WebhookDelivery.next_attempt_at,
    postgresql_where=WebhookDelivery.status == PENDING,
    sqlite_where=WebhookDelivery.status == PENDING,
)


class WebhookAttempt(Model):
    """One POST of a delivery: when, how long, the answer's status (or why none came) and the
    first KiB of its body."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int]
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    duration_ms: Mapped[int]
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(200))
    response_body: Mapped[str | None] = mapped_column(String(1024))

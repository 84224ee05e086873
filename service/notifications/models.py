"""Every verified notification the gateway sent, kept for de-duplication and audit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from service.dbtypes import UTCDateTime, utcnow
from service.extensions import db

HANDLED, IGNORED = "handled", "ignored"


class GatewayNotification(db.Model):
    """One notification, by the gateway's unique `notify_id`; a repeat is recognised by it."""

    __tablename__ = "gateway_notifications"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    notify_id: Mapped[str] = mapped_column(String(128), unique=True)
    notify_type: Mapped[str] = mapped_column(String(64), index=True)
    fields: Mapped[dict[str, str]] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

"""Every verified notification the gateway sent, kept for de-duplication and audit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from service.dbtypes import UTCDateTime, utcnow
from service.extensions import Model

HANDLED, REFUSED = "handled", "refused"
# A notification of a type no capability handles: parked, answered so that the platform delivers
# it again, and applied by the first delivery after a handler exists. (Rows recorded `ignored`
# before this outcome existed were acknowledged and are not delivered again.)
UNHANDLED = "unhandled"


class GatewayNotification(Model):
    """One notification, by the gateway's unique `notify_id`; a repeat is recognised by it."""

    __tablename__ = "gateway_notifications"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    notify_id: Mapped[str] = mapped_column(String(128), unique=True)
    notify_type: Mapped[str] = mapped_column(String(64), index=True)
    fields: Mapped[dict[str, str]] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(16))
    # Why a notification was refused (`app_mismatch`, `amount_mismatch`, …); None otherwise.
    refusal: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PlatformFact(Model):
    """Something Minifin learned from the platform and every process must share (the merchant's
    `seller_id` when MINIFIN_SELLER_ID is unset): the first value recorded stays."""

    __tablename__ = "platform_facts"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(64))
    learned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

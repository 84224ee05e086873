"""What a merchant sells as a gift: voucher templates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from service.dbtypes import UTCDateTime, utcnow
from service.extensions import db
from service.ids import new_id

ITEM, STORED_VALUE = "item", "stored_value"


class VoucherTemplate(db.Model):
    """A kind of voucher: a coffee (`item`, redeemed once) or a card (`stored_value`).

    Templates are never deleted, only deactivated, because issued vouchers keep pointing at them.
    """

    __tablename__ = "voucher_templates"
    __table_args__ = (
        CheckConstraint("face_value_fen > 0", name="face_value_positive"),
        CheckConstraint("price_fen > 0", name="price_positive"),
        CheckConstraint("kind IN ('item', 'stored_value')", name="kind_known"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("vtp"))
    name: Mapped[str] = mapped_column(String(60))
    description: Mapped[str | None] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(16))
    face_value_fen: Mapped[int]
    price_fen: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    validity_days: Mapped[int]
    claim_window_hours: Mapped[int]
    covers: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    max_quantity_per_order: Mapped[int]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

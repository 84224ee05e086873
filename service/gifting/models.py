"""Voucher templates (what a merchant sells) and gift orders with their timelines."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.auth.models import User
from service.dbtypes import UTCDateTime, utcnow
from service.extensions import Model
from service.ids import new_id

ITEM, STORED_VALUE = "item", "stored_value"


class VoucherTemplate(Model):
    """A kind of voucher: a coffee (`item`, redeemed once) or a card (`stored_value`).

    Templates are never deleted, only deactivated, because issued vouchers keep pointing at them.
    """

    __tablename__ = "voucher_templates"
    __table_args__ = (
        CheckConstraint("face_value_fen > 0", name="face_value_positive"),
        CheckConstraint("price_fen > 0", name="price_positive"),
        CheckConstraint("kind IN ('item', 'stored_value')", name="kind_known"),
        Index("ix_voucher_templates_created", "created_at", "id"),  # the list's order
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


PENDING_PAYMENT, SCHEDULED, CLOSED = "pending_payment", "scheduled", "closed"
RECIPIENT_KINDS = ("user", "phone", "link")


class Gift(Model):
    """A gift order: who buys what for whom, and when it is sent.

    `send_at` with `status` is the index the scheduler scans for due gifts. A phone recipient is
    kept only as a keyed hash (to recognise them later) and a masked number (to show the sender).
    """

    __tablename__ = "gifts"
    __table_args__ = (
        Index("ix_gifts_status_send_at", "status", "send_at"),
        Index("ix_gifts_status_claim_expires_at", "status", "claim_expires_at"),
        Index("ix_gifts_sent_at", "sent_at"),  # the sending metrics read recent sends
        Index("ix_gifts_sender_created", "sender_id", "created_at", "id"),  # a sender's list
        UniqueConstraint("sender_id", "idempotency_key"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("gft"))
    sender_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    sender: Mapped[User] = relationship(foreign_keys=[sender_id], lazy="joined")
    template_id: Mapped[str] = mapped_column(ForeignKey("voucher_templates.id"))
    quantity: Mapped[int]
    unit_price_fen: Mapped[int]
    amount_fen: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    recipient_kind: Mapped[str] = mapped_column(String(8))
    recipient_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    recipient_phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    recipient_phone_masked: Mapped[str | None] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(String(200), default="")
    cover: Mapped[str] = mapped_column(String(40))
    send_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(24), default=PENDING_PAYMENT)
    trade_no: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token_index: Mapped[str | None] = mapped_column(String(64), unique=True)
    claim_token_sealed: Mapped[str | None] = mapped_column(String(200))
    if TYPE_CHECKING:  # not columns: opened by `claims.reveal_claim_link` for who may see them
        claim_token: str
        claim_url: str
    # Why a gift is parked in `needs_review` (`amount_mismatch`, …): an operator looks at it.
    review_reason: Mapped[str | None] = mapped_column(String(32))

    template: Mapped[VoucherTemplate] = relationship(lazy="joined")
    events: Mapped[list[GiftEvent]] = relationship(
        order_by="GiftEvent.id", lazy="selectin", cascade="all, delete-orphan"
    )
    vouchers: Mapped[list[Voucher]] = relationship(order_by="Voucher.id", viewonly=True)


class GiftEvent(Model):
    """One entry of a gift's timeline; `detail` never holds personal data."""

    __tablename__ = "gift_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    gift_id: Mapped[str] = mapped_column(ForeignKey("gifts.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    type: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


SENT, CLAIMED, CANCELED = "sent", "claimed", "canceled"
EXPIRED_UNCLAIMED, REFUNDED = "expired_unclaimed", "refunded"
# A payment that did not match its gift (amount, currency): nothing more happens until reviewed.
NEEDS_REVIEW = "needs_review"
ISSUED, ACTIVE, VOID = "issued", "active", "void"


class Voucher(Model):
    """One voucher of a sent gift. Its code is kept as a blind index (to redeem by code) and
    sealed (so its owner can see it again); only the last characters are shown otherwise."""

    __tablename__ = "vouchers"
    __table_args__ = (
        CheckConstraint("balance_fen >= 0", name="balance_not_negative"),
        Index("ix_vouchers_owner_issued", "owner_id", "issued_at", "id"),  # the wallet's order
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("vch"))
    gift_id: Mapped[str] = mapped_column(ForeignKey("gifts.id"), index=True)
    template_id: Mapped[str] = mapped_column(ForeignKey("voucher_templates.id"))
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    face_value_fen: Mapped[int]
    balance_fen: Mapped[int]
    code_index: Mapped[str] = mapped_column(String(64), unique=True)
    code_sealed: Mapped[str] = mapped_column(String(200))
    code_last4: Mapped[str] = mapped_column(String(4))
    if TYPE_CHECKING:  # not a column: opened by `claims.voucher_with_code` for its owner
        code: str
    status: Mapped[str] = mapped_column(String(16), default=ISSUED)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


SPENT = "spent"


class VoucherLedgerEntry(Model):
    """Append-only: every change to a voucher's balance, with the balance after it.

    A redemption keeps the till's Idempotency-Key, unique per merchant client: the database
    itself refuses a second debit for one key, however long after the first it comes.
    """

    __tablename__ = "voucher_ledger"
    __table_args__ = (UniqueConstraint("client_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    voucher_id: Mapped[str] = mapped_column(ForeignKey("vouchers.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    type: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int]
    balance_after_fen: Mapped[int]
    store_id: Mapped[str | None] = mapped_column(String(64))
    client_id: Mapped[str | None] = mapped_column(String(32))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))


class OperatorRefund(Model):
    """A refund the platform no longer accepts (the trade's refund period is over): the money
    is owed to the buyer and an operator pays it back outside the gateway (`minifin refunds
    list`). One per gateway refund number, so a retried job queues it once."""

    __tablename__ = "operator_refunds"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    gift_id: Mapped[str] = mapped_column(ForeignKey("gifts.id"), index=True)
    trade_no: Mapped[str | None] = mapped_column(String(64))
    out_request_no: Mapped[str] = mapped_column(String(64), unique=True)
    amount_fen: Mapped[int]
    reason: Mapped[str] = mapped_column(String(200))
    refusal: Mapped[str] = mapped_column(String(64))
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

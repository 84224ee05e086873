"""Verification attempts, the verified identity they lead to, and the audit trail of both.

The real name and ID number are only ever stored sealed (AES-GCM, bound to the user's id) and
as an HMAC blind index of the number; the masked forms are stored so a finished attempt can still
be shown after its sealed values were dropped. A verification keeps its sealed values only while
it is pending: when it ends they move to the identity (passed) or are erased (anything else).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.dbtypes import UTCDateTime, utcnow
from service.extensions import Model
from service.ids import new_id

PENDING, PASSED, FAILED = "pending", "passed", "failed"
EXPIRED, CANCELED = "expired", "canceled"
FINISHED = (PASSED, FAILED, EXPIRED, CANCELED)


class IdentityVerification(Model):
    """One attempt at face verification; `outer_order_no` at the gateway is its id."""

    __tablename__ = "identity_verifications"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key"),
        Index("ix_identity_verifications_user_created", "user_id", "created_at"),
        Index("ix_identity_verifications_status_expires", "status", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("idv"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    fail_reason: Mapped[str | None] = mapped_column(String(64))
    name_sealed: Mapped[str | None] = mapped_column(Text)
    id_number_sealed: Mapped[str | None] = mapped_column(Text)
    id_number_hash: Mapped[str | None] = mapped_column(String(64))
    name_masked: Mapped[str | None] = mapped_column(String(64))
    id_number_masked: Mapped[str | None] = mapped_column(String(32))
    return_url: Mapped[str] = mapped_column(String(1024))
    certify_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    if TYPE_CHECKING:  # not a column: signed afresh by `verifications._shown` while open
        certify_url: str | None

    def sealed_values(self) -> tuple[str, str, str]:
        """The sealed name, sealed ID number and the number's blind index of a pending attempt.

        Only a pending attempt holds them (they move or are erased when it ends), so their
        absence here is a broken invariant and raised as such.
        """
        name, number, index = self.name_sealed, self.id_number_sealed, self.id_number_hash
        if name is None or number is None or index is None:
            raise ValueError(f"verification {self.id} ({self.status}) holds no sealed values")
        return name, number, index


class Identity(Model):
    """A user's verified real name and ID number; one identity is bound to one user per app."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("app_id", "id_number_hash"),)

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    app_id: Mapped[str] = mapped_column(String(32))
    name_sealed: Mapped[str] = mapped_column(Text)
    id_number_sealed: Mapped[str] = mapped_column(Text)
    id_number_hash: Mapped[str] = mapped_column(String(64))
    verification_id: Mapped[str] = mapped_column(String(32))
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdentityEvent(Model):
    """Who did what to whose identity data, when and from where; never the data itself.

    Kept after erasure (no foreign key to the user on purpose) as the record of processing.
    """

    __tablename__ = "identity_events"
    __table_args__ = (Index("ix_identity_events_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(32))
    verification_id: Mapped[str | None] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(40))
    origin: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

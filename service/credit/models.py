"""Credit consents and their audit trail, credit checks, and deposits with their operations.

No credit score is ever stored: a check keeps only the decision (admitted or not, or "cannot be
evaluated") and the threshold it was measured against. A consent keeps the platform's user token
(sealed, bound to the consent) only while it is active, for the legacy raw-score call that needs
it; withdrawal erases it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.dbtypes import UTCDateTime, utcnow
from service.extensions import Model
from service.ids import new_id

ACTIVE, WITHDRAWN, REPLACED = "active", "withdrawn", "replaced"
AWAITING_USER, HELD, SETTLED, EXPIRED = "awaiting_user", "held", "settled", "expired"
NEEDS_REVIEW = "needs_review"  # the platform reported amounts that do not add up: an operator looks
# Why Minifin released a hold on its own, or parked a deposit for review (`Deposit.problem`).
FOREIGN_PAYER, LATE_FREEZE = "foreign_payer", "late_freeze"
AMOUNT_MISMATCH, SPLIT_MISMATCH = "amount_mismatch", "split_mismatch"
UNEXPECTED_RELEASE, UNEXPECTED_PAYMENT = "unexpected_release", "unexpected_payment"
FREEZE, RELEASE, CHARGE = "freeze", "release", "charge"
PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"


class CreditConsent(Model):
    """A user's separate consent to credit processing for one purpose, until withdrawn or expired.

    `status` is `active`, `withdrawn`, `replaced` (a newer consent for the same purpose) or
    `expired`; an active consent past `expires_at` is expired when read already, and stored so
    by the worker's sweep (consent_expiry.py).
    """

    __tablename__ = "credit_consents"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key"),
        Index("ix_credit_consents_user_purpose", "user_id", "purpose", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("cns"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    purpose: Mapped[str] = mapped_column(String(40))
    scope: Mapped[str] = mapped_column(String(40))
    policy_version: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What shows the user consented: the platform's grant (scopes, when, to which app), when and
    # from where the consent reached Minifin, and the policy text's version. No personal data.
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    platform_token_sealed: Mapped[str | None] = mapped_column(Text)
    if TYPE_CHECKING:  # not columns: filled in by `consents.shown` and `consent_with_events`
        shown_status: str
        events: list[ConsentEvent]


class ConsentEvent(Model):
    """One thing done under (or to) a consent: granted, used for a check or deposit, withdrawn.

    Kept after withdrawal and without a foreign key, as the record of processing.
    """

    __tablename__ = "credit_consent_events"
    __table_args__ = (
        Index("ix_credit_consent_events_consent_at", "consent_id", "at"),
        Index("ix_credit_consent_events_user_at", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    consent_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(40))
    origin: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CreditCheck(Model):
    """One admittance check: who asked, for which purpose, against what threshold, the answer.

    `admitted` is None while the check is `pending` (the gateway did not answer yet; a retry with
    the same Idempotency-Key resumes it with the same `transaction_id`) and when the platform
    could not evaluate the user (`not_evaluable`).
    """

    __tablename__ = "credit_checks"
    __table_args__ = (
        UniqueConstraint("requested_by", "idempotency_key"),
        Index("ix_credit_checks_user_created", "user_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("chk"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    consent_id: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(40))
    requested_by: Mapped[str] = mapped_column(String(40))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    threshold: Mapped[int]
    outcome: Mapped[str] = mapped_column(String(16), default=PENDING)
    admitted: Mapped[bool | None]
    biz_no: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    if TYPE_CHECKING:  # not a column: the plain words `checks.shown` attaches
        explanation: str


class Deposit(Model):
    """A deposit the user's credit may waive, frozen through fund authorisation.

    `reserved_fen` counts every release and charge that was accepted, including those whose
    gateway call is still pending; it only grows through one conditional UPDATE that keeps it at
    or below the held amount, which is what keeps released + charged within the hold under
    concurrent calls on every engine.
    """

    __tablename__ = "credit_deposits"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key"),
        CheckConstraint("amount_fen > 0", name="deposit_amount_positive"),
        CheckConstraint("reserved_fen <= amount_fen", name="deposit_reserved_within_hold"),
        CheckConstraint("released_fen + charged_fen <= reserved_fen", name="deposit_settled"),
        Index("ix_credit_deposits_user_created", "user_id", "created_at"),
        Index("ix_credit_deposits_status_created", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("dep"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    consent_id: Mapped[str] = mapped_column(String(32))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    order_ref: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(128))
    category: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    status: Mapped[str] = mapped_column(String(16), default=AWAITING_USER)
    out_order_no: Mapped[str] = mapped_column(String(64), unique=True)
    out_request_no: Mapped[str] = mapped_column(String(64))
    order_str: Mapped[str] = mapped_column(Text)
    auth_no: Mapped[str | None] = mapped_column(String(64))
    credit_amount_fen: Mapped[int | None]
    fund_amount_fen: Mapped[int | None]
    reserved_fen: Mapped[int] = mapped_column(default=0)
    released_fen: Mapped[int] = mapped_column(default=0)
    charged_fen: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why Minifin released the hold itself (foreign_payer, late_freeze) or why the deposit
    # needs review (amount_mismatch, split_mismatch, unexpected_release, unexpected_payment).
    problem: Mapped[str | None] = mapped_column(String(64))
    problem_detail: Mapped[str | None] = mapped_column(String(256))
    operations: Mapped[list[DepositOperation]] = relationship(
        order_by="DepositOperation.id", lazy="selectin", viewonly=True
    )

    @property
    def remaining_fen(self) -> int:
        """What a new release or charge may still take (pending ones already count as taken)."""
        return self.amount_fen - self.reserved_fen if self.status == HELD else 0

    @property
    def held_auth_no(self) -> str:
        """The platform's number for the hold, which releases and charges name.

        Every deposit that was held has one, and only a held deposit gets operations.
        """
        if self.auth_no is None:
            raise ValueError(f"deposit {self.id} ({self.status}) was never held")
        return self.auth_no

    @property
    def shown_order_str(self) -> str | None:
        """The signed orderStr, only while the user has yet to confirm it."""
        return self.order_str if self.status == AWAITING_USER else None


class DepositOperation(Model):
    """One line of a deposit's ledger: the freeze, each release, each charge.

    Lines are only added, never removed; a release or charge is written `pending` before its
    gateway call (its `request_no` is the gateway's idempotency key, reused by every retry) and
    then marked `succeeded` (with the credit/fund split and the gateway's ids) or `failed`.
    """

    __tablename__ = "credit_deposit_operations"
    __table_args__ = (
        UniqueConstraint("deposit_id", "idempotency_key"),
        UniqueConstraint("request_no"),
        CheckConstraint("amount_fen > 0", name="operation_amount_positive"),
        Index("ix_credit_deposit_operations_deposit", "deposit_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    deposit_id: Mapped[str] = mapped_column(ForeignKey("credit_deposits.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    amount_fen: Mapped[int]
    # What it holds back from the deposit: its amount, and for a charge that settles the deposit
    # also the rest, which the platform releases with it (auth_confirm_mode COMPLETE).
    reserved_fen: Mapped[int]
    credit_fen: Mapped[int | None]
    fund_fen: Mapped[int | None]
    request_no: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    requested_by: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(String(256))
    settles: Mapped[bool] = mapped_column(default=False)
    operation_id: Mapped[str | None] = mapped_column(String(64))
    trade_no: Mapped[str | None] = mapped_column(String(64))
    failure: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

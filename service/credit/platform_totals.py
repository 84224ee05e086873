"""Bringing a deposit's ledger to what the platform says it released and was paid, in total.

The platform can release money Minifin did not ask for by its own request number: a merchant's
back office unfreezing directly, an authorisation that ended, the rest a `COMPLETE` released.
Its notice (and every detail query) carries the order's running totals, `total_unfreeze_amount`
and `total_pay_amount`, so the ledger is compared with those totals, not with Minifin's own
arithmetic: a release the ledger lacks is added once (a second report of it finds nothing
missing), and a payment the ledger lacks, or totals below the ledger, park the deposit for
review. Totals are applied only when no line of the deposit is pending, since a pending line may
be the very thing the totals include.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update

from service.credit.models import (
    PENDING,
    RELEASE,
    SUCCEEDED,
    UNEXPECTED_PAYMENT,
    UNEXPECTED_RELEASE,
    Deposit,
    DepositOperation,
)
from service.credit.review import park
from service.credit.settlement import settle_if_done
from service.dbtypes import utcnow
from service.extensions import db

log = logging.getLogger(__name__)
PLATFORM = "platform"  # requested_by of a release the platform made on its own


def has_pending(deposit_id: str) -> bool:
    """Whether any release or charge of the deposit still waits for its outcome."""
    return (
        db.session.scalar(
            select(DepositOperation.id).where(
                DepositOperation.deposit_id == deposit_id, DepositOperation.status == PENDING
            )
        )
        is not None
    )


def apply_platform_totals(
    deposit_id: str,
    *,
    unfrozen_fen: int,
    paid_fen: int,
    request_no: str | None = None,
    operation_id: str | None = None,
) -> bool:
    """Record what the platform released beyond the ledger; False while lines are pending."""
    if has_pending(deposit_id):
        return False
    deposit = db.session.get(Deposit, deposit_id)
    db.session.refresh(deposit)
    if paid_fen != deposit.charged_fen:
        park(deposit_id, UNEXPECTED_PAYMENT,
             f"platform paid {paid_fen} fen, ledger {deposit.charged_fen}")  # fmt: skip
        return True
    missing = unfrozen_fen - deposit.released_fen
    if missing < 0:
        park(deposit_id, UNEXPECTED_RELEASE,
             f"platform released {unfrozen_fen} fen, ledger {deposit.released_fen}")  # fmt: skip
        return True
    if missing == 0:
        _name_known_release(deposit_id, request_no, operation_id)
        return True
    taken = db.session.execute(
        update(Deposit)
        .where(Deposit.id == deposit_id, Deposit.reserved_fen + missing <= Deposit.amount_fen)
        .values(
            reserved_fen=Deposit.reserved_fen + missing,
            released_fen=Deposit.released_fen + missing,
        )
    ).rowcount
    if not taken:
        park(deposit_id, UNEXPECTED_RELEASE,
             f"platform released {missing} fen more than remains held")  # fmt: skip
        return True
    now = utcnow()
    db.session.add(
        DepositOperation(
            deposit_id=deposit_id,
            kind=RELEASE,
            status=SUCCEEDED,
            amount_fen=missing,
            reserved_fen=missing,
            request_no=request_no or f"{deposit_id}_platform_{deposit.released_fen}",
            requested_by=PLATFORM,
            reason="released by the platform",
            operation_id=operation_id,
            created_at=now,
            completed_at=now,
        )
    )
    settle_if_done(deposit_id)
    log.warning("deposit %s: the platform released %s fen on its own", deposit_id, missing)
    return True


def _name_known_release(deposit_id: str, request_no: str | None, operation_id: str | None) -> None:
    """A release already in the ledger (learnt from totals) gets the platform's ids, once."""
    if not operation_id:
        return
    line = db.session.scalars(
        select(DepositOperation).where(
            DepositOperation.deposit_id == deposit_id,
            DepositOperation.requested_by == PLATFORM,
            DepositOperation.operation_id.is_(None),
        )
    ).first()
    if line is not None:
        line.operation_id = operation_id

"""Releases the platform made that Minifin did not ask for, and the ledger against its totals.

The platform can release money by a request number Minifin never used: a merchant's back office
unfreezing directly, an authorisation that ended, the rest a `COMPLETE` released. Two facts
bring such releases into the ledger, and neither can count one twice:

- its notice (`record_unasked_release`): recorded under the platform's own request number (so
  a redelivery finds its line); a hold whose ledger already accounts for every fen cannot have
  released more, so such a notice only names the line that covered it;
- the order's current totals, read by query when a pending line met an ended order
  (`apply_platform_totals`): what the ledger lacks is added as one line, and totals the ledger
  cannot place (paid differs, or less released than recorded) park the deposit for review.

Neither is applied while a line of the deposit is pending, since that line may be the very
release the platform reports.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update

from service.credit.credit_events import record_deposit
from service.credit.models import (
    PENDING,
    RELEASE,
    SPLIT_MISMATCH,
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
from service.gateway.fund_auth import FundOperation
from service.sql import existing, rows_changed

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
    operation_id: str | None = None,
) -> bool:
    """Bring the ledger to the order's current totals; False while lines are pending."""
    if has_pending(deposit_id):
        return False
    deposit = existing(Deposit, deposit_id)
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
        return True
    if not _add_platform_release(
        deposit_id, missing, request_no=f"{deposit_id}_platform_{deposit.released_fen}",
        operation_id=operation_id,
    ):  # fmt: skip
        park(deposit_id, UNEXPECTED_RELEASE,
             f"platform released {missing} fen more than remains held")  # fmt: skip
    return True


def record_unasked_release(deposit: Deposit, operation: FundOperation) -> None:
    """Record a release notice under its own request number (the caller checked no line has it).

    A notice's totals are as they stood when it was sent, so they only ever prove the ledger
    short (a payment it lacks), never long: a late notice is no evidence against later lines.
    """
    deposit_id, amount = deposit.id, operation.amount_fen
    db.session.refresh(deposit)
    if deposit.released_fen + deposit.charged_fen >= deposit.amount_fen:
        unfrozen = operation.total_unfreeze_fen
        if unfrozen is not None and unfrozen > deposit.released_fen:  # more than a full ledger
            park(deposit_id, UNEXPECTED_RELEASE,
                 f"platform released {unfrozen}, ledger {deposit.released_fen}")  # fmt: skip
            return
        _name_known_release(deposit_id, operation.out_request_no, operation.operation_id or None)
        return
    if not operation.split_adds_up:
        park(deposit_id, SPLIT_MISMATCH,
             f"unfreeze {operation.out_request_no}: credit {operation.split.credit_fen} + fund "
             f"{operation.split.fund_fen} != {amount} fen")  # fmt: skip
        return
    paid = operation.total_pay_fen
    if paid is not None and paid > deposit.charged_fen:
        park(deposit_id, UNEXPECTED_PAYMENT, f"platform paid {paid}, ledger {deposit.charged_fen}")
        return
    if not _add_platform_release(
        deposit_id, amount, request_no=operation.out_request_no,
        operation_id=operation.operation_id or None,
        credit_fen=operation.split.credit_fen, fund_fen=operation.split.fund_fen,
    ):  # fmt: skip
        detail = f"unfreeze {operation.out_request_no} of {amount} fen exceeds what is held"
        park(deposit_id, UNEXPECTED_RELEASE, detail)


def _add_platform_release(
    deposit_id: str,
    amount: int,
    *,
    request_no: str,
    operation_id: str | None,
    credit_fen: int | None = None,
    fund_fen: int | None = None,
) -> bool:
    """Count a release the platform made (reserved, released, a ledger line); False if too big."""
    taken = rows_changed(
        update(Deposit)
        .where(Deposit.id == deposit_id, Deposit.reserved_fen + amount <= Deposit.amount_fen)
        .values(
            reserved_fen=Deposit.reserved_fen + amount,
            released_fen=Deposit.released_fen + amount,
        )
    )
    if not taken:
        return False
    now = utcnow()
    line = DepositOperation(
        deposit_id=deposit_id,
        kind=RELEASE,
        status=SUCCEEDED,
        amount_fen=amount,
        reserved_fen=amount,
        credit_fen=credit_fen,
        fund_fen=fund_fen,
        request_no=request_no,
        requested_by=PLATFORM,
        reason="released by the platform",
        operation_id=operation_id,
        created_at=now,
        completed_at=now,
    )
    db.session.add(line)
    db.session.flush()
    record_deposit("deposit.released", deposit_id, line.id)
    settle_if_done(deposit_id)
    log.warning("deposit %s: the platform released %s fen on its own", deposit_id, amount)
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

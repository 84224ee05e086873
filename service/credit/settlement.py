"""Recording what the platform did to a deposit: it is held, an operation completed, it settled.

The same fact can reach Minifin more than once and in any order: a synchronous answer and its
notification, a notification and the worker's reconciliation query, a redelivery. Every change
here is therefore conditional on the state it moves from, so each fact is recorded once. The
caller commits.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import update

from service.credit.credit_events import record_deposit
from service.credit.models import (
    AWAITING_USER,
    EXPIRED,
    FAILED,
    FREEZE,
    HELD,
    PENDING,
    RELEASE,
    SETTLED,
    SUCCEEDED,
    Deposit,
    DepositOperation,
)
from service.dbtypes import utcnow
from service.extensions import db
from service.gateway.fund_auth import FundOperation
from service.sql import existing, rows_changed

log = logging.getLogger(__name__)
REST_SUFFIX = "rest"  # the request number of what a settling charge released with it


def record_hold(deposit: Deposit, operation: FundOperation) -> bool:
    """The user confirmed and the platform froze (or waived) the deposit; False if known already.

    A confirmation that arrives after the deposit expired on Minifin's side is still recorded:
    the platform holds the money, so it must be released (see `holds.py`, which checks the
    amount, the split and the payer before it calls this).
    """
    now = utcnow()
    held = rows_changed(
        update(Deposit)
        .where(Deposit.id == deposit.id, Deposit.status.in_((AWAITING_USER, EXPIRED)))
        .values(
            status=HELD,
            auth_no=operation.auth_no,
            credit_amount_fen=operation.split.credit_fen,
            fund_amount_fen=operation.split.fund_fen,
            held_at=now,
        )
    )
    if held:
        db.session.add(
            DepositOperation(
                deposit_id=deposit.id,
                kind=FREEZE,
                status=SUCCEEDED,
                amount_fen=operation.amount_fen,
                reserved_fen=0,
                credit_fen=operation.split.credit_fen,
                fund_fen=operation.split.fund_fen,
                request_no=operation.out_request_no or deposit.out_request_no,
                requested_by=deposit.user_id,
                operation_id=operation.operation_id or None,
                created_at=now,
                completed_at=now,
            )
        )
        record_deposit("deposit.held", deposit.id)
        log.info("deposit %s held (credit %s fen)", deposit.id, operation.split.credit_fen)
    return bool(held)


def complete_operation(
    operation_id: int,
    *,
    credit_fen: int | None = None,
    fund_fen: int | None = None,
    gateway_operation_id: str | None = None,
    trade_no: str | None = None,
) -> bool:
    """A pending release or charge succeeded: count it, and settle the deposit when all is done.

    Returns False when it was completed already (by the other of answer and notification).
    """
    now = utcnow()
    if not _mark_succeeded(
        operation_id,
        now,
        credit_fen=credit_fen,
        fund_fen=fund_fen,
        gateway_operation_id=gateway_operation_id,
        trade_no=trade_no,
    ):
        return False
    operation = existing(DepositOperation, operation_id)
    released = operation.amount_fen if operation.kind == RELEASE else 0
    charged = operation.amount_fen - released
    rest = _record_released_rest(operation, now)
    released += rest.amount_fen if rest is not None else 0
    _count(operation.deposit_id, released_fen=released, charged_fen=charged)
    kind = "deposit.released" if operation.kind == RELEASE else "deposit.charged"
    record_deposit(kind, operation.deposit_id, operation_id)
    if rest is not None:
        record_deposit("deposit.released", operation.deposit_id, rest.id)
    settle_if_done(operation.deposit_id)
    return True


def _mark_succeeded(
    line_id: int,
    now: datetime,
    *,
    credit_fen: int | None,
    fund_fen: int | None,
    gateway_operation_id: str | None,
    trade_no: str | None,
) -> bool:
    """Move the line from pending to succeeded with what the platform reported; False when
    something else (the other of answer and notification) moved it first."""
    done = rows_changed(
        update(DepositOperation)
        .where(DepositOperation.id == line_id, DepositOperation.status == PENDING)
        .values(
            status=SUCCEEDED,
            credit_fen=credit_fen,
            fund_fen=fund_fen,
            operation_id=gateway_operation_id,
            trade_no=trade_no,
            completed_at=now,
        )
    )
    return bool(done)


def _record_released_rest(operation: DepositOperation, now: datetime) -> DepositOperation | None:
    """A settling charge (COMPLETE) made the platform release the rest of the hold with it:
    the ledger gets that release as a line of its own, returned (None when there is no rest)."""
    rest = operation.reserved_fen - operation.amount_fen
    if rest <= 0:
        return None
    line = DepositOperation(
        deposit_id=operation.deposit_id,
        kind=RELEASE,
        status=SUCCEEDED,
        amount_fen=rest,
        reserved_fen=0,
        request_no=f"{operation.request_no}{REST_SUFFIX}",
        requested_by=operation.requested_by,
        reason="released with the settling charge",
        created_at=now,
        completed_at=now,
    )
    db.session.add(line)
    db.session.flush()
    return line


def _count(deposit_id: str, *, released_fen: int, charged_fen: int) -> None:
    """Add to the deposit's released and charged totals, in SQL so concurrent counts add up."""
    db.session.execute(
        update(Deposit)
        .where(Deposit.id == deposit_id)
        .values(
            released_fen=Deposit.released_fen + released_fen,
            charged_fen=Deposit.charged_fen + charged_fen,
        )
    )


def settle_if_done(deposit_id: str) -> None:
    """A held deposit whose releases and charges add up to its amount is settled (once, with
    its event)."""
    settled = rows_changed(
        update(Deposit)
        .where(
            Deposit.id == deposit_id,
            Deposit.status == HELD,
            Deposit.released_fen + Deposit.charged_fen == Deposit.amount_fen,
        )
        .values(status=SETTLED, settled_at=utcnow())
    )
    if settled:
        record_deposit("deposit.settled", deposit_id)


def revive_operation(operation_id: int, **reported) -> bool:
    """A line recorded failed that the platform says succeeded after all: count it now.

    Its reservation is taken again first (by the same conditional UPDATE that keeps the ledger
    within the hold); False when it no longer fits, which the caller parks for review.
    """
    line = existing(DepositOperation, operation_id)
    taken = rows_changed(
        update(Deposit)
        .where(
            Deposit.id == line.deposit_id,
            Deposit.reserved_fen + line.reserved_fen <= Deposit.amount_fen,
        )
        .values(reserved_fen=Deposit.reserved_fen + line.reserved_fen)
    )
    if not taken:
        return False
    db.session.execute(
        update(DepositOperation)
        .where(DepositOperation.id == operation_id, DepositOperation.status == FAILED)
        .values(status=PENDING, failure=None)
    )
    return complete_operation(operation_id, **reported)


def fill_in(line: DepositOperation, operation: FundOperation) -> None:
    """Add what a later report knows (the platform's operation id, the credit/fund split)."""
    line.operation_id = line.operation_id or operation.operation_id or None
    if line.credit_fen is None and line.fund_fen is None:
        line.credit_fen, line.fund_fen = operation.split.credit_fen, operation.split.fund_fen

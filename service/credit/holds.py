"""Accepting a freeze the platform reports: is it this deposit's, for its amount, still usable?

A freeze reaches Minifin by notification or by the worker's reconciliation query; either way it
is checked here before the deposit counts as held:

- its amount must be the deposit's and its split must add up (`credit + fund == amount`);
  otherwise the deposit is parked for review (`review.py`), never acknowledged silently;
- its payer must be the deposit's user: a hold someone else confirmed (the orderStr was passed
  on) can never be charged to the user, so it is recorded and released at once, in full, with
  the reason (`foreign_payer`);
- a freeze that arrives after the deposit expired can no longer be used: it too is recorded and
  released at once (`late_freeze`).

The release is an ordinary pending ledger line that the worker sends (no gateway call happens
inside the notification's transaction), so it is retried, reconciled and counted like any other.
"""

from __future__ import annotations

import logging

from sqlalchemy import update

from service.auth.models import User
from service.credit.models import (
    AMOUNT_MISMATCH,
    EXPIRED,
    FOREIGN_PAYER,
    HELD,
    LATE_FREEZE,
    PENDING,
    RELEASE,
    SPLIT_MISMATCH,
    Deposit,
    DepositOperation,
)
from service.credit.review import park
from service.credit.settlement import record_hold
from service.dbtypes import utcnow
from service.extensions import db
from service.gateway.fund_auth import FundOperation
from service.ids import new_id
from service.scheduler.outbox import enqueue
from service.sql import existing, rows_changed

log = logging.getLogger(__name__)
RESUME_OPERATION = "credit.resume_deposit_operation"
MINIFIN = "minifin"  # requested_by of what Minifin does on its own


def accept_freeze(deposit: Deposit, operation: FundOperation) -> bool:
    """Record the freeze if it is this deposit's; release it at once if it cannot be used."""
    if operation.amount_fen != deposit.amount_fen:
        park(deposit.id, AMOUNT_MISMATCH,
             f"froze {operation.amount_fen} fen of {deposit.amount_fen}")  # fmt: skip
        return False
    if not operation.split_adds_up:
        park(deposit.id, SPLIT_MISMATCH, _split_text(operation))
        return False
    late = deposit.status == EXPIRED
    foreign = _foreign_payer(deposit, operation)
    deposit_id = deposit.id
    if not record_hold(deposit, operation):
        return False
    if foreign or late:
        release_unusable(deposit_id, FOREIGN_PAYER if foreign else LATE_FREEZE)
    return True


def _split_text(operation: FundOperation) -> str:
    split = operation.split
    return f"credit {split.credit_fen} + fund {split.fund_fen} != {operation.amount_fen} fen"


def _foreign_payer(deposit: Deposit, operation: FundOperation) -> bool:
    """Whether the platform names a payer who is not the deposit's user (ids are compared)."""
    user = existing(User, deposit.user_id)
    pairs = ((operation.payer_user_id, user.platform_user_id),
             (operation.payer_open_id, user.open_id))  # fmt: skip
    return any(reported and own and reported != own for reported, own in pairs)


def release_unusable(deposit_id: str, problem: str) -> None:
    """Reserve the whole hold for one release, record why, and let the worker send it."""
    deposit = existing(Deposit, deposit_id)
    amount = deposit.amount_fen - deposit.reserved_fen
    taken = rows_changed(
        update(Deposit)
        .where(Deposit.id == deposit_id, Deposit.status == HELD, Deposit.reserved_fen == 0)
        .values(reserved_fen=Deposit.amount_fen, problem=problem)
    )
    if not taken or amount <= 0:
        return
    line = DepositOperation(
        deposit_id=deposit_id,
        kind=RELEASE,
        status=PENDING,
        amount_fen=amount,
        reserved_fen=amount,
        request_no=new_id("rel").replace("_", ""),
        requested_by=MINIFIN,
        reason=f"released by Minifin: {problem}",
        created_at=utcnow(),
    )
    db.session.add(line)
    db.session.flush()
    enqueue(RESUME_OPERATION, {"operation_id": line.id}, dedupe_key=f"op:{line.request_no}")
    log.warning("deposit %s cannot be used (%s): releasing the hold", deposit_id, problem)

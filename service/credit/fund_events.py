"""What the platform tells Minifin about deposits: freeze and unfreeze notifications, and the
worker's reconciliation when a freeze notification never came.

Notifications are verified and de-duplicated by `service.notifications`, which commits after the
handler; the handlers here only record facts (through `settlement`), in whatever order they come.
A freeze is accepted only through `holds.accept_freeze` (amount, split, payer, still usable); an
unfreeze must match its line's amount and add up; one Minifin did not ask for is matched to its
deposit by `auth_no` and recorded from the platform's totals, never dropped; and a success for a
line recorded failed completes it after all.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from service.components import gateway, settings
from service.credit.credit_events import record_deposit
from service.credit.deposits import RECONCILE_DEPOSIT
from service.credit.holds import accept_freeze
from service.credit.models import (
    AMOUNT_MISMATCH,
    AWAITING_USER,
    CHARGE,
    EXPIRED,
    FAILED,
    PENDING,
    RELEASE,
    Deposit,
    DepositOperation,
)
from service.credit.platform_totals import has_pending, record_unasked_release
from service.credit.review import park
from service.credit.settlement import REST_SUFFIX, complete_operation, fill_in, revive_operation
from service.dbtypes import utcnow
from service.extensions import db
from service.gateway import fund_auth
from service.notifications.services import NotificationTooEarly
from service.scheduler.outbox import ClaimedJob, enqueue
from service.sql import existing, rows_changed
from service.transactions import end_transaction_before_call

log = logging.getLogger(__name__)


def on_freeze(fields: Mapping[str, str]) -> None:
    """The user confirmed in the cashier: the deposit is held (once, however often told)."""
    operation = fund_auth.operation_from(fields)
    deposit = db.session.scalars(
        select(Deposit).where(Deposit.out_order_no == operation.out_order_no)
    ).first()
    if deposit is None:
        log.warning("fund_auth_freeze for an unknown deposit %s", operation.out_order_no)
    elif operation.succeeded:
        accept_freeze(deposit, operation)


def on_unfreeze(fields: Mapping[str, str]) -> None:
    """A release finished; it may arrive before the answer to the call that asked for it."""
    operation = fund_auth.operation_from(fields)
    line = db.session.scalars(
        select(DepositOperation).where(DepositOperation.request_no == operation.out_request_no)
    ).first()
    if line is None:
        line = _rest_released_by_settling(operation)
    if line is None and _settling_charge_pending(operation.auth_no):
        # The rest a COMPLETE charge released, told before the charge's own answer was recorded.
        raise NotificationTooEarly("The charge that released this is still being recorded.")
    if line is None:
        _unasked_release(operation)
    elif operation.amount_fen != line.amount_fen or not operation.split_adds_up:
        park(line.deposit_id, AMOUNT_MISMATCH,
             f"unfreeze {operation.out_request_no}: {operation.amount_fen} fen (credit "
             f"{operation.split.credit_fen} + fund {operation.split.fund_fen}) for a line of "
             f"{line.amount_fen}")  # fmt: skip
    elif line.status in (PENDING, FAILED) and operation.succeeded:
        reported: dict[str, Any] = {
            "credit_fen": operation.split.credit_fen,
            "fund_fen": operation.split.fund_fen,
            "gateway_operation_id": operation.operation_id or None,
        }
        if line.status == PENDING:
            complete_operation(line.id, **reported)
        elif not revive_operation(line.id, **reported):
            park(line.deposit_id, AMOUNT_MISMATCH,
                 f"unfreeze {operation.out_request_no} succeeded after it was failed")  # fmt: skip
    else:
        fill_in(line, operation)


def _unasked_release(operation: fund_auth.FundOperation) -> None:
    """A release by a request number Minifin never used: matched to its deposit by auth_no."""
    deposit = db.session.scalars(
        select(Deposit).where(Deposit.auth_no == operation.auth_no)
    ).first()
    if deposit is None:
        log.warning("fund_auth_unfreeze for an unknown hold %s", operation.out_request_no)
        return
    if has_pending(deposit.id):
        # A pending line may be what this includes; it is being reconciled, so hear this later.
        raise NotificationTooEarly("A release or charge of this deposit is still being settled.")
    record_unasked_release(deposit, operation)


def _rest_released_by_settling(operation: fund_auth.FundOperation) -> DepositOperation | None:
    """The platform names its own request number for the rest a COMPLETE charge released."""
    return db.session.scalars(
        select(DepositOperation)
        .join(Deposit, Deposit.id == DepositOperation.deposit_id)
        .where(
            Deposit.auth_no == operation.auth_no,
            DepositOperation.kind == RELEASE,
            DepositOperation.request_no.endswith(REST_SUFFIX),
            DepositOperation.operation_id.is_(None),
            DepositOperation.amount_fen == operation.amount_fen,
        )
    ).first()


def _settling_charge_pending(auth_no: str) -> bool:
    pending = db.session.scalar(
        select(DepositOperation.id)
        .join(Deposit, Deposit.id == DepositOperation.deposit_id)
        .where(
            Deposit.auth_no == auth_no,
            DepositOperation.kind == CHARGE,
            DepositOperation.settles.is_(True),
            DepositOperation.status == PENDING,
        )
    )
    return pending is not None


def reconcile_deposit(job: ClaimedJob) -> None:
    """No notification yet: ask the platform whether the user confirmed; expire it when late."""
    deposit = db.session.get(Deposit, job.payload["deposit_id"])
    if deposit is None or deposit.status != AWAITING_USER:
        db.session.rollback()
        return
    deposit_id, expires_at = deposit.id, deposit.expires_at
    out_order_no, out_request_no = deposit.out_order_no, deposit.out_request_no
    end_transaction_before_call()
    operation = fund_auth.operation_detail(
        gateway(), out_order_no=out_order_no, out_request_no=out_request_no
    )
    deposit = existing(Deposit, deposit_id)
    if operation is not None and operation.succeeded:
        if accept_freeze(deposit, operation):
            log.info("deposit %s held, learnt by reconciliation", deposit_id)
    elif utcnow() >= expires_at:
        closed = rows_changed(
            update(Deposit)
            .where(Deposit.id == deposit_id, Deposit.status == AWAITING_USER)
            .values(status=EXPIRED)
        )
        if closed:  # a freeze recorded meanwhile (a notification) wins: no hold, no close
            record_deposit("deposit.closed", deposit_id)
        log.info("deposit %s expired: the user never confirmed", deposit_id)
    else:  # ask once more when the user can no longer confirm
        enqueue(
            RECONCILE_DEPOSIT,
            {"deposit_id": deposit_id},
            run_at=expires_at + timedelta(seconds=settings().deposit_reconcile_seconds),
            dedupe_key=f"reconcile-at-expiry:{deposit_id}",
        )
    db.session.commit()

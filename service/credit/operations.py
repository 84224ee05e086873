"""Performing a deposit's release or charge at the gateway, and resending one whose answer was lost.

An operation is recorded `pending` (with its amount reserved) before it is sent; here it is sent,
outside any transaction, and its outcome recorded as the gateway's answer table reads it
(`service.gateway.outcomes`): done → succeeded (through `settlement`, which counts it once
whatever else reports it; an "already done" repeat counts too); refused → failed with the
reservation given back; unknown (timeout, 20000, `SYSTEM_ERROR`, an answer that does not
verify, `ORDER_ALREADY_FINISH`) → still pending. The worker then reconciles a pending line by
query before anything is freed: the platform's operation record completes it; only when the
platform has no such operation is the request sent again (with the same request number, which
it answers once), and only an ended order that never had the operation fails it, after which
the ledger is brought to the platform's totals (`platform_totals.py`).
"""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import dataclass

from sqlalchemy import update

from service.auth.models import User
from service.components import gateway
from service.credit.holds import RESUME_OPERATION
from service.credit.models import (
    AMOUNT_MISMATCH,
    CHARGE,
    FAILED,
    PENDING,
    RELEASE,
    SPLIT_MISMATCH,
    Deposit,
    DepositOperation,
)
from service.credit.platform_totals import apply_platform_totals
from service.credit.review import park
from service.credit.settlement import complete_operation, fill_in
from service.dbtypes import utcnow
from service.errors import Conflict
from service.extensions import db
from service.gateway import fund_auth, payments
from service.gateway.errors import (
    GatewayBadResponse,
    GatewayOutcomeUnknown,
    GatewayRejected,
    GatewayUnavailable,
)
from service.scheduler.outbox import ClaimedJob, enqueue
from service.sql import existing, rows_changed
from service.transactions import end_transaction_before_call

log = logging.getLogger(__name__)
# Answers that say the order can take no more operations: unknown on their own (an earlier
# COMPLETE may have done this one's work), final once a query found no such operation.
ORDER_ENDED = frozenset({"ORDER_ALREADY_FINISH", "ORDER_ALREADY_CLOSED"})
RECORD_CHARGE_SPLIT = "credit.record_charge_split"


@dataclass(frozen=True)
class _Request:
    """What sending a pending operation needs, read before the transaction ends."""

    operation_id: int
    deposit_id: str
    kind: str
    request_no: str
    amount_fen: int
    auth_no: str
    reason: str
    settles: bool
    title: str
    buyer_id: str | None
    buyer_open_id: str | None


def perform(operation_id: int, *, confirmed_absent: bool = False) -> Deposit:
    """Send a pending operation (again) and record its outcome; nothing is held open meanwhile.

    `confirmed_absent`: a query just found that the platform has no such operation.
    """
    operation = existing(DepositOperation, operation_id)
    deposit = existing(Deposit, operation.deposit_id)
    if operation.status != PENDING:
        return deposit
    request = _request_of(operation, deposit)
    end_transaction_before_call()
    try:
        if request.kind == RELEASE:
            _send_release(request)
        else:
            _send_charge(request)
    except GatewayOutcomeUnknown as exc:
        if not (confirmed_absent and exc.sub_code in ORDER_ENDED):
            _keep_pending(operation_id, request.request_no)
            raise
        # The order ended without this operation, which now never can happen.
        _fail(operation_id, exc.sub_code)
        _apply_totals_of(request.deposit_id)
    except GatewayRejected as exc:
        _fail(operation_id, exc.sub_code or exc.gateway_code)
        raise Conflict(
            f"The platform refused the {request.kind}: {exc.sub_msg or exc.sub_code}.",
            code="deposit_operation_refused",
        ) from exc
    except (GatewayUnavailable, GatewayBadResponse):
        _keep_pending(operation_id, request.request_no)
        raise
    db.session.commit()
    db.session.expire_all()  # the counters moved in SQL; read them back
    return existing(Deposit, request.deposit_id)


def _request_of(operation: DepositOperation, deposit: Deposit) -> _Request:
    """The operation, its deposit and its payer as plain values, which outlive the transaction."""
    user = existing(User, deposit.user_id)
    return _Request(
        operation_id=operation.id,
        deposit_id=deposit.id,
        kind=operation.kind,
        request_no=operation.request_no,
        amount_fen=operation.amount_fen,
        auth_no=deposit.held_auth_no,
        reason=operation.reason or "",
        settles=operation.settles,
        title=deposit.title,
        buyer_id=user.platform_user_id,
        buyer_open_id=user.open_id,
    )


def _send_release(request: _Request) -> None:
    """Unfreeze at the platform; the answer splits what went back into credit and held money."""
    released = fund_auth.unfreeze(
        gateway(),
        auth_no=request.auth_no,
        out_request_no=request.request_no,
        amount_fen=request.amount_fen,
        remark=request.reason or "deposit released",
    )
    complete_operation(
        request.operation_id,
        credit_fen=released.split.credit_fen,
        fund_fen=released.split.fund_fen,
        gateway_operation_id=released.operation_id or None,
    )
    _check_reported(request.deposit_id, request.amount_fen, released)


def _send_charge(request: _Request) -> None:
    """Pay from the hold (COMPLETE when it settles the deposit); the split is asked for later."""
    payment = fund_auth.pay_from_hold(
        gateway(),
        auth_no=request.auth_no,
        out_trade_no=request.request_no,
        amount_fen=request.amount_fen,
        subject=f"{request.title}: {request.reason}"[:128],
        complete=request.settles,
        buyer_id=request.buyer_id,
        buyer_open_id=request.buyer_open_id,
    )
    if complete_operation(request.operation_id, trade_no=payment.trade_no):
        # The payment's answer does not split it; the platform's record of it does.
        enqueue(
            RECORD_CHARGE_SPLIT,
            {"operation_id": request.operation_id},
            dedupe_key=f"split:{request.request_no}",
        )
    if payment.amount_fen != request.amount_fen:
        park(
            request.deposit_id,
            AMOUNT_MISMATCH,
            f"charge {request.request_no}: paid {payment.amount_fen} of {request.amount_fen} fen",
        )


def _keep_pending(operation_id: int, request_no: str) -> None:
    """The platform may or may not have acted: the worker reconciles the line by query.

    Step 4 of the transaction rule for an unknown outcome: it commits the reconciliation job.
    """
    db.session.rollback()
    enqueue(RESUME_OPERATION, {"operation_id": operation_id}, dedupe_key=f"op:{request_no}")
    db.session.commit()


def _check_reported(deposit_id: str, amount: int, reported: fund_auth.FundOperation) -> None:
    """What the platform reports must be what was asked, and its split must add up."""
    if reported.amount_fen != amount:
        park(deposit_id, AMOUNT_MISMATCH,
             f"{reported.out_request_no}: {reported.amount_fen} of {amount} fen")  # fmt: skip
    elif not reported.split_adds_up:
        park(deposit_id, SPLIT_MISMATCH,
             f"{reported.out_request_no}: credit {reported.split.credit_fen} + fund "
             f"{reported.split.fund_fen} != {reported.amount_fen} fen")  # fmt: skip


def _apply_totals_of(deposit_id: str) -> None:
    """Bring the ledger to the order's totals, read from the platform's record of the freeze."""
    deposit = existing(Deposit, deposit_id)
    out_order_no, freeze_request_no = deposit.out_order_no, deposit.out_request_no
    end_transaction_before_call()
    freeze = fund_auth.operation_detail(
        gateway(), out_order_no=out_order_no, out_request_no=freeze_request_no
    )
    if freeze is not None and freeze.total_unfreeze_fen is not None:
        apply_platform_totals(
            deposit_id, unfrozen_fen=freeze.total_unfreeze_fen, paid_fen=freeze.total_pay_fen or 0
        )


def _fail(operation_id: int, failure: str) -> None:
    """A refused operation gives its reservation back; the ledger keeps the line, failed.

    Step 4 of the transaction rule for a refusal: it records the outcome and commits.
    """
    failed = rows_changed(
        update(DepositOperation)
        .where(DepositOperation.id == operation_id, DepositOperation.status == PENDING)
        .values(status=FAILED, failure=failure[:128], completed_at=utcnow())
    )
    if failed:
        operation = existing(DepositOperation, operation_id)
        db.session.execute(
            update(Deposit)
            .where(Deposit.id == operation.deposit_id)
            .values(reserved_fen=Deposit.reserved_fen - operation.reserved_fen)
        )
    db.session.commit()
    log.warning("deposit operation %s refused by the platform: %s", operation_id, failure)


def resume_operation(job: ClaimedJob) -> None:
    """Reconcile a pending operation by query; resend it only if the platform never had it."""
    operation = db.session.get(DepositOperation, job.payload["operation_id"])
    if operation is None or operation.status != PENDING:
        db.session.rollback()
        return
    deposit = existing(Deposit, operation.deposit_id)
    line_id, amount, deposit_id, kind = (
        operation.id, operation.amount_fen, deposit.id, operation.kind
    )  # fmt: skip
    out_order_no, request_no = deposit.out_order_no, operation.request_no
    end_transaction_before_call()
    reported = fund_auth.operation_detail(
        gateway(), out_order_no=out_order_no, out_request_no=request_no
    )  # an unknown answer raises: the job is retried later, and nothing is freed
    if reported is not None and reported.succeeded:
        trade_no = None
        if kind == CHARGE:  # the operation record names no trade: the trade's own record does
            trade = payments.query_trade(gateway(), out_trade_no=request_no)
            trade_no = trade.trade_no if trade is not None and trade.paid else None
        complete_operation(
            line_id,
            credit_fen=reported.split.credit_fen,
            fund_fen=reported.split.fund_fen,
            gateway_operation_id=reported.operation_id or None,
            trade_no=trade_no,
        )
        _check_reported(deposit_id, amount, reported)
        db.session.commit()
        return
    with suppress(Conflict):  # refused: recorded as failed, with the reservation given back
        perform(line_id, confirmed_absent=reported is None)


def record_charge_split(job: ClaimedJob) -> None:
    """Add to a charge's ledger line how much of it waived credit paid and how much held money."""
    line = existing(DepositOperation, job.payload["operation_id"])
    deposit = existing(Deposit, line.deposit_id)
    out_order_no, request_no = deposit.out_order_no, line.request_no
    deposit_id, amount = deposit.id, line.amount_fen
    end_transaction_before_call()
    reported = fund_auth.operation_detail(
        gateway(), out_order_no=out_order_no, out_request_no=request_no
    )
    if reported is None:
        log.info("the platform keeps no operation record of charge %s", request_no)
        return
    if reported.amount_fen == amount and reported.split_adds_up:
        fill_in(existing(DepositOperation, job.payload["operation_id"]), reported)
    _check_reported(deposit_id, amount, reported)
    db.session.commit()

"""Performing a deposit's release or charge at the gateway, and resending one whose answer was lost.

An operation is recorded `pending` (with its amount reserved) before it is sent; here it is sent,
outside any transaction, and its outcome recorded: succeeded (through `settlement`, which counts
it once whatever else reports it), or failed with the reservation given back. When the answer is
lost (timeout, 20000, an answer that does not verify) the line stays pending and the worker
resends it with the same request number, which the platform answers once.
"""

from __future__ import annotations

import logging
from contextlib import suppress

from sqlalchemy import update

from service.auth.models import User
from service.components import gateway
from service.credit.models import FAILED, PENDING, RELEASE, Deposit, DepositOperation
from service.credit.settlement import complete_operation, fill_in
from service.dbtypes import utcnow
from service.errors import Conflict
from service.extensions import db
from service.gateway import credit as fund_auth
from service.gateway.errors import GatewayBadResponse, GatewayRejected, GatewayUnavailable
from service.scheduler.outbox import ClaimedJob, enqueue, job_handler

log = logging.getLogger(__name__)
RESUME_OPERATION = "credit.resume_deposit_operation"
RECORD_CHARGE_SPLIT = "credit.record_charge_split"


def perform(operation_id: int) -> Deposit:
    """Send a pending operation (again) and record its outcome; nothing is held open meanwhile."""
    operation = db.session.get(DepositOperation, operation_id)
    deposit = db.session.get(Deposit, operation.deposit_id)
    if operation.status != PENDING:
        return deposit
    user = db.session.get(User, deposit.user_id)
    kind, request_no, amount, auth_no = (
        operation.kind, operation.request_no, operation.amount_fen, deposit.auth_no
    )  # fmt: skip
    reason, settles, deposit_id = operation.reason or "", operation.settles, deposit.id
    buyer_id, buyer_open_id = user.platform_user_id, user.open_id
    title = deposit.title
    db.session.rollback()
    try:
        if kind == RELEASE:
            released = fund_auth.unfreeze(
                gateway(),
                auth_no=auth_no,
                out_request_no=request_no,
                amount_fen=amount,
                remark=reason or "deposit released",
            )
            complete_operation(
                operation_id,
                credit_fen=released.split.credit_fen,
                fund_fen=released.split.fund_fen,
                gateway_operation_id=released.operation_id or None,
            )
        else:
            payment = fund_auth.pay_from_hold(
                gateway(),
                auth_no=auth_no,
                out_trade_no=request_no,
                amount_fen=amount,
                subject=f"{title}: {reason}"[:128],
                complete=settles,
                buyer_id=buyer_id,
                buyer_open_id=buyer_open_id,
            )
            if complete_operation(operation_id, trade_no=payment.trade_no):
                # The payment's answer does not split it; the platform's record of it does.
                enqueue(
                    RECORD_CHARGE_SPLIT,
                    {"operation_id": operation_id},
                    dedupe_key=f"split:{request_no}",
                )
    except GatewayRejected as exc:
        _fail(operation_id, exc.sub_code or exc.gateway_code)
        raise Conflict(
            f"The platform refused the {kind}: {exc.sub_msg or exc.sub_code}.",
            code="deposit_operation_refused",
        ) from exc
    except (GatewayUnavailable, GatewayBadResponse):
        # The platform may or may not have acted: the worker resends the same request number.
        enqueue(RESUME_OPERATION, {"operation_id": operation_id}, dedupe_key=f"op:{request_no}")
        db.session.commit()
        raise
    db.session.commit()
    db.session.expire_all()  # the counters moved in SQL; read them back
    return db.session.get(Deposit, deposit_id)


def _fail(operation_id: int, failure: str) -> None:
    """A refused operation gives its reservation back; the ledger keeps the line, failed."""
    failed = db.session.execute(
        update(DepositOperation)
        .where(DepositOperation.id == operation_id, DepositOperation.status == PENDING)
        .values(status=FAILED, failure=failure[:128], completed_at=utcnow())
    ).rowcount
    if failed:
        operation = db.session.get(DepositOperation, operation_id)
        db.session.execute(
            update(Deposit)
            .where(Deposit.id == operation.deposit_id)
            .values(reserved_fen=Deposit.reserved_fen - operation.reserved_fen)
        )
    db.session.commit()
    log.warning("deposit operation %s refused by the platform: %s", operation_id, failure)


@job_handler(RESUME_OPERATION)
def resume_operation(job: ClaimedJob) -> None:
    """Resend an operation whose answer was lost; the same request number cannot act twice."""
    operation = db.session.get(DepositOperation, job.payload["operation_id"])
    if operation is None or operation.status != PENDING:
        db.session.rollback()
        return
    with suppress(Conflict):  # refused: recorded as failed, with the reservation given back
        perform(operation.id)


@job_handler(RECORD_CHARGE_SPLIT)
def record_charge_split(job: ClaimedJob) -> None:
    """Add to a charge's ledger line how much of it waived credit paid and how much held money."""
    line = db.session.get(DepositOperation, job.payload["operation_id"])
    deposit = db.session.get(Deposit, line.deposit_id)
    out_order_no, request_no = deposit.out_order_no, line.request_no
    db.session.rollback()  # no transaction stays open across the gateway call
    reported = fund_auth.operation_detail(
        gateway(), out_order_no=out_order_no, out_request_no=request_no
    )
    if reported is None:
        log.info("the platform keeps no operation record of charge %s", request_no)
        return
    fill_in(db.session.get(DepositOperation, job.payload["operation_id"]), reported)
    db.session.commit()

"""Money back to the sender: gifts never claimed in their window, and gifts canceled before sending.

Expiry is due work like sending: one transaction moves every overdue `sent` gift to
`expired_unclaimed`, voids its vouchers and queues its refund. The refund is an outbox job keyed
by the gift id as `out_request_no`, so however often it is retried the sender is refunded once;
the transaction that records the refund also queues the sender's notice of it.

Refunds must stay possible: the platform refuses them once a trade's refund period is over
(`ACQ.TRADE_HAS_FINISHED`, the trade is `TRADE_FINISHED`). Gifts are scheduled so that their
claim window closes inside `MINIFIN_REFUND_PERIOD_DAYS` (see `gifts.py`); a refund that still
falls outside (a shorter period agreed with the platform, an old gift) is not retried for ever
but queued for an operator (`operator_refunds`, `minifin refunds list`,
`minifin_refunds_awaiting_operator`), and the sender is told that the merchant refunds them.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update

from service.components import gateway
from service.dbtypes import utcnow
from service.errors import Conflict
from service.extensions import db
from service.gateway import payments
from service.gateway.errors import GatewayRejected
from service.gateway.money import fen_to_yuan
from service.gifting.due import seconds_until_due, take_due_gifts
from service.gifting.jobs import TEMPLATE_MESSAGE, gift_message
from service.gifting.lookups import senders_gift
from service.gifting.models import (
    CANCELED,
    EXPIRED_UNCLAIMED,
    REFUNDED,
    SCHEDULED,
    SENT,
    VOID,
    Gift,
    GiftEvent,
    OperatorRefund,
    Voucher,
)
from service.gifting.snapshots import record_gift, record_gifts, record_vouchers_of
from service.scheduler.outbox import ClaimedJob, enqueue
from service.scheduler.worker import DueWorkSource
from service.sql import insert_ignoring_conflicts, rows_changed
from service.transactions import end_transaction_before_call

log = logging.getLogger(__name__)
REFUND_GIFT = "gifting.refund"
REFUND_TEMPLATE_ID = "TPL_GIFT_REFUNDED"
GIFT_PAGE = "pages/gift/detail"
# The platform's answer to a refund after the trade's refund period (alipay.trade.refund).
_REFUND_PERIOD_OVER = {"ACQ.TRADE_HAS_FINISHED"}
OPERATOR_REFUND_REASON = "the merchant will refund you directly"


def _queue_refund(gift_id: str, reason: str) -> None:
    enqueue(REFUND_GIFT, {"gift_id": gift_id, "reason": reason}, dedupe_key=f"refund:{gift_id}")


def expire_unclaimed_gifts(worker_id: str, limit: int) -> int:
    """Sent gifts whose claim window has closed: expired, vouchers void, refund queued."""
    now = utcnow()
    expired = take_due_gifts(SENT, Gift.claim_expires_at, now, limit, status=EXPIRED_UNCLAIMED)
    if expired:
        db.session.execute(
            update(Voucher).where(Voucher.gift_id.in_(expired)).values(status=VOID)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        for gift_id in expired:
            db.session.add(GiftEvent(gift_id=gift_id, at=now, type="expired_unclaimed", detail={}))
            _queue_refund(gift_id, "not claimed in time")
        record_gifts(["gift.expired"], expired)
        record_vouchers_of("voucher.voided", expired)
    db.session.commit()
    if expired:
        log.info("worker %s expired %d unclaimed gift(s)", worker_id, len(expired))
    return len(expired)


def seconds_until_next_expiry(horizon: float) -> float:
    """How long until the earliest sent gift's claim window closes (at most `horizon`)."""
    return seconds_until_due(SENT, Gift.claim_expires_at, horizon)


def cancel_gift(user_id: str, gift_id: str) -> Gift:
    """The sender changes their mind before the gift is sent: canceled, refund queued."""
    moved = rows_changed(
        update(Gift)
        .where(Gift.id == gift_id, Gift.sender_id == user_id, Gift.status == SCHEDULED)
        .values(status=CANCELED)
        .execution_options(synchronize_session=False)
    )
    gift = senders_gift(gift_id, user_id)
    if not moved:
        db.session.rollback()
        raise Conflict(f"A {gift.status} gift cannot be canceled.", code="gift_not_cancelable")
    db.session.add(GiftEvent(gift_id=gift_id, at=utcnow(), type="canceled", detail={}))
    _queue_refund(gift_id, "canceled by the sender")
    record_gift("gift.canceled", gift_id)
    db.session.commit()
    db.session.refresh(gift)
    return gift


def refund_gift(job: ClaimedJob) -> None:
    """Refund the whole gift; the gift id as `out_request_no` makes a retry refund nothing more."""
    gift_id = job.payload["gift_id"]
    amount, trade_no = db.session.execute(
        select(Gift.amount_fen, Gift.trade_no).where(Gift.id == gift_id)
    ).one()
    end_transaction_before_call()
    try:
        result = payments.refund_trade(
            gateway(), out_trade_no=gift_id, amount_fen=amount, out_request_no=gift_id,
            reason=job.payload["reason"],
        )  # fmt: skip
    except GatewayRejected as exc:
        if not refund_period_over(exc):
            raise
        leave_to_operator(gift_id, trade_no, gift_id, amount, job.payload["reason"], exc.sub_code)
        db.session.commit()
        return
    now = utcnow()
    moved = rows_changed(
        update(Gift)
        .where(Gift.id == gift_id, Gift.status.in_([EXPIRED_UNCLAIMED, CANCELED]))
        .values(status=REFUNDED, refunded_at=now)
        .execution_options(synchronize_session=False)
    )
    if moved:
        db.session.add(GiftEvent(gift_id=gift_id, at=now, type="refunded",
                                 detail={"refunded_fen": result.refunded_fen}))  # fmt: skip
        tell_the_sender(gift_id, amount, job.payload["reason"])
        record_gift("gift.refunded", gift_id)
    db.session.commit()


def refund_period_over(exc: GatewayRejected) -> bool:
    """Whether the platform refused a refund because the trade's refund period is over."""
    return exc.sub_code in _REFUND_PERIOD_OVER


def leave_to_operator(
    gift_id: str,
    trade_no: str | None,
    out_request_no: str,
    amount_fen: int,
    reason: str,
    refusal: str | None,
) -> None:
    """Queue a refund the platform no longer takes for an operator, once per request number,
    and tell the sender; the caller commits (the job then ends: no retry can change it)."""
    queued = insert_ignoring_conflicts(OperatorRefund, {
        "gift_id": gift_id, "trade_no": trade_no, "out_request_no": out_request_no,
        "amount_fen": amount_fen, "reason": reason, "refusal": refusal or "",
        "queued_at": utcnow(),
    })  # fmt: skip
    if not queued:
        return
    detail = {"out_request_no": out_request_no, "refusal": refusal}
    db.session.add(
        GiftEvent(gift_id=gift_id, at=utcnow(), type="refund_left_to_operator", detail=detail)
    )
    log.error("refund %s of gift %s refused (%s): queued for an operator",
              out_request_no, gift_id, refusal)  # fmt: skip
    late = out_request_no != gift_id  # a paid-late trade's refund, not the gift's own
    tell_the_sender(gift_id, amount_fen, OPERATOR_REFUND_REASON,
                    event="late-operator-refund" if late else "operator-refund")  # fmt: skip


def tell_the_sender(gift_id: str, refunded_fen: int, reason: str, event: str = "refunded") -> None:
    """Queue the sender's refund notice, in the refund's transaction (one job per refund).

    The notice is a template message, so it is at-least-once (see gifting/jobs.py).
    """
    gift = db.session.get(Gift, gift_id)
    if gift is None or not gift.sender.platform_user_id:
        return  # a user known only by open id cannot be messaged by user id
    payload, key = gift_message(
        gift_id, gift.sender.platform_user_id, REFUND_TEMPLATE_ID,
        page=f"{GIFT_PAGE}?id={gift_id}",
        data={"keyword1": gift.template.name, "keyword2": f"¥{fen_to_yuan(refunded_fen)}",
              "keyword3": reason},
        form_id=gift.trade_no or gift_id, event=event,
    )  # fmt: skip
    enqueue(TEMPLATE_MESSAGE, payload, dedupe_key=key)


# Unclaimed gifts as due work, run by every worker (declared in gifting/contributions.py).
UNCLAIMED_GIFTS = DueWorkSource(
    "unclaimed_gifts", expire_unclaimed_gifts, seconds_until_next_expiry
)

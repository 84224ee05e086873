"""Payments that land where they cannot be used are given back, once, and the sender is told.

A checked payment (our app and seller, the gift's own trade, the sender as buyer, the gift's
amount) for a gift that is no longer payable (closed for non-payment while the payment was on its
way, or in any later state that this trade did not pay for) is *paid-late*: the transaction
that learns of it records a `paid_late` event and queues a refund job keyed by the paying
`trade_no`, so a notification delivered twice, or both a notification and the settle job's
query, queue one job. The job refunds that trade in full with its own `out_request_no`
(`late-<trade_no>`), which the platform deduplicates, so a worker that crashes after the call
and runs again refunds nothing more. The refund's transaction queues the sender's notice, as
every gift refund does.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from service.components import gateway
from service.dbtypes import utcnow
from service.extensions import db
from service.gateway import payments
from service.gateway.errors import GatewayRejected
from service.gifting.models import Gift, GiftEvent
from service.gifting.refunds import leave_to_operator, refund_period_over, tell_the_sender
from service.gifting.snapshots import record_gift
from service.scheduler.outbox import ClaimedJob, enqueue
from service.transactions import end_transaction_before_call

log = logging.getLogger(__name__)
REFUND_PAID_LATE = "gifting.refund_paid_late"
PAID_LATE_REASON = "paid after the gift could no longer be paid for"


def late_request_no(trade_no: str) -> str:
    """The refund number of a paid-late trade: its own, never the gift's refund number."""
    return f"late-{trade_no}"


def record_paid_late(gift: Gift, trade_no: str, amount_fen: int, how: str) -> None:
    """Record the payment on the gift's timeline and queue its refund, once per trade."""
    seen = db.session.scalar(
        select(GiftEvent.id).where(GiftEvent.gift_id == gift.id, GiftEvent.type == "paid_late")
    )
    if seen is None:
        db.session.add(GiftEvent(gift_id=gift.id, at=utcnow(), type="paid_late",
                                 detail={"trade_no": trade_no, "amount_fen": amount_fen,
                                         "status": gift.status, "via": how}))  # fmt: skip
        log.warning("gift %s (%s) was paid late by trade %s; refund queued",
                    gift.id, gift.status, trade_no)  # fmt: skip
    enqueue(REFUND_PAID_LATE, {"gift_id": gift.id, "trade_no": trade_no, "amount_fen": amount_fen},
            dedupe_key=f"refund-late:{trade_no}")  # fmt: skip


def refund_paid_late(job: ClaimedJob) -> None:
    """Give a paid-late payment back in full; `late-<trade_no>` makes a retry refund nothing."""
    gift_id, trade_no = job.payload["gift_id"], job.payload["trade_no"]
    amount = int(job.payload["amount_fen"])
    request_no = late_request_no(trade_no)
    end_transaction_before_call()
    try:
        result = payments.refund_trade(
            gateway(), trade_no=trade_no, amount_fen=amount, out_request_no=request_no,
            reason=PAID_LATE_REASON,
        )  # fmt: skip
    except GatewayRejected as exc:
        if not refund_period_over(exc):
            raise
        leave_to_operator(gift_id, trade_no, request_no, amount, PAID_LATE_REASON, exc.sub_code)
        db.session.commit()
        return
    if _refund_recorded(gift_id, trade_no):  # a retry after the commit: recorded once
        db.session.rollback()
        return
    db.session.add(GiftEvent(gift_id=gift_id, at=utcnow(), type="paid_late_refunded",
                             detail={"trade_no": trade_no,
                                     "refunded_fen": result.refunded_fen}))  # fmt: skip
    tell_the_sender(gift_id, amount, PAID_LATE_REASON, event="late-refunded")
    record_gift("gift.refunded", gift_id)
    db.session.commit()


def _refund_recorded(gift_id: str, trade_no: str) -> bool:
    entries = db.session.scalars(
        select(GiftEvent.detail).where(
            GiftEvent.gift_id == gift_id, GiftEvent.type == "paid_late_refunded"
        )
    )
    return any(entry.get("trade_no") == trade_no for entry in entries)

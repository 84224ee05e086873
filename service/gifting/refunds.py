"""Money back to the sender: gifts never claimed in their window, and gifts canceled before sending.

Expiry is due work like sending: one transaction moves every overdue `sent` gift to
`expired_unclaimed`, voids its vouchers and queues its refund. The refund is an outbox job keyed
by the gift id as `out_request_no`, so however often it is retried the sender is refunded once;
the transaction that records the refund also queues the sender's notice of it.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update

from service.components import gateway
from service.dbtypes import utcnow
from service.errors import Conflict, NotFound
from service.extensions import db
from service.gateway import payments
from service.gateway.money import fen_to_yuan
from service.gifting.due import seconds_until_due, take_due_gifts
from service.gifting.jobs import TEMPLATE_MESSAGE, gift_message
from service.gifting.models import (
    CANCELED,
    EXPIRED_UNCLAIMED,
    REFUNDED,
    SCHEDULED,
    SENT,
    VOID,
    Gift,
    GiftEvent,
    Voucher,
)
from service.scheduler.outbox import ClaimedJob, enqueue, job_handler
from service.scheduler.worker import DueWorkSource, register_source

log = logging.getLogger(__name__)
REFUND_GIFT = "gifting.refund"
REFUND_TEMPLATE_ID = "TPL_GIFT_REFUNDED"
GIFT_PAGE = "pages/gift/detail"


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
    db.session.commit()
    if expired:
        log.info("worker %s expired %d unclaimed gift(s)", worker_id, len(expired))
    return len(expired)


def seconds_until_next_expiry(horizon: float) -> float:
    """How long until the earliest sent gift's claim window closes (at most `horizon`)."""
    return seconds_until_due(SENT, Gift.claim_expires_at, horizon)


def cancel_gift(user_id: str, gift_id: str) -> Gift:
    """The sender changes their mind before the gift is sent: canceled, refund queued."""
    moved = db.session.execute(
        update(Gift)
        .where(Gift.id == gift_id, Gift.sender_id == user_id, Gift.status == SCHEDULED)
        .values(status=CANCELED)
        .execution_options(synchronize_session=False)
    ).rowcount
    gift = db.session.get(Gift, gift_id)
    if gift is None or gift.sender_id != user_id:
        raise NotFound("No such gift.", code="gift_not_found")
    if not moved:
        db.session.rollback()
        raise Conflict(f"A {gift.status} gift cannot be canceled.", code="gift_not_cancelable")
    db.session.add(GiftEvent(gift_id=gift_id, at=utcnow(), type="canceled", detail={}))
    _queue_refund(gift_id, "canceled by the sender")
    db.session.commit()
    db.session.refresh(gift)
    return gift


@job_handler(REFUND_GIFT)
def refund_gift(job: ClaimedJob) -> None:
    """Refund the whole gift; the gift id as `out_request_no` makes a retry refund nothing more."""
    gift_id = job.payload["gift_id"]
    amount = db.session.scalar(select(Gift.amount_fen).where(Gift.id == gift_id))
    db.session.rollback()  # no transaction stays open across the gateway call
    result = payments.refund_trade(
        gateway(), out_trade_no=gift_id, amount_fen=amount, out_request_no=gift_id,
        reason=job.payload["reason"],
    )  # fmt: skip
    now = utcnow()
    moved = db.session.execute(
        update(Gift)
        .where(Gift.id == gift_id, Gift.status.in_([EXPIRED_UNCLAIMED, CANCELED]))
        .values(status=REFUNDED, refunded_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved:
        db.session.add(GiftEvent(gift_id=gift_id, at=now, type="refunded",
                                 detail={"refunded_fen": result.refunded_fen}))  # fmt: skip
        _tell_the_sender(gift_id, amount, job.payload["reason"])
    db.session.commit()


def _tell_the_sender(gift_id: str, refunded_fen: int, reason: str) -> None:
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
        form_id=gift.trade_no or gift_id, event="refunded",
    )  # fmt: skip
    enqueue(TEMPLATE_MESSAGE, payload, dedupe_key=key)


register_source(DueWorkSource("unclaimed_gifts", expire_unclaimed_gifts, seconds_until_next_expiry))

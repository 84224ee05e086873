"""Buying a gift: the order and its trade at the gateway; rescheduling; who sees which gift.

A gift is recorded before the gateway is asked for a trade (so no transaction waits on the
network), keyed by the sender's Idempotency-Key so a retry after a failure resumes the same gift.
The trade's `out_trade_no` is the gift id, and it carries the payment window (`time_expire`),
so the platform closes it when Minifin's settle job does. A trade is opened only while the gift
is `pending_payment`: a retry for a gift closed meanwhile is `409 gift_closed` (buy again with a
new key), and a trade opened while the gift was being closed is closed again at once.
What the platform then reports about the payment is `payment_results.py`.

A gift's claim window must close inside the trade's refund period (`MINIFIN_REFUND_PERIOD_DAYS`,
counted from the payment, with a day to spare for the refund's retries), or its expiry refund
would be refused; `send_at` is capped so (and at 365 days).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update

from service.auth.models import User
from service.auth.phones import phone_index
from service.components import gateway, settings
from service.dbtypes import utcnow
from service.errors import Conflict, NotFound, Unprocessable
from service.extensions import db
from service.gateway import payments
from service.gifting.claims import reveal_claim_link
from service.gifting.lookups import senders_gift
from service.gifting.models import (
    CLOSED,
    NEEDS_REVIEW,
    PENDING_PAYMENT,
    SCHEDULED,
    Gift,
    GiftEvent,
    VoucherTemplate,
)
from service.gifting.payment_results import SETTLE_UNPAID
from service.gifting.snapshots import record_gift
from service.scheduler.outbox import enqueue
from service.security.masking import mask_phone
from service.sql import existing, rows_changed
from service.transactions import end_transaction_before_call

log = logging.getLogger(__name__)
__all__ = ["SETTLE_UNPAID", "buy_gift", "gift_for", "gifts_of", "reschedule_gift"]
MAX_SCHEDULE_AHEAD = timedelta(days=365)
REFUND_SPARE = timedelta(days=1)  # time left in the refund period for the refund's retries
# Unpaid, closed, or paid in a way an operator must look at: not shown to the recipient.
_NOT_YET_A_GIFT = (PENDING_PAYMENT, CLOSED, NEEDS_REVIEW)
CLOCK_SKEW = timedelta(seconds=60)
RESCHEDULE_NOTICE = timedelta(minutes=1)


def _refuse(field: str, message: str) -> Unprocessable:
    return Unprocessable("The gift cannot be made as asked; see errors.", errors={field: [message]})


def _checked_order(sender: User, values: Mapping[str, Any]) -> dict[str, Any]:
    """The rules an order must meet, turned into the gift's columns."""
    template = db.session.get(VoucherTemplate, values["template_id"])
    if template is None or not template.active:
        raise _refuse("template_id", "No such voucher template on sale.")
    if values["quantity"] > template.max_quantity_per_order:
        raise _refuse("quantity", f"At most {template.max_quantity_per_order} per order.")
    if values["cover"] not in {cover["name"] for cover in template.covers}:
        raise _refuse("cover", "Not one of the template's covers.")
    now = utcnow()
    send_at = _checked_send_at(values["send_at"] or now, now, now, template.claim_window_hours)
    recipient = values["recipient"]
    columns: dict[str, Any] = {"recipient_kind": "link"}
    if "user_id" in recipient:
        if recipient["user_id"] == sender.id:
            raise _refuse("recipient", "A gift is for someone else.")
        if db.session.get(User, recipient["user_id"]) is None:
            raise _refuse("recipient", "No such user.")
        columns = {"recipient_kind": "user", "recipient_user_id": recipient["user_id"]}
    elif "phone" in recipient:
        phone = recipient["phone"]
        columns = {
            "recipient_kind": "phone",
            "recipient_phone_hash": phone_index(phone),
            "recipient_phone_masked": mask_phone(phone),
        }
    return {
        **columns,
        "template_id": template.id,
        "quantity": values["quantity"],
        "unit_price_fen": template.price_fen,
        "amount_fen": template.price_fen * values["quantity"],
        "message": values["message"],
        "cover": values["cover"],
        "send_at": send_at,
        "timezone": values["timezone"],
    }


def _checked_send_at(
    send_at: datetime, now: datetime, paid_at: datetime, claim_window_hours: int
) -> datetime:
    """Not in the past (a minute's clock skew allowed), at most 365 days ahead, and early enough
    that the claim window closes while the payment can still be refunded."""
    if send_at < now - CLOCK_SKEW:
        raise _refuse("send_at", "The time to send is in the past.")
    if send_at > now + MAX_SCHEDULE_AHEAD:
        raise _refuse("send_at", "A gift can be scheduled at most 365 days ahead.")
    refundable_until = paid_at + timedelta(days=settings().refund_period_days) - REFUND_SPARE
    latest = refundable_until - timedelta(hours=claim_window_hours)
    if send_at > latest:
        raise _refuse(
            "send_at",
            f"A gift must be sent by {latest.isoformat(timespec='minutes')}, so that its claim "
            f"window closes while the payment can still be refunded.",
        )
    return send_at


def _same_order(gift: Gift, order: Mapping[str, Any]) -> bool:
    keys = ("template_id", "quantity", "recipient_kind", "recipient_user_id", "message", "cover")
    return all(getattr(gift, key) == order.get(key) for key in keys)


def buy_gift(sender_id: str, values: Mapping[str, Any], idempotency_key: str) -> Gift:
    """Record the gift, then open its trade; returns it with the `trade_no` to pay."""
    sender = existing(User, sender_id)
    order = _checked_order(sender, values)
    gift = db.session.scalars(
        select(Gift).where(Gift.sender_id == sender_id, Gift.idempotency_key == idempotency_key)
    ).first()
    if gift is not None and not _same_order(gift, order):
        raise Unprocessable(
            "This Idempotency-Key was used for another gift.", code="idempotency_key_reused"
        )
    if gift is None:
        gift = Gift(sender_id=sender_id, idempotency_key=idempotency_key, **order)
        db.session.add(gift)
        db.session.flush()
        gift.events.append(GiftEvent(type="created", detail={"amount_fen": gift.amount_fen}))
        window = timedelta(minutes=settings().gift_payment_minutes)
        enqueue(SETTLE_UNPAID, {"gift_id": gift.id}, run_at=utcnow() + window,
                dedupe_key=f"settle:{gift.id}")  # fmt: skip
        db.session.commit()
    if gift.status == CLOSED:
        raise Conflict(
            "This gift was closed unpaid; buy it again with a new Idempotency-Key.",
            code="gift_closed",
        )
    if gift.trade_no is None and gift.status == PENDING_PAYMENT:
        _open_trade(gift, sender)
    return gift


def _open_trade(gift: Gift, sender: User) -> None:
    """Ask for the gift's trade and record it, only if the gift is still waiting for payment.

    Steps 3 and 4 of the transaction rule for a purchase: it calls with no transaction open, then
    records the trade (or closes one opened for a gift closed meanwhile) and commits.
    """
    window = timedelta(minutes=settings().gift_payment_minutes)
    gift_id, amount_fen, created_at = gift.id, gift.amount_fen, gift.created_at
    subject = f"{gift.template.name} ×{gift.quantity}"
    buyer_id, buyer_open_id = sender.platform_user_id, sender.open_id
    end_transaction_before_call()  # the reads above (the template, say) began one
    trade_no = payments.create_trade(
        gateway(),
        out_trade_no=gift_id,
        amount_fen=amount_fen,
        subject=subject,
        buyer_id=buyer_id,
        buyer_open_id=None if buyer_id else buyer_open_id,
        notify_url=f"{settings().public_url}/v1/notifications/alipay",
        expires_at=created_at + window,
    )
    recorded = rows_changed(
        update(Gift)
        .where(Gift.id == gift_id, Gift.status == PENDING_PAYMENT, Gift.trade_no.is_(None))
        .values(trade_no=trade_no)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.refresh(gift)
    if not recorded and gift.status != PENDING_PAYMENT:
        # The settle job closed the gift while its trade was being opened: close it too.
        end_transaction_before_call()  # the refresh began one
        payments.close_trade(gateway(), out_trade_no=gift_id)
        raise Conflict(
            "This gift was closed unpaid; buy it again with a new Idempotency-Key.",
            code="gift_closed",
        )
    log.info("gift %s awaits payment of trade %s", gift.id, gift.trade_no)


def reschedule_gift(user_id: str, gift_id: str, send_at: datetime) -> Gift:
    """Move a scheduled gift's sending time, up to a minute before it would have gone out."""
    now = utcnow()
    gift = senders_gift(gift_id, user_id)
    send_at = _checked_send_at(send_at, now, gift.paid_at or now, gift.template.claim_window_hours)
    moved = rows_changed(
        update(Gift)
        .where(
            Gift.id == gift_id, Gift.sender_id == user_id, Gift.status == SCHEDULED,
            Gift.send_at > now + RESCHEDULE_NOTICE,
        )
        .values(send_at=send_at)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    if not moved:
        db.session.rollback()
        raise Conflict(
            "Only a scheduled gift more than a minute before sending can be rescheduled.",
            code="gift_not_reschedulable",
        )
    db.session.add(GiftEvent(gift_id=gift_id, at=now, type="rescheduled",
                             detail={"send_at": send_at.isoformat()}))  # fmt: skip
    record_gift("gift.rescheduled", gift_id)
    db.session.commit()
    db.session.refresh(gift)
    return gift


def _addressed_to(user_id: str) -> ColumnElement[bool]:
    """Gifts for this user: by user id once paid, by their verified mobile once sent, or claimed
    by them (a link gift has no recipient until then)."""
    by_id = or_(
        and_(Gift.recipient_user_id == user_id, Gift.status.notin_(_NOT_YET_A_GIFT)),
        Gift.claimed_by == user_id,
    )
    phone_hash = db.session.scalar(select(User.phone_hash).where(User.id == user_id))
    if phone_hash is None:
        return by_id
    by_phone = and_(
        Gift.recipient_kind == "phone",
        Gift.recipient_phone_hash == phone_hash,
        Gift.sent_at.is_not(None),
        Gift.sender_id != user_id,
    )
    return or_(by_id, by_phone)


def gifts_of(user_id: str, role: str) -> list[Gift]:
    """The gifts a user sent, or received (once paid: unpaid ones are not gifts yet; by phone,
    once sent: a surprise for a number is not announced early)."""
    if role == "sent":
        query = select(Gift).where(Gift.sender_id == user_id)
    else:
        query = select(Gift).where(_addressed_to(user_id))
    found = list(db.session.scalars(query.order_by(Gift.created_at.desc(), Gift.id)))
    for gift in found:
        reveal_claim_link(gift, user_id)
    return found


def gift_for(user_id: str, gift_id: str) -> Gift:
    """One gift, for its sender or its recipient; anyone else gets a 404."""
    gift = db.session.scalars(
        select(Gift).where(Gift.id == gift_id, or_(Gift.sender_id == user_id,
                                                    _addressed_to(user_id)))
    ).first()  # fmt: skip
    if gift is None:
        raise NotFound("No such gift.", code="gift_not_found")
    reveal_claim_link(gift, user_id)
    return gift

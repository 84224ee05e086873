"""What the platform reports about a gift's payment, checked before anything is believed.

A `trade_status_sync` that passed the notifications service's checks (signature, our app, our
seller account) still has to be this gift's payment: its `trade_no` is the one
`alipay.trade.create` answered (once known), its buyer is the sender, its amount and currency
are the gift's. Another trade or another buyer is refused (recorded and counted, the gift left
alone); the right trade with another amount or currency parks the gift in `needs_review`
(`minifin gifts review`, `minifin_gifts_needs_review`), because money arrived that nobody may
use or refund by rule. A good payment for a gift that can no longer use it (closed unpaid while
the payment was on its way, or moved on without this trade having paid it) is paid-late and
refunded on its own request number (see `late_payments.py`). A second trade for a gift is not
something the platform makes (one trade per app and `out_trade_no`): it is refused as
`trade_no_mismatch`, for an operator to see in the refused count, never refunded blindly.

The settle job, due when the payment window ends, asks `alipay.trade.query` in case the
notification was lost, with the same amount and trade checks, and closes what was never paid.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update

from service.components import gateway
from service.dbtypes import utcnow
from service.extensions import db
from service.gateway import payments
from service.gateway.money import yuan_to_fen
from service.gifting.late_payments import record_paid_late
from service.gifting.models import (
    CLOSED,
    NEEDS_REVIEW,
    PENDING_PAYMENT,
    SCHEDULED,
    Gift,
    GiftEvent,
)
from service.gifting.snapshots import record_gift, record_gifts
from service.notifications.merchant import known_seller_id, learn_seller_id
from service.scheduler.outbox import ClaimedJob
from service.sql import existing, rows_changed
from service.transactions import end_transaction_before_call

log = logging.getLogger(__name__)
SETTLE_UNPAID = "gifting.settle_unpaid"
CURRENCY = "CNY"  # the platform names a currency (`trans_currency`) only for foreign ones
# States in which no money is held for the gift, so a mismatched payment can be parked there.
_PARKABLE = (PENDING_PAYMENT, CLOSED)


def _leave_pending(gift_id: str, status: str, event: str, detail: dict, **values: Any) -> bool:
    """Move a gift out of pending_payment, once (a conditional update); the caller commits."""
    now = utcnow()
    moved = rows_changed(
        update(Gift)
        .where(Gift.id == gift_id, Gift.status == PENDING_PAYMENT)
        .values(status=status, **values)
        .execution_options(synchronize_session=False)
    )
    if moved:
        db.session.add(GiftEvent(gift_id=gift_id, at=now, type=event, detail=detail))
    return bool(moved)


def _mark_paid(gift_id: str, trade_no: str, how: str) -> bool:
    paid = _leave_pending(gift_id, SCHEDULED, "paid", {"via": how}, paid_at=utcnow(),
                          trade_no=trade_no)  # fmt: skip
    if paid:  # by notification or by the settle job's query, recorded by whichever moved it
        record_gifts(("gift.paid", "gift.scheduled"), [gift_id])
    return paid


def _mark_closed(gift_id: str, why: str) -> bool:
    closed = _leave_pending(gift_id, CLOSED, "closed", {"why": why}, closed_at=utcnow())
    if closed:
        record_gift("gift.payment_closed", gift_id)
    return closed


def park_for_review(gift_id: str, reason: str, detail: dict[str, Any]) -> bool:
    """Stop a gift whose payment does not match it (from a state holding no money); the caller
    commits. Nothing moves it on again by itself: an operator decides."""
    moved = rows_changed(
        update(Gift)
        .where(Gift.id == gift_id, Gift.status.in_(_PARKABLE))
        .values(status=NEEDS_REVIEW, review_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if moved:
        db.session.add(GiftEvent(gift_id=gift_id, at=utcnow(), type=NEEDS_REVIEW,
                                 detail={"reason": reason, **detail}))  # fmt: skip
        record_gift("gift.needs_review", gift_id)
        log.error("gift %s parked for review: %s", gift_id, reason)
    return bool(moved)


def _buyer_is_sender(gift: Gift, fields: Mapping[str, str], user_key: str) -> bool:
    """Every payer id the platform names (`buyer_id`, `buyer_open_id`) is the gift's sender's,
    and it names at least one."""
    pairs = [
        (fields.get(user_key), gift.sender.platform_user_id),
        (fields.get("buyer_open_id"), gift.sender.open_id),
    ]
    named = [(given, expected) for given, expected in pairs if given]
    return bool(named) and all(given == expected for given, expected in named)


def _reported_fen(fields: Mapping[str, str], key: str) -> int | None:
    try:
        return yuan_to_fen(fields.get(key, ""))
    except (TypeError, ValueError):
        return None


def _amount_refusal(gift: Gift, fields: Mapping[str, str]) -> str | None:
    """`currency_mismatch` or `amount_mismatch` when the payment is not the gift's price."""
    if (fields.get("trans_currency") or CURRENCY) != gift.currency:
        return "currency_mismatch"
    if _reported_fen(fields, "total_amount") != gift.amount_fen:
        return "amount_mismatch"
    return None


def apply_trade_status(fields: Mapping[str, str]) -> str | None:
    """A payment (or a closed trade) for a gift; returns why it was refused, if it was."""
    gift = db.session.get(Gift, fields.get("out_trade_no", ""))
    if gift is None:
        return "unknown_trade"
    trade_no = fields.get("trade_no", "")
    ours = gift.trade_no is not None and trade_no == gift.trade_no
    if gift.trade_no is not None and not ours:
        return "trade_no_mismatch"
    if not ours and known_seller_id() is None:
        return "seller_unknown"  # nothing yet proves whose seller account this is
    if not _buyer_is_sender(gift, fields, "buyer_id"):
        return "buyer_mismatch"
    status = fields.get("trade_status")
    if "refund_fee" in fields:
        return None  # our own refund being reported
    if status == payments.TRADE_CLOSED:
        _mark_closed(gift.id, "trade closed")
        return None
    if status not in (payments.TRADE_SUCCESS, payments.TRADE_FINISHED):
        return None
    refusal = _amount_refusal(gift, fields)
    if refusal is not None:
        park_for_review(
            gift.id,
            refusal,
            {
                "via": "notification",
                "trade_no": trade_no,
                "reported_fen": _reported_fen(fields, "total_amount"),
            },
        )
        return refusal
    if ours:
        learn_seller_id(fields, "trade_status_sync")
    _apply_payment(gift, trade_no, "notification")
    return None


def _apply_payment(gift: Gift, trade_no: str, how: str) -> None:
    """A checked payment: the gift is paid, or it was paid already by it, or it is paid-late."""
    if _mark_paid(gift.id, trade_no, how):
        return
    db.session.refresh(gift)  # another transaction moved it first (closed it, say)
    if gift.paid_at is not None and gift.trade_no == trade_no:
        return  # TRADE_FINISHED after TRADE_SUCCESS, or the settle job saw it first
    if gift.status == NEEDS_REVIEW:
        return  # an operator is deciding about this gift's money already
    record_paid_late(gift, trade_no, gift.amount_fen, how)


def settle_unpaid(job: ClaimedJob) -> None:
    """When the payment window ends: paid after all (a lost notification) or closed."""
    gift_id = job.payload["gift_id"]
    status = db.session.scalar(select(Gift.status).where(Gift.id == gift_id))
    end_transaction_before_call()  # the calls below, too
    if status != PENDING_PAYMENT:
        return
    trade = payments.query_trade(gateway(), out_trade_no=gift_id)
    if trade is not None and trade.paid:
        _settle_paid(existing(Gift, gift_id), trade)
    else:
        if trade is not None and trade.status == payments.WAIT_BUYER_PAY:
            payments.close_trade(gateway(), out_trade_no=gift_id)
        _mark_closed(gift_id, "not paid in time")
    db.session.commit()


def _settle_paid(gift: Gift, trade: payments.TradeState) -> None:
    """The query found a payment: the same checks as a notification's, then apply it."""
    detail = {"via": "reconciliation", "trade_no": trade.trade_no, "reported_fen": trade.total_fen}
    if gift.trade_no is not None and trade.trade_no != gift.trade_no:
        park_for_review(gift.id, "trade_no_mismatch", detail)
    elif trade.total_fen != gift.amount_fen:
        park_for_review(gift.id, "amount_mismatch", detail)
    else:
        _apply_payment(gift, trade.trade_no, "reconciliation")

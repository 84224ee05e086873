"""Sending gifts when `send_at` comes: vouchers issued, the gift marked sent, the friend told.

A batch of due gifts is taken and finished in one transaction: the conditional UPDATE that marks
them `sent` (with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so workers share the work) commits
together with their vouchers and the outbox rows of their messages. A worker that dies mid-batch
rolls all of it back; so each gift is sent once and its vouchers are issued once.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from service.auth.models import User
from service.components import blind_index, field_cipher
from service.dbtypes import utcnow
from service.extensions import db
from service.gifting import codes
from service.gifting.due import seconds_until_due, take_due_gifts
from service.gifting.jobs import TEMPLATE_MESSAGE
from service.gifting.models import SCHEDULED, SENT, Gift, GiftEvent, Voucher
from service.ids import new_id
from service.scheduler.outbox import enqueue
from service.scheduler.worker import DueWorkSource, register_source

log = logging.getLogger(__name__)
GIFT_TEMPLATE_ID = "TPL_GIFT_RECEIVED"
CLAIM_PAGE = "pages/gift/claim"


def send_due_gifts(worker_id: str, limit: int) -> int:
    """Send up to `limit` due gifts in one transaction; returns how many were sent."""
    now = utcnow()
    sent_ids = take_due_gifts(SCHEDULED, Gift.send_at, now, limit, status=SENT, sent_at=now)
    for gift in db.session.scalars(select(Gift).where(Gift.id.in_(sent_ids))):
        _issue(gift, now)
    db.session.commit()
    if sent_ids:
        log.info("worker %s sent %d gift(s)", worker_id, len(sent_ids))
    return len(sent_ids)


def _issue(gift: Gift, now: datetime) -> None:
    """The vouchers, the claim token and the message of one gift being sent."""
    template = gift.template
    for _ in range(gift.quantity):
        code, voucher_id = codes.new_code(), new_id("vch")
        db.session.add(Voucher(
            id=voucher_id, gift_id=gift.id, template_id=template.id, kind=template.kind,
            face_value_fen=template.face_value_fen, balance_fen=template.face_value_fen,
            code_index=blind_index().digest("voucher_code", code), code_last4=code[-4:],
            code_sealed=field_cipher().seal(code, owner=voucher_id), issued_at=now,
        ))  # fmt: skip
    gift.claim_expires_at = now + timedelta(hours=template.claim_window_hours)
    token = secrets.token_urlsafe(24)
    gift.claim_token_index = blind_index().digest("claim_token", token)
    gift.claim_token_sealed = field_cipher().seal(token, owner=gift.id)
    db.session.add(GiftEvent(gift_id=gift.id, at=now, type="sent",
                             detail={"vouchers": gift.quantity}))  # fmt: skip
    recipient = db.session.get(User, gift.recipient_user_id) if gift.recipient_user_id else None
    if recipient is not None and recipient.platform_user_id:
        enqueue(TEMPLATE_MESSAGE, {
            "to_user_id": recipient.platform_user_id,
            "template_id": GIFT_TEMPLATE_ID,
            "page": f"{CLAIM_PAGE}?token={token}",
            "data": {"keyword1": gift.template.name, "keyword2": gift.message[:40]},
            "form_id": gift.trade_no or gift.id,
            "out_biz_no": f"{gift.id}-sent",
        }, dedupe_key=f"message:{gift.id}:sent")  # fmt: skip


def seconds_until_next_gift(horizon: float) -> float:
    """How long until the earliest scheduled gift falls due (at most `horizon`)."""
    return seconds_until_due(SCHEDULED, Gift.send_at, horizon)


register_source(DueWorkSource("due_gifts", send_due_gifts, seconds_until_next_gift))

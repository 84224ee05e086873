"""Sending gifts when `send_at` comes: vouchers issued, the gift marked sent, the friend told.

A batch of due gifts is taken and finished in one transaction: the conditional UPDATE that marks
them `sent` (with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so workers share the work) commits
together with their vouchers and the outbox rows of their messages. A worker that dies mid-batch
rolls all of it back; so each gift is sent once and its vouchers are issued once. A message's
row names the gift, not its claim token: the link is built from the sealed token when the
message goes out.

The batch costs a fixed number of statements whatever its size (one read of what the gifts need,
one multi-row insert each for vouchers, events and messages, one executemany for the claim
tokens), so a burst of due gifts drains at the speed of the database, not of round trips.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ScalarSelect, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import aliased

from service.auth.models import User
from service.components import blind_index, field_cipher, settings
from service.dbtypes import utcnow
from service.extensions import db
from service.gifting import codes
from service.gifting.due import seconds_until_due, take_due_gifts
from service.gifting.jobs import TEMPLATE_MESSAGE, gift_message
from service.gifting.models import (
    ISSUED,
    SCHEDULED,
    SENT,
    Gift,
    GiftEvent,
    Voucher,
    VoucherTemplate,
)
from service.gifting.sending_events import record_sent
from service.gifting.sending_metrics import summary_line
from service.ids import new_id
from service.scheduler.outbox import enqueue_many
from service.scheduler.worker import DueWorkSource

log = logging.getLogger(__name__)
GIFT_TEMPLATE_ID = "TPL_GIFT_RECEIVED"
CLAIM_PAGE = "pages/gift/claim"


def send_due_gifts(worker_id: str, limit: int) -> int:
    """Send up to `limit` due gifts in one transaction; returns how many were sent."""
    now = utcnow()
    sent_ids = take_due_gifts(SCHEDULED, Gift.send_at, now, limit, status=SENT, sent_at=now)
    _issue(sent_ids, now)
    db.session.commit()
    if sent_ids:
        log.debug("worker %s sent %d gift(s)", worker_id, len(sent_ids))
    return len(sent_ids)


def send_gift_if_due(gift_id: str) -> bool:
    """Send one gift now if it is scheduled and due (one transaction); whether it was sent.

    The same work as a batch of one, for callers that fire gifts one at a time.
    """
    now = utcnow()
    sent = db.session.scalars(
        update(Gift)
        .where(Gift.id == gift_id, Gift.status == SCHEDULED, Gift.send_at <= now)
        .values(status=SENT, sent_at=now)
        .returning(Gift.id)
        .execution_options(synchronize_session=False)
    ).all()
    _issue(list(sent), now)
    db.session.commit()
    return bool(sent)


def _issue(gift_ids: list[str], now: datetime) -> None:
    """The vouchers, claim tokens, timeline entries and messages of gifts being sent."""
    if not gift_ids:
        return
    vouchers: list[dict[str, Any]] = []
    claims: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    messages: list[tuple[dict[str, Any], str]] = []
    for gift in _gifts_to_issue(gift_ids):
        vouchers.extend(_new_voucher(gift, now) for _ in range(gift.quantity))
        token = secrets.token_urlsafe(24)
        claims.append({
            "id": gift.id,
            "claim_expires_at": now + timedelta(hours=gift.claim_window_hours),
            "claim_token_index": blind_index().digest("claim_token", token),
            "claim_token_sealed": field_cipher().seal(token, owner=gift.id),
        })  # fmt: skip
        events.append({"gift_id": gift.id, "at": now, "type": "sent",
                       "detail": {"vouchers": gift.quantity}})  # fmt: skip
        if gift.platform_user_id:  # the link is added from the sealed token when it is sent
            messages.append(gift_message(
                gift.id, gift.platform_user_id, GIFT_TEMPLATE_ID, page=CLAIM_PAGE,
                data={"keyword1": gift.template_name, "keyword2": gift.message[:40]},
                form_id=gift.trade_no or gift.id, event="sent", claim_link=True,
            ))  # fmt: skip
    db.session.execute(insert(Voucher), vouchers)
    db.session.execute(update(Gift), claims)  # by primary key, one executemany
    record_sent(gift_ids, vouchers)  # gift.sent, voucher.issued: one insert
    db.session.execute(insert(GiftEvent), events)
    enqueue_many(TEMPLATE_MESSAGE, messages)


def _phone_owner() -> ScalarSelect:
    """A phone gift's recipient if that number's owner uses this app (the latest to log in)."""
    owner = aliased(User)
    return (
        select(owner.platform_user_id)
        .where(owner.phone_hash == Gift.recipient_phone_hash, owner.app_id == settings().app_id,
               owner.platform_user_id.is_not(None))
        .order_by(owner.last_login_at.desc())
        .limit(1)
        .correlate(Gift)
        .scalar_subquery()
    )  # fmt: skip


def _gifts_to_issue(gift_ids: list[str]) -> list[Row]:
    """What issuing needs of each gift, its template and its recipient, in one query."""
    columns = (
        Gift.id, Gift.quantity, Gift.message, Gift.trade_no,
        VoucherTemplate.id.label("template_id"), VoucherTemplate.kind,
        VoucherTemplate.name.label("template_name"), VoucherTemplate.face_value_fen,
        VoucherTemplate.claim_window_hours,
        func.coalesce(User.platform_user_id, _phone_owner()).label("platform_user_id"),
    )  # fmt: skip
    query = (
        select(*columns)
        .join(VoucherTemplate, VoucherTemplate.id == Gift.template_id)
        .outerjoin(User, User.id == Gift.recipient_user_id)
        .where(Gift.id.in_(gift_ids))
    )
    return list(db.session.execute(query))


def _new_voucher(gift: Row, now: datetime) -> dict[str, Any]:
    """One voucher row: a fresh code, kept only as its blind index, sealed copy and last four."""
    code, voucher_id = codes.new_code(), new_id("vch")
    return {
        "id": voucher_id, "gift_id": gift.id, "template_id": gift.template_id, "kind": gift.kind,
        "face_value_fen": gift.face_value_fen, "balance_fen": gift.face_value_fen,
        "code_index": blind_index().digest("voucher_code", code), "code_last4": code[-4:],
        "code_sealed": field_cipher().seal(code, owner=voucher_id), "issued_at": now,
        "status": ISSUED,
    }  # fmt: skip


def seconds_until_next_gift(horizon: float) -> float:
    """How long until the earliest scheduled gift falls due (at most `horizon`)."""
    return seconds_until_due(SCHEDULED, Gift.send_at, horizon)


# Due gifts as due work, run by every worker (declared in gifting/contributions.py).
DUE_GIFTS = DueWorkSource("due_gifts", send_due_gifts, seconds_until_next_gift, summary_line)

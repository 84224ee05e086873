"""Sending gifts when `send_at` comes: vouchers issued, the gift marked sent, the friend told.

A batch of due gifts is taken and finished in one transaction: the guarded UPDATE that marks
them `sent` (after `FOR UPDATE SKIP LOCKED` on PostgreSQL, so workers share the work) commits
together with their vouchers and the outbox rows of their messages. A worker that dies mid-batch
rolls all of it back; so each gift is sent once and its vouchers are issued once. A message's
row names the gift, not its claim token: the link is built from the sealed token when the
message goes out.

The batch costs a fixed number of statements whatever its size (on PostgreSQL: one locking read
of what the gifts need, one UPDATE with the claim tokens as arrays that records the gifts'
`gift.sent`, one array insert of the vouchers that records their `voucher.issued`, one
array insert each for timeline entries and messages), so a burst of due gifts drains
at the speed of the database, not of round trips; `bench/README.md` has the profile behind
each choice.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Integer, Table, Text, bindparam, func, select, update
from sqlalchemy.engine import Row

from service.auth.models import User
from service.components import blind_index, field_cipher, settings
from service.dbtypes import UTCDateTime, utcnow
from service.extensions import db
from service.gifting import codes
from service.gifting.due import seconds_until_due
from service.gifting.jobs import TEMPLATE_MESSAGE, gift_message
from service.gifting.models import (
    ISSUED,
    SCHEDULED,
    SENT,
    Gift,
    GiftEvent,
    VoucherTemplate,
)
from service.gifting.sending_events import mark_sent, record_issued, record_sent
from service.gifting.sending_metrics import summary_line
from service.ids import new_id
from service.scheduler.outbox import enqueue_many
from service.scheduler.worker import DueWorkSource
from service.sql import array_rows, insert_rows

if TYPE_CHECKING:
    from service.security.fields import BlindIndex, ReloadingFieldCipher

log = logging.getLogger(__name__)
GIFT_TEMPLATE_ID = "TPL_GIFT_RECEIVED"
CLAIM_PAGE = "pages/gift/claim"

# The statements are built once per process (Core, on the tables): building and compiling them
# per call was most of the one-gift path's Python time.
GIFTS, TEMPLATES, USERS = (cast(Table, m.__table__) for m in (Gift, VoucherTemplate, User))
_owner = USERS.alias("owner")
# A phone gift's recipient if that number's owner uses this app (the latest to log in).
_PHONE_OWNER = (
    select(_owner.c.platform_user_id)
    .where(_owner.c.phone_hash == GIFTS.c.recipient_phone_hash,
           _owner.c.app_id == bindparam("app_id"), _owner.c.platform_user_id.is_not(None))
    .order_by(_owner.c.last_login_at.desc())
    .limit(1)
    .correlate(GIFTS)
    .scalar_subquery()
)  # fmt: skip
# What issuing needs of each gift, its template and its recipient, in one query.
_ISSUING = (
    select(
        GIFTS.c.id, GIFTS.c.quantity, GIFTS.c.message, GIFTS.c.trade_no,
        TEMPLATES.c.id.label("template_id"), TEMPLATES.c.kind,
        TEMPLATES.c.name.label("template_name"), TEMPLATES.c.face_value_fen,
        TEMPLATES.c.claim_window_hours,
        func.coalesce(USERS.c.platform_user_id, _PHONE_OWNER).label("platform_user_id"),
    )
    .select_from(GIFTS.join(TEMPLATES, TEMPLATES.c.id == GIFTS.c.template_id)
                 .outerjoin(USERS, USERS.c.id == GIFTS.c.recipient_user_id))
    .order_by(GIFTS.c.send_at)
)  # fmt: skip
_DUE = (GIFTS.c.status == SCHEDULED, GIFTS.c.send_at <= bindparam("now", type_=UTCDateTime()))
_THIS_ONE = (GIFTS.c.id == bindparam("gift_id"), *_DUE)
_LIMIT = bindparam("limit", type_=Integer())

# PostgreSQL: read and lock (other workers skip what is locked), then one guarded UPDATE.
_LOCK_DUE = _ISSUING.where(*_DUE).limit(_LIMIT).with_for_update(of=GIFTS, skip_locked=True)
_LOCK_ONE = _ISSUING.where(*_THIS_ONE).limit(1).with_for_update(of=GIFTS, skip_locked=True)
# The claim tokens travel as arrays, so the statement is the same whatever the batch size; each
# gift's `gift.sent` is recorded by the same statement (sending_events.mark_sent).
_CLAIMS = array_rows({
    "id": ("ids", Text()), "token_index": ("indexes", Text()), "token_sealed": ("seals", Text()),
    "expires_at": ("expiries", UTCDateTime()), "event_id": ("event_ids", Text()),
}, "c", "n")  # fmt: skip
_MARK_SENT = (
    update(GIFTS)
    .where(GIFTS.c.id == _CLAIMS.c.id, GIFTS.c.status == SCHEDULED)
    .values(status=SENT, sent_at=bindparam("now", type_=UTCDateTime()),
            claim_token_index=_CLAIMS.c.token_index, claim_token_sealed=_CLAIMS.c.token_sealed,
            claim_expires_at=_CLAIMS.c.expires_at)
)  # fmt: skip


# SQLite: the guarded UPDATE first (it takes the write lock), then the read, then the tokens.
def _take(*conditions: Any) -> Any:
    first = select(GIFTS.c.id).where(*conditions).order_by(GIFTS.c.send_at).limit(_LIMIT)
    return (
        update(GIFTS)
        .where(GIFTS.c.id.in_(first.scalar_subquery()), GIFTS.c.status == SCHEDULED)
        .values(status=SENT, sent_at=bindparam("sent_at", type_=UTCDateTime()))
        .returning(GIFTS.c.id)
    )


_TAKE_DUE, _TAKE_ONE = _take(*_DUE), _take(*_THIS_ONE)
_READ_TAKEN = _ISSUING.where(GIFTS.c.id.in_(bindparam("ids", expanding=True)))
_SET_CLAIM = (
    update(GIFTS)
    .where(GIFTS.c.id == bindparam("b_id"))
    .values(claim_expires_at=bindparam("b_expires"), claim_token_index=bindparam("b_index"),
            claim_token_sealed=bindparam("b_sealed"))
)  # fmt: skip
GIFT_EVENTS = cast(Table, GiftEvent.__table__)


def send_due_gifts(worker_id: str, limit: int) -> int:
    """Send up to `limit` due gifts in one transaction; returns how many were sent."""
    sent = _send(utcnow(), limit, None)
    db.session.commit()
    if sent:
        log.debug("worker %s sent %d gift(s)", worker_id, sent)
    return sent


def send_gift_if_due(gift_id: str) -> bool:
    """Send one gift now if it is scheduled and due (one transaction); whether it was sent.

    The same work as a batch of one, for callers that fire gifts one at a time. A gift another
    worker is sending at this moment is left to it (False).
    """
    sent = _send(utcnow(), 1, gift_id)
    db.session.commit()
    return bool(sent)


def _send(now: datetime, limit: int, gift_id: str | None) -> int:
    """Take up to `limit` due gifts (or only `gift_id`), earliest first, and issue them.

    PostgreSQL: the gifts are read and locked first (`FOR UPDATE SKIP LOCKED`, so workers take
    disjoint batches), then one guarded UPDATE marks them sent with their claim tokens and
    records their `gift.sent`, so each gift's row (and each of its indexes) is written once.
    SQLite has one writer and no row locks, and a read followed by a write can lose its
    snapshot to another process; there the guarded UPDATE comes first (taking the write lock),
    then the claim tokens and `gift.sent`. Either way only the gifts the guarded UPDATE moved
    are issued. The caller commits.
    """
    params = {"now": now, "limit": limit, "gift_id": gift_id, "app_id": settings().app_id}
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        gifts = list(session.execute(_LOCK_DUE if gift_id is None else _LOCK_ONE, params))
        if not gifts:
            return 0
        claims = _new_claims(gifts, now)
        moved = mark_sent(_MARK_SENT, _CLAIMS, _claim_arrays(claims, now))
    else:
        take = _TAKE_DUE if gift_id is None else _TAKE_ONE
        moved = set(session.scalars(take, {**params, "sent_at": now}))
        if not moved:
            return 0
        gifts = list(session.execute(_READ_TAKEN, {"ids": list(moved), **params}))
        claims = _new_claims(gifts, now)
        session.execute(_SET_CLAIM, claims)  # by primary key, one executemany
        record_sent(list(moved))
    _issue([gift for gift in gifts if gift.id in moved], now)
    return len(moved)


def _claim_arrays(claims: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    return {
        "now": now, "event_ids": [new_id("evt") for _ in claims],
        "ids": [claim["b_id"] for claim in claims],
        "indexes": [claim["b_index"] for claim in claims],
        "seals": [claim["b_sealed"] for claim in claims],
        "expiries": [claim["b_expires"] for claim in claims],
    }  # fmt: skip


def _new_claims(gifts: list[Row], now: datetime) -> list[dict[str, Any]]:
    """A fresh claim token for each gift, kept only as its blind index and its sealed copy."""
    index, cipher = blind_index(), field_cipher()  # once a batch, not once a gift
    claims = []
    for gift in gifts:
        token = secrets.token_urlsafe(24)
        claims.append({
            "b_id": gift.id,
            "b_expires": now + timedelta(hours=gift.claim_window_hours),
            "b_index": index.digest("claim_token", token),
            "b_sealed": cipher.seal(token, owner=gift.id),
        })  # fmt: skip
    return claims


def _issue(gifts: list[Row], now: datetime) -> None:
    """The vouchers, events, timeline entries and messages of gifts being sent, each kind in
    one statement."""
    if not gifts:
        return
    vouchers: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    messages: list[tuple[dict[str, Any], str]] = []
    index, cipher = blind_index(), field_cipher()  # once a batch, not once a voucher
    for gift in gifts:
        vouchers.extend(_new_voucher(gift, now, index, cipher) for _ in range(gift.quantity))
        events.append({"gift_id": gift.id, "at": now, "type": "sent",
                       "detail": {"vouchers": gift.quantity}})  # fmt: skip
        if gift.platform_user_id:  # the link is added from the sealed token when it is sent
            messages.append(gift_message(
                gift.id, gift.platform_user_id, GIFT_TEMPLATE_ID, page=CLAIM_PAGE,
                data={"keyword1": gift.template_name, "keyword2": gift.message[:40]},
                form_id=gift.trade_no or gift.id, event="sent", claim_link=True,
            ))  # fmt: skip
    record_issued(vouchers)  # after each gift's gift.sent
    insert_rows(GIFT_EVENTS, events)
    enqueue_many(TEMPLATE_MESSAGE, messages)


def _new_voucher(
    gift: Row, now: datetime, index: BlindIndex, cipher: ReloadingFieldCipher
) -> dict[str, Any]:
    """One voucher row: a fresh code, kept only as its blind index, sealed copy and last four."""
    code, voucher_id = codes.new_code(), new_id("vch")
    return {
        "id": voucher_id, "gift_id": gift.id, "template_id": gift.template_id, "kind": gift.kind,
        "face_value_fen": gift.face_value_fen, "balance_fen": gift.face_value_fen,
        "code_index": index.digest("voucher_code", code), "code_last4": code[-4:],
        "code_sealed": cipher.seal(code, owner=voucher_id), "issued_at": now, "status": ISSUED,
    }  # fmt: skip


def seconds_until_next_gift(horizon: float) -> float:
    """How long until the earliest scheduled gift falls due (at most `horizon`)."""
    return seconds_until_due(SCHEDULED, Gift.send_at, horizon)


# Due gifts as due work, run by every worker (declared in gifting/contributions.py).
DUE_GIFTS = DueWorkSource("due_gifts", send_due_gifts, seconds_until_next_gift, summary_line)

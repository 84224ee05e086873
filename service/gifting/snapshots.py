"""What events say about gifts and vouchers: the merchant view, built by the database.

`GIFT_VIEW` and `VOUCHER_VIEW` name, key by key, the columns `MerchantGiftSchema` and
`MerchantVoucherSchema` (schemas/gifting.py) dump; `record_views()` (service/events/views.py)
has the database build each snapshot from the row as the recording transaction has left it, in
one INSERT … SELECT however many gifts a batch records. Running a schema, or building dicts in
Python, per row cost the sending batch more than its own statements (bench/README.md);
tests/api/test_event_snapshots.py keeps the views equal to the schemas' dumps on both engines.
The record helpers add events to the session; the caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from sqlalchemy import Table, select

from service.events.views import View, record_views
from service.extensions import db
from service.gifting.models import Gift, Voucher

GIFT_VIEW = View("gift", cast(Table, Gift.__table__), {
    "id": Gift.id, "status": Gift.status, "sender_id": Gift.sender_id,
    "template_id": Gift.template_id, "quantity": Gift.quantity,
    "unit_price_fen": Gift.unit_price_fen, "amount_fen": Gift.amount_fen,
    "currency": Gift.currency,
    "recipient": {"kind": Gift.recipient_kind, "user_id": Gift.recipient_user_id},
    "trade_no": Gift.trade_no, "send_at": Gift.send_at, "timezone": Gift.timezone,
    "created_at": Gift.created_at, "paid_at": Gift.paid_at, "closed_at": Gift.closed_at,
    "sent_at": Gift.sent_at, "claim_expires_at": Gift.claim_expires_at,
    "claimed_by": Gift.claimed_by, "claimed_at": Gift.claimed_at,
    "refunded_at": Gift.refunded_at,
})  # fmt: skip
VOUCHER_VIEW = View("voucher", cast(Table, Voucher.__table__), {
    "id": Voucher.id, "gift_id": Voucher.gift_id, "template_id": Voucher.template_id,
    "owner_id": Voucher.owner_id, "kind": Voucher.kind, "face_value_fen": Voucher.face_value_fen,
    "balance_fen": Voucher.balance_fen, "status": Voucher.status,
    "issued_at": Voucher.issued_at, "expires_at": Voucher.expires_at,
})  # fmt: skip


def record_gifts(event_types: Iterable[str], gift_ids: Iterable[str]) -> None:
    """Each event type for each gift (in that order per gift), in one insert; the caller commits."""
    types = list(event_types)
    record_views(GIFT_VIEW, [(kind, gift_id) for gift_id in gift_ids for kind in types])


def record_gift(event_type: str, gift_id: str) -> None:
    """One event for one gift, snapshotted as this transaction left it; the caller commits."""
    record_gifts([event_type], [gift_id])


def record_vouchers(event_type: str, voucher_ids: Iterable[str], **extra: int) -> None:
    """One event for each voucher (with `extra`'s keys, such as a redemption's amount), in one
    insert; the caller commits."""
    record_views(VOUCHER_VIEW, [(event_type, voucher_id) for voucher_id in voucher_ids], extra)


def record_vouchers_of(event_type: str, gift_ids: Iterable[str]) -> None:
    """One event for each voucher of these gifts; the caller commits."""
    ids = db.session.scalars(
        select(Voucher.id).where(Voucher.gift_id.in_(list(gift_ids))).order_by(Voucher.id)
    )
    record_vouchers(event_type, list(ids))

"""What events say about gifts and vouchers: the merchant view, built without marshmallow.

The snapshots are the dicts `MerchantGiftSchema` and `MerchantVoucherSchema` (schemas/gifting.py)
would dump, built directly from rows: the sending batch records an event per gift and one per
voucher, and running a schema per row there would cost more than the batch's own statements
(tests/api/test_event_snapshots.py keeps the two equal). A row is read with `GIFT_COLUMNS` (or is
the model itself), so a snapshot shows the gift as the transaction recording it has left it.
The record helpers add events to the session; the caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from service.events.log import NewEvent, record_many
from service.extensions import db
from service.gifting.models import Gift, Voucher

GIFT_COLUMNS = (
    Gift.id, Gift.status, Gift.sender_id, Gift.template_id, Gift.quantity, Gift.unit_price_fen,
    Gift.amount_fen, Gift.currency, Gift.recipient_kind, Gift.recipient_user_id, Gift.trade_no,
    Gift.send_at, Gift.timezone, Gift.created_at, Gift.paid_at, Gift.closed_at, Gift.sent_at,
    Gift.claim_expires_at, Gift.claimed_by, Gift.claimed_at, Gift.refunded_at,
)  # fmt: skip
VOUCHER_COLUMNS = (
    Voucher.id, Voucher.gift_id, Voucher.template_id, Voucher.owner_id, Voucher.kind,
    Voucher.face_value_fen, Voucher.balance_fen, Voucher.status, Voucher.issued_at,
    Voucher.expires_at,
)  # fmt: skip
_GIFT_TIMES = ("created_at", "paid_at", "closed_at", "sent_at", "claim_expires_at",
               "claimed_at", "refunded_at")  # fmt: skip


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def gift_snapshot(gift: Any) -> dict[str, Any]:
    """A gift (a `GIFT_COLUMNS` row or the model) as `MerchantGiftSchema` dumps it."""
    shown = {
        "id": gift.id, "status": gift.status, "sender_id": gift.sender_id,
        "template_id": gift.template_id, "quantity": gift.quantity,
        "unit_price_fen": gift.unit_price_fen, "amount_fen": gift.amount_fen,
        "currency": gift.currency,
        "recipient": {"kind": gift.recipient_kind, "user_id": gift.recipient_user_id},
        "trade_no": gift.trade_no, "send_at": _time(gift.send_at), "timezone": gift.timezone,
        "claimed_by": gift.claimed_by,
    }  # fmt: skip
    for name in _GIFT_TIMES:
        shown[name] = _time(getattr(gift, name))
    return shown


def voucher_snapshot(voucher: Any) -> dict[str, Any]:
    """A voucher (a row, the model, or the dict the sending batch inserts) as
    `MerchantVoucherSchema` dumps it."""
    get = voucher.get if isinstance(voucher, dict) else lambda name: getattr(voucher, name)
    return {
        "id": get("id"), "gift_id": get("gift_id"), "template_id": get("template_id"),
        "owner_id": get("owner_id"), "kind": get("kind"), "face_value_fen": get("face_value_fen"),
        "balance_fen": get("balance_fen"), "status": get("status"),
        "issued_at": _time(get("issued_at")), "expires_at": _time(get("expires_at")),
    }  # fmt: skip


def gift_rows(gift_ids: Iterable[str]) -> list[Any]:
    """The gifts as this transaction sees them now, in one query."""
    return list(db.session.execute(select(*GIFT_COLUMNS).where(Gift.id.in_(list(gift_ids)))))


def gift_event(event_type: str, gift: Any) -> NewEvent:
    return NewEvent(event_type, "gift", gift.id, gift_snapshot(gift))


def voucher_event(event_type: str, voucher: Any, **extra: Any) -> NewEvent:
    data = {**voucher_snapshot(voucher), **extra}
    return NewEvent(event_type, "voucher", data["id"], data)


def record_gifts(event_types: Iterable[str], gift_ids: Iterable[str]) -> None:
    """Each event type for each gift (in that order per gift), in one insert; the caller commits."""
    types = list(event_types)
    record_many(gift_event(kind, gift) for gift in gift_rows(gift_ids) for kind in types)


def record_gift(event_type: str, gift_id: str) -> None:
    """One event for one gift, snapshotted as this transaction left it; the caller commits."""
    record_gifts([event_type], [gift_id])


def record_vouchers_of(event_type: str, gift_ids: Iterable[str]) -> None:
    """One event for each voucher of these gifts; the caller commits."""
    rows = db.session.execute(
        select(*VOUCHER_COLUMNS).where(Voucher.gift_id.in_(list(gift_ids))).order_by(Voucher.id)
    )
    record_many(voucher_event(event_type, voucher) for voucher in rows)

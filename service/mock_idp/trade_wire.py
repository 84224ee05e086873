"""How a trade looks on the wire: buyer ids, the masked logon id, yuan amounts, platform times."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from service.gateway.money import fen_to_yuan
from service.mock_idp.grants import open_id_for
from service.mock_idp.protocol import beijing_time

if TYPE_CHECKING:
    from service.mock_idp.apps import AppRecord
    from service.mock_idp.refunds import Refund
    from service.mock_idp.trade_records import Trade

FUND_CHANNEL = "ALIPAYACCOUNT"  # the mock's buyers pay from their balance only
ZERO = "0.00"


def seller_id(app_id: str) -> str:
    """The merchant's `2088…` account behind an app: stable, derived from the app id."""
    digits = int.from_bytes(hashlib.sha256(f"seller:{app_id}".encode()).digest()[:8], "big")
    return "2088" + str(digits % 10**12).zfill(12)


def buyer_logon_id(user: dict[str, Any]) -> str:
    """The buyer's account name as merchants see it: `138****5671`, never in full."""
    mobile = user.get("mobile") or ""
    if mobile:
        return mobile[:3] + "****" + mobile[-4:]
    return user["user_id"][:4] + "****" + user["user_id"][-4:]


def buyer_ids(app: AppRecord, user_id: str, user_key: str) -> dict[str, str]:
    """`<user_key>` and/or `buyer_open_id`, as the app's id_mode lets the platform reveal them."""
    ids = {}
    if app.id_mode in ("user_id", "both"):
        ids[user_key] = user_id
    if app.id_mode in ("open_id", "both"):
        ids["buyer_open_id"] = open_id_for(app.app_id, user_id)
    return ids


def _paid_amount(trade: Trade) -> str:
    return fen_to_yuan(trade.total_fen) if trade.was_paid else ZERO


def query_fields(app: AppRecord, trade: Trade, user: dict[str, Any]) -> dict[str, Any]:
    """`alipay.trade.query`'s business fields; unpaid trades show zero paid amounts."""
    fields: dict[str, Any] = {
        "trade_no": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
        "buyer_logon_id": buyer_logon_id(user),
        "trade_status": trade.status,
        "total_amount": fen_to_yuan(trade.total_fen),
        "buyer_pay_amount": _paid_amount(trade),
        "point_amount": ZERO,
        "invoice_amount": _paid_amount(trade),
        "receipt_amount": _paid_amount(trade),
        **buyer_ids(app, trade.buyer_user_id, "buyer_user_id"),
    }
    if trade.paid_at is not None:  # it was paid
        fields["send_pay_date"] = beijing_time(trade.paid_at)
        fields["fund_bill_list"] = [
            {"fund_channel": FUND_CHANNEL, "amount": fen_to_yuan(trade.total_fen)}
        ]
    return fields


def refund_response_fields(
    app: AppRecord, trade: Trade, user: dict[str, Any], refund: Refund, fund_change: bool
) -> dict[str, Any]:
    """`alipay.trade.refund`'s business fields; `refund_fee` is the trade's refunded total."""
    return {
        "trade_no": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
        "buyer_logon_id": buyer_logon_id(user),
        "fund_change": "Y" if fund_change else "N",
        "refund_fee": fen_to_yuan(trade.refunded_fen),
        "gmt_refund_pay": beijing_time(refund.created_at),
        "send_back_fee": fen_to_yuan(refund.refund_fen),
        **buyer_ids(app, trade.buyer_user_id, "buyer_user_id"),
    }


def trade_status_sync_fields(
    app: AppRecord,
    trade: Trade,
    user: dict[str, Any],
    *,
    notify_id: str,
    now: float,
    refund: Refund | None = None,
) -> dict[str, str]:
    """A `trade_status_sync` notification's fields before signing (§4): what changed, as of now."""
    fields = {
        "notify_time": beijing_time(now),
        "notify_type": "trade_status_sync",
        "notify_id": notify_id,
        "app_id": app.app_id,
        "auth_app_id": app.app_id,
        "charset": "utf-8",
        "version": "1.0",
        "trade_no": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
        **buyer_ids(app, trade.buyer_user_id, "buyer_id"),
        "buyer_logon_id": buyer_logon_id(user),
        "seller_id": seller_id(app.app_id),
        "trade_status": trade.status,
        "total_amount": fen_to_yuan(trade.total_fen),
        "subject": trade.subject,
        "gmt_create": beijing_time(trade.created_at),
    }
    if trade.paid_at is not None:  # it was paid
        paid = fen_to_yuan(trade.total_fen)
        fields.update(
            receipt_amount=paid,
            invoice_amount=paid,
            buyer_pay_amount=paid,
            point_amount=ZERO,
            gmt_payment=beijing_time(trade.paid_at),
            fund_bill_list=json.dumps(
                [{"amount": paid, "fundChannel": FUND_CHANNEL}], separators=(",", ":")
            ),
        )
    if refund is not None:
        fields.update(
            out_biz_no=refund.out_request_no,
            refund_fee=fen_to_yuan(refund.refunded_fen_after),
            gmt_refund=beijing_time(refund.created_at),
        )
    ended_at = trade.closed_at or trade.finished_at
    if ended_at is not None:
        fields["gmt_close"] = beijing_time(ended_at)
    return fields

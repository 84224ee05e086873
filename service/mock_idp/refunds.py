"""Refunds of paid trades, keyed by the merchant's `out_request_no` so a retry never pays twice.

Without an `out_request_no` the platform treats the refund as a full one keyed by the trade's
`out_trade_no`: any other amount is `ACQ.REFUND_AMT_NOT_EQUAL_TOTAL`. A repeated key with the
same amount answers the first refund again (`fund_change` N, `refund_fee` the trade's refunded
total now); with another amount it is `ACQ.DISCORDANT_REPEAT_REQUEST`. Money goes back to the
buyer's balance; when everything is refunded the trade closes.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from service.gateway.money import fen_to_yuan
from service.mock_idp.balances import move_balance
from service.mock_idp.store import MockStore
from service.mock_idp.store_tables import register_table
from service.mock_idp.trade_notices import notify_trade_status
from service.mock_idp.trade_records import (
    TRADE_CLOSED,
    TRADE_FINISHED,
    TRADE_SUCCESS,
    Trade,
    TradeRefused,
)

register_table(
    "trade_refunds",
    """CREATE TABLE IF NOT EXISTS trade_refunds (
        trade_no TEXT NOT NULL, out_request_no TEXT NOT NULL, refund_fen INTEGER NOT NULL,
        refunded_fen_after INTEGER NOT NULL, reason TEXT, created_at REAL NOT NULL,
        PRIMARY KEY (trade_no, out_request_no))""",
)


@dataclass(frozen=True)
class RefundRequest:
    """What `alipay.trade.refund` asks for, already checked for shape."""

    refund_fen: int
    out_request_no: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Refund:
    """One refund of a trade, with the trade's refunded total right after it."""

    trade_no: str
    out_request_no: str
    refund_fen: int
    refunded_fen_after: int
    reason: str | None
    created_at: float

    def to_json(self) -> dict[str, Any]:
        """The refund as the control API shows it."""
        return {
            "out_request_no": self.out_request_no,
            "refund_amount": fen_to_yuan(self.refund_fen),
            "refund_fee": fen_to_yuan(self.refunded_fen_after),
            "refund_reason": self.reason,
            "created_at": datetime.fromtimestamp(self.created_at, UTC).isoformat(),
        }


@dataclass(frozen=True)
class RefundOutcome:
    """The trade after a refund call, the refund it refers to, and whether money moved."""

    trade: Trade
    refund: Refund
    fund_change: bool


def refund_trade(
    store: MockStore, platform_key: Any, trade: Trade, request: RefundRequest, now: float
) -> RefundOutcome:
    """Refund part or all of a paid trade, once per key, and notify the merchant."""
    key = request.out_request_no or trade.out_trade_no
    with store.transaction() as db:
        row = db.execute("SELECT * FROM trades WHERE trade_no = ?", (trade.trade_no,)).fetchone()
        trade = replace(trade, status=row["status"], refunded_fen=row["refunded_fen"])
        earlier = _refund_by_key(db, trade.trade_no, key)
        if earlier is not None:
            if earlier.refund_fen != request.refund_fen:
                raise TradeRefused(
                    "ACQ.DISCORDANT_REPEAT_REQUEST", "请求信息不一致：同一退款请求号的退款金额不同"
                )
            return RefundOutcome(trade, earlier, fund_change=False)
        _check_refundable(trade, request)
        refunded = trade.refunded_fen + request.refund_fen
        status = TRADE_CLOSED if refunded == trade.total_fen else TRADE_SUCCESS
        closed_at = now if status == TRADE_CLOSED else None
        refund = Refund(trade.trade_no, key, request.refund_fen, refunded, request.reason, now)
        db.execute(
            "INSERT INTO trade_refunds VALUES (?, ?, ?, ?, ?, ?)",
            (refund.trade_no, key, refund.refund_fen, refunded, refund.reason, now),
        )
        db.execute(
            "UPDATE trades SET refunded_fen = ?, status = ?, closed_at = ? WHERE trade_no = ?",
            (refunded, status, closed_at, trade.trade_no),
        )
        move_balance(db, trade.buyer_user_id, request.refund_fen)
        trade = replace(trade, refunded_fen=refunded, status=status, closed_at=closed_at)
        notify_trade_status(store, db, platform_key, trade, now, refund=refund)
    return RefundOutcome(trade, refund, fund_change=True)


def _check_refundable(trade: Trade, request: RefundRequest) -> None:
    if trade.status == TRADE_FINISHED:
        raise TradeRefused("ACQ.TRADE_HAS_FINISHED", "交易已完结，不能退款")
    if trade.status != TRADE_SUCCESS:
        raise TradeRefused("ACQ.TRADE_STATUS_ERROR", f"交易状态不合法（{trade.status}）")
    if request.out_request_no is None and request.refund_fen != trade.total_fen:
        raise TradeRefused(
            "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL",
            "撤销或退款金额与订单金额不一致：部分退款须传 out_request_no",
        )
    if request.refund_fen > trade.refundable_fen:
        raise TradeRefused(
            "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL",
            f"退款金额超限：最多还可退 {fen_to_yuan(trade.refundable_fen)} 元",
        )


def _refund_by_key(db: sqlite3.Connection, trade_no: str, key: str) -> Refund | None:
    row = db.execute(
        "SELECT * FROM trade_refunds WHERE trade_no = ? AND out_request_no = ?", (trade_no, key)
    ).fetchone()
    return _refund(row) if row else None


def list_refunds(store: MockStore, trade_no: str) -> list[Refund]:
    """A trade's refunds, oldest first."""
    rows = store.query(
        "SELECT * FROM trade_refunds WHERE trade_no = ? ORDER BY created_at, rowid", (trade_no,)
    )
    return [_refund(row) for row in rows]


def _refund(row: sqlite3.Row) -> Refund:
    return Refund(**{key: row[key] for key in row.keys()})  # noqa: SIM118 - sqlite3.Row

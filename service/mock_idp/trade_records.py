"""Trades as the platform stores them: their states, shapes and numbers, and how one is found.

The moves between states live in trades.py; this module only knows the table, the shapes, the
platform's trade numbers and how to read a trade (`ACQ.TRADE_NOT_EXIST` when there is none).
Amounts are integer fen here; yuan strings exist only on the wire.
"""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from service.gateway.money import fen_to_yuan
from service.mock_idp.protocol import BEIJING, BusinessRefusal
from service.mock_idp.store import MockStore
from service.mock_idp.store_tables import register_table

WAIT_BUYER_PAY = "WAIT_BUYER_PAY"
TRADE_SUCCESS = "TRADE_SUCCESS"
TRADE_FINISHED = "TRADE_FINISHED"
TRADE_CLOSED = "TRADE_CLOSED"
JSAPI_PAY = "JSAPI_PAY"

register_table(
    "trades",
    """CREATE TABLE IF NOT EXISTS trades (
        trade_no TEXT PRIMARY KEY, app_id TEXT NOT NULL, out_trade_no TEXT NOT NULL,
        buyer_user_id TEXT NOT NULL, subject TEXT NOT NULL, total_fen INTEGER NOT NULL,
        product_code TEXT NOT NULL, notify_url TEXT, return_url TEXT, status TEXT NOT NULL,
        refunded_fen INTEGER NOT NULL, created_at REAL NOT NULL, paid_at REAL,
        closed_at REAL, finished_at REAL, expires_at REAL, UNIQUE (app_id, out_trade_no))""",
)


class TradeRefused(BusinessRefusal):
    """A trade's business failure, answered as 40004 with an `ACQ.*` sub_code."""


def invalid_trade_parameter(message: str, *, missing: bool = False) -> TradeRefused:
    """How the trade APIs refuse a bad or missing parameter: 40004 `ACQ.INVALID_PARAMETER`."""
    return TradeRefused("ACQ.INVALID_PARAMETER", "参数无效：" + message)


@dataclass(frozen=True)
class TradeOrder:
    """What `alipay.trade.create` asks for, already checked for shape."""

    app_id: str
    out_trade_no: str
    buyer_user_id: str
    subject: str
    total_fen: int
    product_code: str = JSAPI_PAY
    notify_url: str | None = None
    return_url: str | None = None
    expires_at: float | None = None  # `time_expire` / `timeout_express`: closed unpaid then


@dataclass(frozen=True)
class Trade:
    """One trade row; times are epoch seconds, amounts fen."""

    trade_no: str
    app_id: str
    out_trade_no: str
    buyer_user_id: str
    subject: str
    total_fen: int
    product_code: str
    notify_url: str | None
    return_url: str | None
    status: str
    refunded_fen: int
    created_at: float
    paid_at: float | None = None
    closed_at: float | None = None
    finished_at: float | None = None
    expires_at: float | None = None

    def expired(self, now: float) -> bool:
        """Unpaid past its payment window (`time_expire`): the platform closes it."""
        unpaid = self.status == WAIT_BUYER_PAY
        return unpaid and self.expires_at is not None and now >= self.expires_at

    @property
    def was_paid(self) -> bool:
        """Whether the buyer paid (a fully refunded trade is closed but was paid)."""
        return self.paid_at is not None

    @property
    def refundable_fen(self) -> int:
        """What may still be refunded: the paid total less earlier refunds."""
        return self.total_fen - self.refunded_fen if self.status == TRADE_SUCCESS else 0

    def to_json(self) -> dict[str, Any]:
        """The trade as the control API shows it."""
        return {
            "trade_no": self.trade_no,
            "out_trade_no": self.out_trade_no,
            "app_id": self.app_id,
            "buyer_user_id": self.buyer_user_id,
            "subject": self.subject,
            "trade_status": self.status,
            "total_amount": fen_to_yuan(self.total_fen),
            "total_fen": self.total_fen,
            "refund_fee": fen_to_yuan(self.refunded_fen),
            "refunded_fen": self.refunded_fen,
            "product_code": self.product_code,
            "notify_url": self.notify_url,
            "return_url": self.return_url,
            "created_at": _iso(self.created_at),
            "paid_at": _iso(self.paid_at),
            "closed_at": _iso(self.closed_at),
            "finished_at": _iso(self.finished_at),
            "expires_at": _iso(self.expires_at),
        }


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat()


def new_trade_no(now: float) -> str:
    """28 digits: the Beijing date, then random digits."""
    date = datetime.fromtimestamp(now, BEIJING).strftime("%Y%m%d")
    return date + "22" + "".join(secrets.choice("0123456789") for _ in range(18))


def insert_trade(db: sqlite3.Connection, trade: Trade) -> None:
    """Store a new trade inside the caller's transaction (paid ones too: a pay against a freeze)."""
    db.execute(
        "INSERT INTO trades (trade_no, app_id, out_trade_no, buyer_user_id, subject, total_fen,"
        " product_code, notify_url, return_url, status, refunded_fen, created_at, paid_at,"
        " expires_at) VALUES (:trade_no, :app_id, :out_trade_no, :buyer_user_id, :subject,"
        " :total_fen, :product_code, :notify_url, :return_url, :status, :refunded_fen,"
        " :created_at, :paid_at, :expires_at)",
        vars(trade),
    )


def trade_by_out_trade_no(db: sqlite3.Connection, app_id: str, out_trade_no: str) -> Trade | None:
    """The app's trade with this out_trade_no, read inside the caller's transaction."""
    row = db.execute(
        "SELECT * FROM trades WHERE app_id = ? AND out_trade_no = ?", (app_id, out_trade_no)
    ).fetchone()
    return trade_from_row(row) if row else None


def get_trade(store: MockStore, trade_no: str) -> Trade | None:
    """Any app's trade by its platform number, or None."""
    row = store.query_one("SELECT * FROM trades WHERE trade_no = ?", (trade_no,))
    return trade_from_row(row) if row else None


def find_trade(
    store: MockStore, app_id: str, *, trade_no: str | None, out_trade_no: str | None
) -> Trade:
    """The app's own trade by either number (both must agree); ACQ.TRADE_NOT_EXIST otherwise."""
    if not trade_no and not out_trade_no:
        raise TradeRefused(
            "ACQ.INVALID_PARAMETER", "参数无效：trade_no 与 out_trade_no 不能同时为空"
        )
    if trade_no:
        row = store.query_one(
            "SELECT * FROM trades WHERE trade_no = ? AND app_id = ?", (trade_no, app_id)
        )
    else:
        row = store.query_one(
            "SELECT * FROM trades WHERE out_trade_no = ? AND app_id = ?", (out_trade_no, app_id)
        )
    if row is None or (out_trade_no and row["out_trade_no"] != out_trade_no):
        raise TradeRefused("ACQ.TRADE_NOT_EXIST", "交易不存在")
    return trade_from_row(row)


def trade_from_row(row: sqlite3.Row) -> Trade:
    """A trade read back from its row."""
    return Trade(**{key: row[key] for key in row.keys()})  # noqa: SIM118 - sqlite3.Row

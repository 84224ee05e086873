"""Trades as the platform keeps them: created by a merchant, paid by a buyer, closed or finished.

Amounts are integer fen here; yuan strings exist only on the wire. A change the platform reports
asynchronously queues its notification in the same transaction, so no change is ever visible
without its notification on the way.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from service.gateway.money import fen_to_yuan
from service.mock_idp.demo_users import balance_text
from service.mock_idp.protocol import BEIJING, BusinessRefusal
from service.mock_idp.store import MockStore
from service.mock_idp.store_tables import register_table
from service.mock_idp.trade_notices import notify_trade_status

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


def create_trade(store: MockStore, order: TradeOrder, now: float) -> Trade:
    """A new WAIT_BUYER_PAY trade, or the same one again for a repeated identical order."""
    with store.transaction() as db:
        earlier = trade_by_out_trade_no(db, order.app_id, order.out_trade_no)
        if earlier is not None:
            return _repeat_of(earlier, order)
        trade = Trade(
            trade_no=new_trade_no(now),
            status=WAIT_BUYER_PAY,
            refunded_fen=0,
            created_at=now,
            **vars(order),
        )
        insert_trade(db, trade)
    return trade


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
    return _trade(row) if row else None


def _repeat_of(trade: Trade, order: TradeOrder) -> Trade:
    """`out_trade_no` is the merchant's idempotency key: the same order gets the same trade."""
    if trade.was_paid:
        raise TradeRefused("ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
    if trade.status == TRADE_CLOSED:
        raise TradeRefused("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
    if trade.buyer_user_id != order.buyer_user_id:
        raise TradeRefused("ACQ.TRADE_BUYER_NOT_MATCH", "交易买家不匹配")
    if (trade.total_fen, trade.subject) != (order.total_fen, order.subject):
        raise TradeRefused("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
    return trade


def get_trade(store: MockStore, trade_no: str) -> Trade | None:
    """Any app's trade by its platform number, or None."""
    row = store.query_one("SELECT * FROM trades WHERE trade_no = ?", (trade_no,))
    return _trade(row) if row else None


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
    return _trade(row)


def close_if_expired(store: MockStore, platform_key: Any, trade: Trade, now: float) -> Trade:
    """Close an unpaid trade past its `time_expire` (notifying TRADE_CLOSED), as the platform
    does when the payment window ends; any other trade is answered as it is."""
    if not trade.expired(now):
        return trade
    with store.transaction() as db:
        current = _locked_trade(db, trade.trade_no)
        if not current.expired(now):
            return current
        return _move(store, db, platform_key, current, TRADE_CLOSED, now)


def pay_trade(store: MockStore, platform_key: Any, trade_no: str, now: float) -> Trade:
    """What the buyer's Pay does: debit the balance, TRADE_SUCCESS, notify the merchant.

    A trade past its payment window is closed instead and the payment refused."""
    closed = close_if_expired(store, platform_key, _existing(store, trade_no), now)
    if closed.status == TRADE_CLOSED and not closed.was_paid:
        raise TradeRefused("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
    with store.transaction() as db:
        trade = _locked_trade(db, trade_no)
        if trade.status != WAIT_BUYER_PAY:
            raise TradeRefused("ACQ.TRADE_STATUS_ERROR", f"交易状态不合法（{trade.status}）")
        move_balance(db, trade.buyer_user_id, -trade.total_fen)
        paid = _move(store, db, platform_key, trade, TRADE_SUCCESS, now)
    return paid


def close_trade(store: MockStore, platform_key: Any, trade_no: str, now: float) -> Trade:
    """Close an unpaid trade (closing it again is a no-op); a paid one cannot be closed."""
    with store.transaction() as db:
        trade = _locked_trade(db, trade_no)
        if trade.status == TRADE_CLOSED and not trade.was_paid:
            return trade
        if trade.status != WAIT_BUYER_PAY:
            raise TradeRefused("ACQ.TRADE_STATUS_ERROR", "交易状态不合法，已支付的交易不能关闭")
        closed = _move(store, db, platform_key, trade, TRADE_CLOSED, now)
    return closed


def finish_trade(store: MockStore, platform_key: Any, trade_no: str, now: float) -> Trade:
    """End a paid trade's refund period early (TRADE_FINISHED): tests reach that state at will."""
    with store.transaction() as db:
        trade = _locked_trade(db, trade_no)
        if trade.status != TRADE_SUCCESS:
            raise TradeRefused("ACQ.TRADE_STATUS_ERROR", f"交易状态不合法（{trade.status}）")
        finished = _move(store, db, platform_key, trade, TRADE_FINISHED, now)
    return finished


# Each state a trade moves into, and the column that records when.
_STATE_TIMES = {TRADE_SUCCESS: "paid_at", TRADE_CLOSED: "closed_at", TRADE_FINISHED: "finished_at"}
_MOVES = {
    state: f"UPDATE trades SET status = ?, {column} = ? WHERE trade_no = ?"  # noqa: S608 (fixed names)
    for state, column in _STATE_TIMES.items()
}


def _move(
    store: MockStore,
    db: sqlite3.Connection,
    platform_key: Any,
    trade: Trade,
    state: str,
    now: float,
) -> Trade:
    """Record the new state and its time, and queue the notification that reports it."""
    db.execute(_MOVES[state], (state, now, trade.trade_no))
    moved = replace(trade, status=state, **{_STATE_TIMES[state]: now})
    notify_trade_status(store, db, platform_key, moved, now)
    return moved


def _existing(store: MockStore, trade_no: str) -> Trade:
    trade = get_trade(store, trade_no)
    if trade is None:
        raise TradeRefused("ACQ.TRADE_NOT_EXIST", "交易不存在")
    return trade


def _locked_trade(db: sqlite3.Connection, trade_no: str) -> Trade:
    row = db.execute("SELECT * FROM trades WHERE trade_no = ?", (trade_no,)).fetchone()
    if row is None:
        raise TradeRefused("ACQ.TRADE_NOT_EXIST", "交易不存在")
    return _trade(row)


def move_balance(
    db: sqlite3.Connection, user_id: str, delta_fen: int, *, may_go_negative: bool = False
) -> int:
    """Add to (or, negative, take from) a user's balance; below zero only for what is owed.

    A pay against a credit-waived deposit takes money the user owes whatever the balance, so it
    may leave the balance negative; anything the user chooses to pay needs the money first.
    """
    row = db.execute("SELECT profile FROM users WHERE user_id = ?", (user_id,)).fetchone()
    if row is None:
        raise TradeRefused("ACQ.BUYER_NOT_EXIST", "买家不存在")
    profile = json.loads(row["profile"])
    balance = profile.get("balance_fen", 0) + delta_fen
    if balance < 0 and not may_go_negative:
        raise TradeRefused(
            "ACQ.BUYER_BALANCE_NOT_ENOUGH",
            f"买家余额不足：余额 {balance_text(profile.get('balance_fen', 0))} 元，"
            f"需付 {fen_to_yuan(-delta_fen)} 元",
        )
    profile["balance_fen"] = balance
    db.execute(
        "UPDATE users SET profile = ? WHERE user_id = ?",
        (json.dumps(profile, ensure_ascii=False), user_id),
    )
    return balance


def _trade(row: sqlite3.Row) -> Trade:
    return Trade(**{key: row[key] for key in row.keys()})  # noqa: SIM118 - sqlite3.Row

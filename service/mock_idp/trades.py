"""Trades as the platform moves them: created by a merchant, paid by a buyer, closed or finished.

A change the platform reports asynchronously queues its notification in the same transaction, so
no change is ever visible without its notification on the way. The table and the reads are in
trade_records.py, the buyer's balance in balances.py.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from typing import Any

from service.mock_idp.balances import move_balance
from service.mock_idp.store import MockStore
from service.mock_idp.trade_notices import notify_trade_status
from service.mock_idp.trade_records import (
    TRADE_CLOSED,
    TRADE_FINISHED,
    TRADE_SUCCESS,
    WAIT_BUYER_PAY,
    Trade,
    TradeOrder,
    TradeRefused,
    get_trade,
    insert_trade,
    new_trade_no,
    trade_by_out_trade_no,
    trade_from_row,
)


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
    at: dict[str, Any] = {_STATE_TIMES[state]: now}  # the time column this state sets
    moved = replace(trade, status=state, **at)
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
    return trade_from_row(row)

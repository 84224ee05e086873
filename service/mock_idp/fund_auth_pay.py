"""`alipay.trade.pay` against a hold: the merchant takes what the payer owes from an auth_no.

Held money pays first; the rest comes out of the waived credit, which the platform collects
from the payer's balance whatever it holds (it may go below zero: the person owes it). The
payment is an ordinary paid trade, so `alipay.trade.query` and `alipay.trade.refund` see it.
`COMPLETE` then releases whatever is still held and ends the order. `out_trade_no` is the key:
the same payment again is answered as the platform answers it, `ACQ.TRADE_HAS_SUCCESS` ("the
trade has been paid": the merchant learns which by `trade.query`), never the first success
again; other content under it is `ACQ.CONTEXT_INCONSISTENT`. Nothing moves twice either way.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from typing import Any

from service.gateway.money import fen_to_yuan
from service.mock_idp.balances import move_balance
from service.mock_idp.fund_auth import check_open, record_operation, release, save_totals
from service.mock_idp.fund_auth_records import (
    PAY,
    SUCCESS,
    AuthOperation,
    FundAuthRefused,
    locked_order,
    new_operation_id,
    request_digest,
)
from service.mock_idp.store import MockStore
from service.mock_idp.trade_notices import notify_trade_status
from service.mock_idp.trade_records import (
    TRADE_SUCCESS,
    Trade,
    TradeRefused,
    insert_trade,
    new_trade_no,
    trade_by_out_trade_no,
)


@dataclass(frozen=True)
class AuthPayRequest:
    """What a `trade.pay` against an auth_no asks for, already checked for shape."""

    app_id: str
    auth_no: str
    out_trade_no: str
    total_fen: int
    subject: str
    buyer_user_id: str | None
    complete: bool
    product_code: str
    notify_url: str | None = None

    def digest(self) -> str:
        """The content a retry must repeat (the product code's spelling may vary)."""
        return request_digest(
            PAY, self.auth_no, self.total_fen, self.subject, self.buyer_user_id, self.complete
        )


@dataclass(frozen=True)
class AuthPayment:
    """The paid trade and the PAY operation behind it."""

    trade: Trade
    operation: AuthOperation


def pay_from_auth(
    store: MockStore, platform_key: Any, request: AuthPayRequest, now: float
) -> AuthPayment:
    """Pay from the hold (held money first), record a PAY, and with COMPLETE release the rest."""
    with store.transaction() as db:
        earlier = trade_by_out_trade_no(db, request.app_id, request.out_trade_no)
        if earlier is not None:
            return _repeat_of(db, earlier, request)
        order = locked_order(db, request.auth_no)
        if order.app_id != request.app_id:
            raise FundAuthRefused("AUTH_ORDER_NOT_EXIST", "授权订单不存在")
        if request.buyer_user_id not in (None, order.payer_user_id):
            raise TradeRefused("ACQ.TRADE_BUYER_NOT_MATCH", "买家与授权订单的付款人不一致")
        check_open(order)
        if request.total_fen > order.rest_fen:
            raise TradeRefused(
                "ACQ.TOTAL_FEE_EXCEED",
                f"支付金额超过授权订单剩余冻结金额：最多可付 {fen_to_yuan(order.rest_fen)} 元",
            )
        fund_fen = min(request.total_fen, order.rest_fund_fen)
        credit_fen = request.total_fen - fund_fen
        if credit_fen:
            move_balance(db, order.payer_user_id, -credit_fen, may_go_negative=True)
        trade = Trade(
            trade_no=new_trade_no(now), app_id=request.app_id,
            out_trade_no=request.out_trade_no, buyer_user_id=order.payer_user_id,
            subject=request.subject, total_fen=request.total_fen,
            product_code=request.product_code, notify_url=request.notify_url, return_url=None,
            status=TRADE_SUCCESS, refunded_fen=0, created_at=now, paid_at=now,
        )  # fmt: skip
        insert_trade(db, trade)
        order = save_totals(
            db,
            replace(
                order,
                rest_fund_fen=order.rest_fund_fen - fund_fen,
                rest_credit_fen=order.rest_credit_fen - credit_fen,
                paid_fen=order.paid_fen + request.total_fen,
            ),
        )
        operation = AuthOperation(
            operation_id=new_operation_id(now), auth_no=order.auth_no,
            out_request_no=request.out_trade_no, operation_type=PAY,
            amount_fen=request.total_fen, credit_fen=credit_fen, fund_fen=fund_fen,
            status=SUCCESS, remark=request.subject, trade_no=trade.trade_no,
            request_digest=request.digest(), notify_id=None, created_at=now,
        )  # fmt: skip
        operation = record_operation(store, db, platform_key, order, operation, notify_url=None)
        notify_trade_status(store, db, platform_key, trade, now)
        if request.complete and order.rest_fen:
            release(
                store, db, platform_key, order, complete_request_no(operation), order.rest_fen,
                now, remark="COMPLETE：支付后解冻剩余金额",
                digest=request_digest("COMPLETE", operation.operation_id),
                notify_url=order.notify_url,
            )  # fmt: skip
    return AuthPayment(trade, operation)


def complete_request_no(operation: AuthOperation) -> str:
    """The out_request_no of the release a COMPLETE pay makes: the platform names it, not you."""
    return "COMPLETE" + operation.operation_id


def _repeat_of(db: sqlite3.Connection, trade: Trade, request: AuthPayRequest) -> AuthPayment:
    """Refuse a repeat as the platform does: paid already, or other content under the key."""
    row = db.execute(
        "SELECT * FROM fund_auth_operations WHERE trade_no = ? AND operation_type = ?",
        (trade.trade_no, PAY),
    ).fetchone()
    if row is None or row["request_digest"] != request.digest():
        raise TradeRefused(
            "ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改：同一 out_trade_no 的内容不同"
        )
    raise TradeRefused("ACQ.TRADE_HAS_SUCCESS", "交易已被支付")

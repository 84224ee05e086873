"""The cashier page: what `my.tradePay` shows the buyer, with Pay and Cancel.

`GET /cashier?trade_no=…[&return_url=…]` shows the trade; the form posts back here. Paying debits
the buyer's balance, marks the trade TRADE_SUCCESS and notifies the merchant. Afterwards the
browser goes to `return_url` (the query parameter, else the trade's own) with `trade_no`,
`out_trade_no` and `resultCode` as `my.tradePay` reports it: 9000 paid, 6001 cancelled.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse  # what redirect() gives

from service.gateway.money import fen_to_yuan
from service.mock_idp.authorize_page import (
    error_page,
    html_page,
    is_registered_redirect,
    is_web_url,
    new_page_nonce,
    spend_page_nonce,
    with_query,
)
from service.mock_idp.demo_users import balance_text, masked_name
from service.mock_idp.runtime import current_platform_key, current_store
from service.mock_idp.trade_records import WAIT_BUYER_PAY, Trade, TradeRefused, get_trade
from service.mock_idp.trade_wire import buyer_logon_id
from service.mock_idp.trades import pay_trade

CASHIER_PATH = "/cashier"
RESULT_PAID, RESULT_CANCELLED = "9000", "6001"
HEADING = "收银台"

cashier_blueprint = Blueprint("mock_cashier", __name__)


class CashierRequestInvalid(Exception):
    """A cashier request the page refuses without redirecting anywhere; args: message, status."""


def _trade_and_return_url(values: Any) -> tuple[Trade, str]:
    trade = get_trade(current_store(), values.get("trade_no", ""))
    if trade is None:
        raise CashierRequestInvalid("交易不存在（unknown trade_no）", 404)
    return_url = values.get("return_url") or trade.return_url or ""
    app = current_store().get_app(trade.app_id)
    if return_url and not (
        is_web_url(return_url) and app and is_registered_redirect(app, return_url)
    ):
        raise CashierRequestInvalid("return_url 必须是应用登记的 http(s) 地址", 400)
    return trade, return_url


def _form_context(trade: Trade, return_url: str) -> str:
    return hashlib.sha256(f"cashier\n{trade.trade_no}\n{return_url}".encode()).hexdigest()


def _render(trade: Trade, return_url: str, *, status: int = 200, **extra: Any) -> Response:
    store = current_store()
    app = store.get_app(trade.app_id)
    buyer = store.get_user(trade.buyer_user_id) or {"user_id": trade.buyer_user_id}
    nonce = None
    if trade.status == WAIT_BUYER_PAY and not extra.get("result"):
        nonce = new_page_nonce(store, _form_context(trade, return_url))
    html = render_template(
        "cashier.html",
        trade=trade,
        app=app,
        amount=fen_to_yuan(trade.total_fen),
        buyer_name=masked_name(buyer.get("user_name", "")),
        buyer_logon_id=buyer_logon_id(buyer),
        balance=balance_text(buyer.get("balance_fen", 0)),
        return_url=return_url,
        nonce=nonce,
        **extra,
    )
    return html_page(html, status)


@cashier_blueprint.get(CASHIER_PATH)
def show_cashier() -> Response:
    """The trade to pay: merchant, item, amount, the buyer's masked account and balance."""
    try:
        trade, return_url = _trade_and_return_url(request.args)
    except CashierRequestInvalid as problem:
        message, status = problem.args
        return error_page(message, status, heading=HEADING)
    return _render(trade, return_url)


@cashier_blueprint.post(CASHIER_PATH)
def decide() -> BaseResponse:
    """Pay or cancel, then back to return_url (or a result page when there is none)."""
    try:
        trade, return_url = _trade_and_return_url(request.form)
    except CashierRequestInvalid as problem:
        message, status = problem.args
        return error_page(message, status, heading=HEADING)
    nonce = request.form.get("nonce", "")
    if not spend_page_nonce(current_store(), nonce, _form_context(trade, return_url)):
        return error_page(
            "页面已过期或已提交过，请重新发起付款（stale or reused form）", heading=HEADING
        )
    if trade.status != WAIT_BUYER_PAY:  # paid or closed meanwhile, in another tab or by the app
        return _render(trade, return_url, status=409)
    if request.form.get("decision") != "pay":
        return _leave(trade, return_url, RESULT_CANCELLED, "cancelled")
    try:
        trade = pay_trade(current_store(), current_platform_key(), trade.trade_no, time.time())
    except TradeRefused as refusal:
        if refusal.sub_code == "ACQ.BUYER_BALANCE_NOT_ENOUGH":
            return _render(trade, return_url, status=400, error=refusal.sub_msg)
        return error_page(refusal.sub_msg, 409, heading=HEADING)
    return _leave(trade, return_url, RESULT_PAID, "paid")


def _leave(trade: Trade, return_url: str, result_code: str, result: str) -> BaseResponse:
    if not return_url:
        return _render(trade, return_url, result=result)
    back = {"trade_no": trade.trade_no, "out_trade_no": trade.out_trade_no}
    return redirect(with_query(return_url, {**back, "resultCode": result_code}), 302)

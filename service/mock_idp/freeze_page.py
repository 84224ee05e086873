"""The freeze cashier: what `my.tradePay` shows for a deposit hold, with Confirm and Cancel.

A browser opening the signed `gateway.do?…method=alipay.fund.auth.order.app.freeze…` orderStr
gets this page once the gateway's usual checks pass. It shows the order, the amount, how much
the payer's Zhima credit waives and how much is really frozen from the balance. The payer is
the wallet's user: the latest person who granted the app `auth_zhima`. The form carries the
orderStr back, and it is verified again on submit, so editing the hidden field freezes nothing.

Confirm freezes and notifies `fund_auth_freeze`; then the browser goes to the orderStr's
`return_url` (when registered) with `resultCode` as `my.tradePay` reports it (9000 frozen, 6001
cancelled), or sees a result page.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse  # what redirect() gives

from service.gateway.money import fen_to_yuan
from service.mock_idp.authorize_page import (
    error_page,
    html_page,
    is_registered_redirect,
    new_page_nonce,
    spend_page_nonce,
    with_query,
)
from service.mock_idp.demo_users import balance_text, masked_name
from service.mock_idp.freeze_order import (
    OrderStrInvalid,
    default_payer,
    freeze_request,
    order_parameters,
    verified_freeze,
)
from service.mock_idp.fund_auth import freeze, freeze_split
from service.mock_idp.fund_auth_records import (
    AuthOrder,
    FreezeRequest,
    FundAuthRefused,
    list_orders,
)
from service.mock_idp.protocol import GatewayCall
from service.mock_idp.runtime import current_platform_key, current_store
from service.mock_idp.trade_wire import buyer_logon_id

FREEZE_PATH = "/fund-auth/freeze"
RESULT_FROZEN, RESULT_CANCELLED = "9000", "6001"
HEADING = "信用免押 · 预授权"

freeze_blueprint = Blueprint("mock_freeze", __name__)


def show_freeze_page(call: GatewayCall) -> Response:
    """The page for a verified freeze orderStr: order, amount, the waived and the frozen part."""
    freeze_ask = freeze_request(call.params, call.app.app_id)
    payer_id = default_payer(call.store, call.app.app_id)
    if payer_id is None:
        return error_page(
            "没有用户向该应用授权芝麻信用（auth_zhima），无法确定付款人", 409, heading=HEADING
        )
    return _render(urlencode(call.params), freeze_ask, payer_id)


def _context(order_str: str, payer_id: str) -> str:
    return hashlib.sha256(f"freeze\n{order_str}\n{payer_id}".encode()).hexdigest()


def _frozen_order(freeze_ask: FreezeRequest) -> AuthOrder | None:
    found = list_orders(
        current_store(), app_id=freeze_ask.app_id, out_order_no=freeze_ask.out_order_no
    )
    return found[0] if found else None


def _render(
    order_str: str, freeze_ask: FreezeRequest, payer_id: str, *, status: int = 200, **extra: Any
) -> Response:
    store = current_store()
    payer = store.get_user(payer_id) or {"user_id": payer_id}
    credit_fen, fund_fen = freeze_split(payer, freeze_ask.amount_fen)
    order = extra.pop("order", None) or _frozen_order(freeze_ask)
    nonce = None
    if order is None and not extra.get("result"):
        nonce = new_page_nonce(store, _context(order_str, payer_id))
    html = render_template(
        "freeze.html",
        heading=HEADING,
        app=store.get_app(freeze_ask.app_id),
        freeze=freeze_ask,
        amount=fen_to_yuan(freeze_ask.amount_fen),
        credit_amount=fen_to_yuan(order.credit_fen if order else credit_fen),
        fund_amount=fen_to_yuan(order.fund_fen if order else fund_fen),
        payer_name=masked_name(payer.get("user_name", "")),
        payer_logon_id=buyer_logon_id(payer),
        balance=balance_text(payer.get("balance_fen", 0)),
        order=order,
        order_str=order_str,
        payer_id=payer_id,
        nonce=nonce,
        **extra,
    )
    return html_page(html, status)


@freeze_blueprint.post(FREEZE_PATH)
def decide() -> BaseResponse:
    """Confirm or cancel, then back to the orderStr's return_url or to a result page."""
    store, now = current_store(), time.time()
    order_str, payer_id = request.form.get("order_str", ""), request.form.get("payer_id", "")
    try:
        freeze_ask = verified_freeze(store, order_parameters(order_str), now)
    except OrderStrInvalid as problem:
        return error_page(f"订单信息无效：{problem}", heading=HEADING)
    if not spend_page_nonce(store, request.form.get("nonce", ""), _context(order_str, payer_id)):
        return error_page(
            "页面已过期或已提交过，请从应用重新发起（stale or reused form）", heading=HEADING
        )
    if request.form.get("decision") != "confirm":
        return _leave(order_str, freeze_ask, payer_id, RESULT_CANCELLED, None)
    try:
        frozen = freeze(store, current_platform_key(), freeze_ask, payer_id, now)
    except FundAuthRefused as refusal:
        if refusal.sub_code == "PAYER_BALANCE_NOT_ENOUGH":
            return _render(order_str, freeze_ask, payer_id, status=400, error=refusal.sub_msg)
        return error_page(f"{refusal.sub_msg}（{refusal.sub_code}）", 409, heading=HEADING)
    return _leave(order_str, freeze_ask, payer_id, RESULT_FROZEN, frozen.order)


def _leave(
    order_str: str,
    freeze_ask: FreezeRequest,
    payer_id: str,
    result_code: str,
    order: AuthOrder | None,
) -> BaseResponse:
    app = current_store().get_app(freeze_ask.app_id)
    return_url = freeze_ask.return_url
    if return_url and app is not None and is_registered_redirect(app, return_url):
        back = {
            "out_order_no": freeze_ask.out_order_no,
            "out_request_no": freeze_ask.out_request_no,
            **({"auth_no": order.auth_no} if order else {}),
            "resultCode": result_code,
        }
        return redirect(with_query(return_url, back), 302)
    result = "frozen" if result_code == RESULT_FROZEN else "cancelled"
    return _render(
        order_str, freeze_ask, payer_id, result=result, result_code=result_code, order=order
    )

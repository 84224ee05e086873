"""`alipay.trade.create/query/close/refund`: the merchant's half of a mini-program payment.

Business parameter problems answer 40004 `ACQ.INVALID_PARAMETER` ("参数无效：…"), as the platform
does for its acquiring (ACQ) APIs; an amount outside [0.01, 100000000] is `ACQ.TOTAL_FEE_EXCEED`.

The payment window: `time_expire` (an absolute `yyyy-MM-dd HH:mm:ss` Beijing time) or
`timeout_express` (`90m`, `2h`, `1d`; `time_expire` wins when both are sent). A trade still
unpaid then is closed (notified `TRADE_CLOSED`) the next time anyone looks at it or pays it.
"""

from __future__ import annotations

import re
from typing import Any, Literal, overload

from service.mock_idp.authorize_page import is_web_url
from service.mock_idp.grants import user_of_open_id
from service.mock_idp.parameters import amount_parameter, text_parameter
from service.mock_idp.protocol import GatewayCall, GatewayMethod, parse_timestamp
from service.mock_idp.refunds import RefundRequest, refund_trade
from service.mock_idp.trade_records import (
    JSAPI_PAY,
    Trade,
    TradeOrder,
    TradeRefused,
    find_trade,
    invalid_trade_parameter,
)
from service.mock_idp.trade_wire import query_fields, refund_response_fields
from service.mock_idp.trades import close_if_expired, close_trade, create_trade

MAX_TOTAL_FEN = 100_000_000 * 100
_OUT_TRADE_NO = re.compile(r"^[A-Za-z0-9_]{1,64}$")
_TIMEOUT_EXPRESS = re.compile(r"^([1-9]\d{0,4})([mhd])$")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400}
MAX_WINDOW_SECONDS = 15 * 86400  # the platform's longest payment window


@overload  # required (the default): never None
def _text(call: GatewayCall, name: str, max_length: int, required: Literal[True] = ...) -> str: ...
@overload
def _text(call: GatewayCall, name: str, max_length: int, required: bool = ...) -> str | None: ...
def _text(call: GatewayCall, name: str, max_length: int, required: bool = True) -> str | None:
    return text_parameter(
        call.biz, name, max_length=max_length, required=required, refuse=invalid_trade_parameter
    )


def _buyer(call: GatewayCall) -> str:
    """The paying user from `buyer_id`, or from `buyer_open_id` as this app knows them."""
    user_id = _text(call, "buyer_id", 28, required=False)
    open_id = _text(call, "buyer_open_id", 128, required=False)
    if user_id:
        if call.store.get_user(user_id) is None:
            raise invalid_trade_parameter("买家不存在（buyer_id）")
        return user_id
    if open_id:
        found = user_of_open_id(call.store, call.app.app_id, open_id)
        if found is None:
            raise invalid_trade_parameter("买家不存在（buyer_open_id）")
        return found
    raise invalid_trade_parameter("买家不能为空：请传 buyer_id 或 buyer_open_id")


def _page_url(call: GatewayCall, name: str) -> str | None:
    url = call.params.get(name) or None
    if url is not None and not is_web_url(url):
        raise invalid_trade_parameter(f"{name} 必须是完整的 http(s) 地址")
    return url


def _expires_at(call: GatewayCall) -> float | None:
    """When the trade closes unpaid, from `time_expire` or `timeout_express`, or None."""
    absolute = _text(call, "time_expire", 19, required=False)
    if absolute:
        moment = parse_timestamp(absolute)
        if moment is None:
            raise invalid_trade_parameter("time_expire 格式应为 yyyy-MM-dd HH:mm:ss")
        expires_at = moment.timestamp()
    else:
        relative = _text(call, "timeout_express", 6, required=False)
        if not relative:
            return None
        found = _TIMEOUT_EXPRESS.match(relative)
        if found is None:
            raise invalid_trade_parameter("timeout_express 取值如 90m、2h、1d")
        expires_at = call.now + int(found[1]) * _UNIT_SECONDS[found[2]]
    if expires_at - call.now > MAX_WINDOW_SECONDS:
        raise invalid_trade_parameter("支付超时时间最长为 15 天")
    return expires_at


def trade_create(call: GatewayCall) -> dict[str, Any]:
    """A WAIT_BUYER_PAY trade for `my.tradePay`; `out_trade_no` makes a retry return the same."""
    out_trade_no = _text(call, "out_trade_no", 64)
    if not _OUT_TRADE_NO.match(out_trade_no):
        raise invalid_trade_parameter("out_trade_no 只能包含字母、数字、下划线，最长 64 位")
    total_fen = amount_parameter(
        call.biz, "total_amount", positive=False, refuse=invalid_trade_parameter
    )
    if not 0 < total_fen <= MAX_TOTAL_FEN:
        raise TradeRefused("ACQ.TOTAL_FEE_EXCEED", "订单总金额不在允许范围内 [0.01, 100000000]")
    subject = _text(call, "subject", 256)
    product_code = _text(call, "product_code", 64, required=False) or JSAPI_PAY
    if product_code != JSAPI_PAY:
        raise invalid_trade_parameter(f"product_code 只支持 {JSAPI_PAY}")
    order = TradeOrder(
        app_id=call.app.app_id,
        out_trade_no=out_trade_no,
        buyer_user_id=_buyer(call),
        subject=subject,
        total_fen=total_fen,
        product_code=product_code,
        notify_url=_page_url(call, "notify_url"),
        return_url=_page_url(call, "return_url"),
        expires_at=_expires_at(call),
    )
    trade = create_trade(call.store, order, call.now)
    return {"out_trade_no": trade.out_trade_no, "trade_no": trade.trade_no}


def _trade_of_call(call: GatewayCall) -> Trade:
    """The app's trade the call names, closed first if its payment window has passed."""
    trade = find_trade(
        call.store,
        call.app.app_id,
        trade_no=_text(call, "trade_no", 64, required=False),
        out_trade_no=_text(call, "out_trade_no", 64, required=False),
    )
    return close_if_expired(call.store, call.platform_key, trade, call.now)


def _buyer_profile(call: GatewayCall, trade: Trade) -> dict[str, Any]:
    return call.store.get_user(trade.buyer_user_id) or {"user_id": trade.buyer_user_id}


def trade_query(call: GatewayCall) -> dict[str, Any]:
    """The trade's status and amounts."""
    trade = _trade_of_call(call)
    return query_fields(call.app, trade, _buyer_profile(call, trade))


def trade_close(call: GatewayCall) -> dict[str, Any]:
    """Close an unpaid trade, which notifies TRADE_CLOSED."""
    trade = close_trade(call.store, call.platform_key, _trade_of_call(call).trade_no, call.now)
    return {"trade_no": trade.trade_no, "out_trade_no": trade.out_trade_no}


def trade_refund(call: GatewayCall) -> dict[str, Any]:
    """Refund part or all of a paid trade, once per `out_request_no`."""
    trade = _trade_of_call(call)
    refund_fen = amount_parameter(call.biz, "refund_amount", refuse=invalid_trade_parameter)
    request = RefundRequest(
        refund_fen=refund_fen,
        out_request_no=_text(call, "out_request_no", 64, required=False),
        reason=_text(call, "refund_reason", 256, required=False),
    )
    outcome = refund_trade(call.store, call.platform_key, trade, request, call.now)
    user = _buyer_profile(call, outcome.trade)
    return refund_response_fields(
        call.app, outcome.trade, user, outcome.refund, outcome.fund_change
    )


METHODS = (
    GatewayMethod("alipay.trade.create", trade_create),
    GatewayMethod("alipay.trade.query", trade_query),
    GatewayMethod("alipay.trade.close", trade_close),
    GatewayMethod("alipay.trade.refund", trade_refund),
)

"""Fund authorisation methods: unfreeze, operation detail query, and `trade.pay` against a hold.

`alipay.fund.auth.order.app.freeze` is a page API only: a browser opening its signed URL gets the
freeze cashier (freeze_page.py); a server calling it directly is refused, signed, with
`40002 isv.invalid-method`, since the platform only runs it through `my.tradePay`.
Business failures are 40004 with the platform's fund-authorisation sub_codes
(`AUTH_ORDER_NOT_EXIST`, `AUTH_OPERATION_NOT_EXIST`, `REQUEST_AMOUNT_EXCEED`,
`DISCORDANT_REPEAT_REQUEST`, `ORDER_ALREADY_CLOSED`, `ORDER_ALREADY_FINISH`); `trade.pay` uses
`ACQ.*` ones (`ACQ.TOTAL_FEE_EXCEED` over the rest, `ACQ.CONTEXT_INCONSISTENT` on a changed retry).
"""

from __future__ import annotations

import re
from typing import Any, Literal, overload

from service.gateway.money import fen_to_yuan
from service.mock_idp.authorize_page import is_web_url
from service.mock_idp.freeze_order import FREEZE_METHOD
from service.mock_idp.fund_auth import unfreeze
from service.mock_idp.fund_auth_pay import AuthPayRequest, pay_from_auth
from service.mock_idp.fund_auth_records import find_operation, find_order
from service.mock_idp.fund_auth_wire import operation_fields, unfreeze_fields
from service.mock_idp.grants import user_of_open_id
from service.mock_idp.parameters import amount_parameter, parameter_refusal, text_parameter
from service.mock_idp.protocol import GatewayCall, GatewayError, GatewayMethod, beijing_time
from service.mock_idp.trade_records import invalid_trade_parameter
from service.mock_idp.trade_wire import FUND_CHANNEL, buyer_ids, buyer_logon_id, seller_id

UNFREEZE_METHOD = "alipay.fund.auth.order.unfreeze"
DETAIL_QUERY_METHOD = "alipay.fund.auth.operation.detail.query"
PAY_METHOD = "alipay.trade.pay"
PAY_PRODUCT_CODES = ("PRE_AUTH_ONLINE", "PREAUTH_PAY", "PRE_AUTH")
COMPLETE, NOT_COMPLETE = "COMPLETE", "NOT_COMPLETE"
CREDIT_PREAUTH_PAY = "CREDIT_PREAUTH_PAY"
_OUT_NO = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def freeze_server_call(call: GatewayCall) -> dict[str, Any]:
    """Refuse a direct server call: the freeze runs only in the cashier, from `my.tradePay`."""
    raise GatewayError(
        "40002",
        "isv.invalid-method",
        f"{FREEZE_METHOD} 不能由服务端直接调用：请把签名后的 orderStr 交给小程序的 my.tradePay",
    )


@overload  # required (the default): never None
def _text(
    call: GatewayCall, name: str, max_length: int = ..., required: Literal[True] = ...
) -> str: ...
@overload
def _text(
    call: GatewayCall, name: str, max_length: int = ..., required: bool = ...
) -> str | None: ...
def _text(call: GatewayCall, name: str, max_length: int = 64, required: bool = True) -> str | None:
    return text_parameter(call.biz, name, max_length=max_length, required=required)


def fund_auth_unfreeze(call: GatewayCall) -> dict[str, Any]:
    """Release part of a hold once per out_request_no; answers this release's credit/fund split."""
    order = find_order(call.store, call.app.app_id, auth_no=_text(call, "auth_no"))
    out_request_no = _text(call, "out_request_no")
    if not _OUT_NO.match(out_request_no):
        raise parameter_refusal("out_request_no 只能包含字母、数字、下划线和连字符")
    amount_fen = amount_parameter(call.biz, "amount")
    notify_url = call.params.get("notify_url") or None
    if notify_url is not None and not is_web_url(notify_url):
        raise parameter_refusal("notify_url 必须是完整的 http(s) 地址")
    order, operation = unfreeze(
        call.store, call.platform_key, order, out_request_no, amount_fen, call.now,
        remark=_text(call, "remark", 100, required=False), notify_url=notify_url,
    )  # fmt: skip
    return unfreeze_fields(order, operation)


def operation_detail_query(call: GatewayCall) -> dict[str, Any]:
    """One operation (by operation_id or out_request_no) of an order, with the order's totals."""
    auth_no, out_order_no = (
        _text(call, "auth_no", required=False),
        _text(call, "out_order_no", required=False),
    )
    operation_id = _text(call, "operation_id", required=False)
    out_request_no = _text(call, "out_request_no", required=False)
    if not (auth_no or out_order_no):
        raise parameter_refusal("auth_no 与 out_order_no 不能同时为空", missing=True)
    if not (operation_id or out_request_no):
        raise parameter_refusal("operation_id 与 out_request_no 不能同时为空", missing=True)
    order = find_order(call.store, call.app.app_id, auth_no=auth_no, out_order_no=out_order_no)
    operation = find_operation(
        call.store, order, operation_id=operation_id, out_request_no=out_request_no
    )
    return operation_fields(call.app, order, operation)


@overload
def _pay_text(
    call: GatewayCall, name: str, max_length: int, required: Literal[True] = ...
) -> str: ...
@overload
def _pay_text(
    call: GatewayCall, name: str, max_length: int, required: bool = ...
) -> str | None: ...
def _pay_text(call: GatewayCall, name: str, max_length: int, required: bool = True) -> str | None:
    return text_parameter(
        call.biz, name, max_length=max_length, required=required, refuse=invalid_trade_parameter
    )


def _pay_buyer(call: GatewayCall) -> str | None:
    """The buyer named by `buyer_id` or `buyer_open_id` (optional: the hold names its payer)."""
    user_id = _pay_text(call, "buyer_id", 28, required=False)
    open_id = _pay_text(call, "buyer_open_id", 128, required=False)
    if user_id:
        return user_id
    if open_id:
        found = user_of_open_id(call.store, call.app.app_id, open_id)
        if found is None:
            raise invalid_trade_parameter("买家不存在（buyer_open_id）")
        return found
    return None


def _pay_request(call: GatewayCall) -> AuthPayRequest:
    auth_no = _pay_text(call, "auth_no", 64, required=False)
    if not auth_no:
        raise invalid_trade_parameter(
            "mock 只支持对资金授权订单的支付（预授权转支付），auth_no 必填"
        )
    out_trade_no = _pay_text(call, "out_trade_no", 64)
    if not _OUT_NO.match(out_trade_no):
        raise invalid_trade_parameter("out_trade_no 只能包含字母、数字、下划线和连字符，最长 64 位")
    product_code = _pay_text(call, "product_code", 32, required=False) or PAY_PRODUCT_CODES[0]
    if product_code not in PAY_PRODUCT_CODES:
        raise invalid_trade_parameter(f"product_code 只支持 {'、'.join(PAY_PRODUCT_CODES)}")
    mode = _pay_text(call, "auth_confirm_mode", 16, required=False) or NOT_COMPLETE
    if mode not in (COMPLETE, NOT_COMPLETE):
        raise invalid_trade_parameter("auth_confirm_mode 只支持 COMPLETE 或 NOT_COMPLETE")
    seller = _pay_text(call, "seller_id", 28, required=False)
    if seller and seller != seller_id(call.app.app_id):
        raise invalid_trade_parameter("seller_id 与应用的收款账户不一致")
    total_fen = amount_parameter(call.biz, "total_amount", refuse=invalid_trade_parameter)
    notify_url = call.params.get("notify_url") or None
    if notify_url is not None and not is_web_url(notify_url):
        raise invalid_trade_parameter("notify_url 必须是完整的 http(s) 地址")
    return AuthPayRequest(
        app_id=call.app.app_id,
        auth_no=auth_no,
        out_trade_no=out_trade_no,
        total_fen=total_fen,
        subject=_pay_text(call, "subject", 256),
        buyer_user_id=_pay_buyer(call),
        complete=mode == COMPLETE,
        product_code=product_code,
        notify_url=notify_url,
    )


def trade_pay(call: GatewayCall) -> dict[str, Any]:
    """Pay from a hold; `auth_trade_pay_mode` says when waived credit paid part of it."""
    payment = pay_from_auth(call.store, call.platform_key, _pay_request(call), call.now)
    trade, operation = payment.trade, payment.operation
    user = call.store.get_user(trade.buyer_user_id) or {"user_id": trade.buyer_user_id}
    paid = fen_to_yuan(trade.total_fen)
    assert trade.paid_at is not None, "pay_from_auth answers a paid trade"
    fields: dict[str, Any] = {
        "trade_no": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
        "buyer_logon_id": buyer_logon_id(user),
        **buyer_ids(call.app, trade.buyer_user_id, "buyer_user_id"),
        "total_amount": paid,
        "receipt_amount": paid,
        "buyer_pay_amount": paid,
        "invoice_amount": paid,
        "gmt_payment": beijing_time(trade.paid_at),
        "fund_bill_list": [{"fund_channel": FUND_CHANNEL, "amount": paid}],
    }
    if operation.credit_fen:
        fields["auth_trade_pay_mode"] = CREDIT_PREAUTH_PAY
    return fields


METHODS = (
    GatewayMethod(FREEZE_METHOD, freeze_server_call),
    GatewayMethod(UNFREEZE_METHOD, fund_auth_unfreeze),
    GatewayMethod(DETAIL_QUERY_METHOD, operation_detail_query),
    GatewayMethod(PAY_METHOD, trade_pay),
)

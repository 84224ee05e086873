"""The freeze orderStr: a merchant's signed `alipay.fund.auth.order.app.freeze` for `my.tradePay`.

The server never sends it to the gateway: the mini-program hands it to the cashier, which checks
it exactly as `gateway.do` checks a call (app, common parameters, RSA2 signature with the app's
registered key) before showing or confirming anything, so a tampered orderStr freezes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit

from service.gateway.signing import compact_json
from service.mock_idp.authorize_page import is_web_url
from service.mock_idp.fund_auth_records import FreezeRequest
from service.mock_idp.grants import latest_grantor
from service.mock_idp.parameters import (
    amount_parameter,
    business_parameters,
    nested_object,
    parameter_refusal,
    text_parameter,
)
from service.mock_idp.protocol import GatewayError, check_signed_request
from service.mock_idp.store import MockStore

FREEZE_METHOD = "alipay.fund.auth.order.app.freeze"
PRE_AUTH_ONLINE = "PRE_AUTH_ONLINE"
ZHIMA_SCOPE = "auth_zhima"
PRODUCT_CODES = (PRE_AUTH_ONLINE, "PRE_AUTH")
MAX_AMOUNT_FEN = 100_000_000 * 100
_PAY_TIMEOUT = re.compile(r"^(\d{1,4}[mhd]|1c)$")
_OUT_NO = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class OrderStrInvalid(Exception):
    """An orderStr the cashier refuses: unreadable, unsigned, tampered or not a freeze."""

    def __init__(self, message: str, sub_code: str | None = None):
        super().__init__(message)
        self.sub_code = sub_code


def order_parameters(order_str: str) -> dict[str, str]:
    """The parameters of an orderStr (or of a whole `…/gateway.do?…` URL carrying one)."""
    text = (order_str or "").strip()
    if text.startswith(("http://", "https://")):
        text = urlsplit(text).query
    params = dict(parse_qsl(text, keep_blank_values=True))
    if not params:
        raise OrderStrInvalid("order_str is empty or not URL-encoded parameters")
    return params


def verified_freeze(store: MockStore, params: Mapping[str, str], now: float) -> FreezeRequest:
    """The freeze an orderStr asks for, once it passes every check gateway.do makes."""
    app = store.get_app(params.get("app_id"))
    try:
        app = check_signed_request(params, app, now, store.settings()["timestamp_skew_seconds"])
        if params.get("method") != FREEZE_METHOD:
            raise parameter_refusal(f"orderStr 的 method 必须是 {FREEZE_METHOD}")
        return freeze_request(params, app.app_id)
    except GatewayError as error:
        raise OrderStrInvalid(
            f"{error.code} {error.sub_code}: {error.sub_msg}", error.sub_code
        ) from None


def freeze_request(params: Mapping[str, str], app_id: str) -> FreezeRequest:
    """The business parameters of a verified freeze, checked for shape (40001/40002 otherwise)."""
    biz = business_parameters(params)
    out_order_no = text_parameter(biz, "out_order_no", max_length=64)
    out_request_no = text_parameter(biz, "out_request_no", max_length=64)
    for name, value in (("out_order_no", out_order_no), ("out_request_no", out_request_no)):
        if not _OUT_NO.match(value):
            raise parameter_refusal(f"{name} 只能包含字母、数字、下划线和连字符")
    amount_fen = amount_parameter(biz, "amount")
    if amount_fen > MAX_AMOUNT_FEN:
        raise parameter_refusal("amount 不能超过 100000000 元")
    product_code = text_parameter(biz, "product_code", max_length=32, required=False)
    if (product_code or PRE_AUTH_ONLINE) not in PRODUCT_CODES:
        raise parameter_refusal(f"product_code 只支持 {PRE_AUTH_ONLINE}")
    pay_timeout = text_parameter(biz, "pay_timeout", max_length=8, required=False)
    if pay_timeout is not None and not _PAY_TIMEOUT.match(pay_timeout):
        raise parameter_refusal("pay_timeout 格式应为 15m、2h、1d 或 1c")
    extra = nested_object(biz, "extra_param")
    return FreezeRequest(
        app_id=app_id,
        out_order_no=out_order_no,
        out_request_no=out_request_no,
        order_title=text_parameter(biz, "order_title", max_length=64),
        amount_fen=amount_fen,
        product_code=product_code or PRE_AUTH_ONLINE,
        extra_param=None if extra is None else compact_json(extra),
        notify_url=_web_url(params, "notify_url"),
        return_url=_web_url(params, "return_url"),
    )


def _web_url(params: Mapping[str, str], name: str) -> str | None:
    url = params.get(name) or None
    if url is not None and not is_web_url(url):
        raise parameter_refusal(f"{name} 必须是完整的 http(s) 地址")
    return url


def default_payer(store: MockStore, app_id: str) -> str | None:
    """Who pays when nobody is named: the wallet's user, i.e. the latest `auth_zhima` grantor."""
    return latest_grantor(store, app_id, ZHIMA_SCOPE)
